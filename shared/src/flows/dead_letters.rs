//! The reconnect dead-letter queue, handled (and the walk over a dead-letter queue that the
//! event webhooks' one shares): every failed attempt waiting there is listed, run
//! again, or ended with a word to the owner. A message leaves the queue only once what it
//! asked for is done; one that fails again, or that carries no attempt, goes back for the next
//! run and keeps the queue's alarm on.

use super::FlowError;
use super::follow_ups::FollowUpSettings;
use super::reconnect_retry::{AttemptOutcome, GiveUpOutcome, ReconnectPorts, give_up, run_attempt};
use crate::domain::dead_letter::{self, DeadLetter};
use crate::ports::{DeadLetterQueue, QueueError, QueuedMessage};
use std::collections::HashSet;
use std::time::Duration;

/// Longer than any attempt takes (a cookie login is at most 25 s), so a message being
/// handled is not taken by another reader meanwhile; short enough that a run that dies
/// leaves its messages to the next one soon.
pub const HOLD: Duration = Duration::from_secs(15 * 60);

/// What an operator asks of a dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    List,
    Replay,
    Drain,
}

/// How many messages a command handles unless told.
pub const DEFAULT_LIMIT: usize = 100;

/// `dead-letters list|replay|drain [--limit N]`, as every function's operator command reads
/// it; `None` when help was asked for (or nothing at all). The error is the usage problem.
pub fn parse_command(args: &[String]) -> Result<Option<(Action, usize)>, String> {
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "-h" | "--help" | "help"))
        || args.is_empty()
    {
        return Ok(None);
    }
    let [group, action, rest @ ..] = args else {
        return Err("dead-letters needs list, replay or drain".into());
    };
    if group != "dead-letters" {
        return Err(format!("unknown command {group:?}"));
    }
    let action = match action.as_str() {
        "list" => Action::List,
        "replay" => Action::Replay,
        "drain" => Action::Drain,
        other => return Err(format!("unknown dead-letters action {other:?}")),
    };
    let limit = match rest {
        [] => DEFAULT_LIMIT,
        [flag, value] if flag == "--limit" => value
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("--limit {value:?} is not a positive number"))?,
        _ => return Err(format!("unexpected arguments {rest:?}")),
    };
    Ok(Some((action, limit)))
}

/// The closing line of a run over `handled` messages, `failed` of which failed again and
/// `kept` of which were left as they were.
pub fn summary(action: Action, handled: usize, failed: usize, kept: usize) -> String {
    if handled == 0 {
        return "the dead-letter queue is empty".to_owned();
    }
    let verb = match action {
        Action::List => return format!("{handled} dead letters waiting"),
        Action::Replay => "replayed",
        Action::Drain => "drained",
    };
    format!(
        "{} {verb}, {failed} failed again, {kept} unreadable and kept",
        handled - failed - kept
    )
}

/// What to do with each dead letter, and what doing it needs.
#[derive(Clone, Copy)]
pub enum Handling<'a> {
    /// Shows what waits; changes nothing.
    List,
    /// Runs each attempt again, exactly as `reconnect-retry` would.
    Replay(ReconnectPorts<'a>, &'a FollowUpSettings),
    /// Ends each reconnect and tells its owner, as when the last attempt fails.
    Drain(ReconnectPorts<'a>, &'a FollowUpSettings),
}

/// One message of a dead-letter queue, handled: what it holds, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked<L, D> {
    pub message: QueuedMessage,
    pub letter: L,
    pub result: Result<D, String>,
}

/// What became of one reconnect attempt's message.
pub type Handled = Walked<DeadLetter, Done>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// Listed, or unreadable: left in the queue.
    Kept,
    /// Its attempt ran again (and was deleted from the queue).
    Replayed(AttemptOutcome),
    /// Its reconnect was ended (and it was deleted from the queue).
    Drained(GiveUpOutcome),
}

/// Handles up to `limit` messages. Fails only when the queue itself cannot be read; a message
/// whose handling fails is reported in its [`Handled`] and put back.
pub async fn handle(
    queue: &dyn DeadLetterQueue,
    handling: Handling<'_>,
    limit: usize,
) -> Result<Vec<Handled>, QueueError> {
    walk(queue, limit, move |message: QueuedMessage| async move {
        let letter = dead_letter::read(&message.body);
        let result = match handle_one(handling, &letter).await {
            Ok(Done::Kept) => Ok(Disposition::Keep(Done::Kept)),
            Ok(done) => Ok(Disposition::Remove(done)),
            Err(error) => Err(error.to_string()),
        };
        (letter, result)
    })
    .await
}

/// Whether a handled message leaves the queue.
pub enum Disposition<D> {
    Keep(D),
    /// Done: deleted from the queue.
    Remove(D),
}

/// Takes up to `limit` messages from `queue`, each once, and hands each to `each`: what it
/// says is removed is deleted, everything else (kept, or failed) is put back at the end,
/// visible again at once. Fails only when the queue itself cannot be read.
pub async fn walk<L, D, Each, Handling>(
    queue: &dyn DeadLetterQueue,
    limit: usize,
    mut each: Each,
) -> Result<Vec<Walked<L, D>>, QueueError>
where
    // A closure handed the message (a copy) rather than an async closure borrowing it: the
    // local stack serves this from a handler whose future must be `Send`, which an async
    // closure's borrow keeps the compiler from proving.
    Each: FnMut(QueuedMessage) -> Handling,
    Handling: std::future::Future<Output = (L, Result<Disposition<D>, String>)>,
{
    let mut handled = Vec::new();
    let mut kept = Vec::new();
    let mut seen = HashSet::new();
    let outcome = async {
        while handled.len() < limit {
            let batch = queue.take(HOLD).await?;
            if batch.is_empty() {
                break;
            }
            let mut fresh = false;
            for message in batch {
                // A message taken twice in one run was put back by another reader: once is
                // enough for this run.
                if !seen.insert(message.id.clone()) || handled.len() >= limit {
                    kept.push(message);
                    continue;
                }
                fresh = true;
                let (letter, result) = each(message.clone()).await;
                let result = match result {
                    Ok(Disposition::Keep(done)) => {
                        kept.push(message.clone());
                        Ok(done)
                    }
                    Ok(Disposition::Remove(done)) => match queue.delete(&message).await {
                        Ok(()) => Ok(done),
                        // Done but still queued: handling it again later is harmless (an
                        // attempt that moved on is skipped, an event repeats its id).
                        Err(error) => Err(format!("done, but not deleted from the queue: {error}")),
                    },
                    Err(error) => {
                        kept.push(message.clone());
                        Err(error)
                    }
                };
                handled.push(Walked {
                    message,
                    letter,
                    result,
                });
            }
            if !fresh {
                break;
            }
        }
        Ok::<(), QueueError>(())
    }
    .await;
    // What stays is visible again at once, to the alarm and to the next run.
    for message in &kept {
        if let Err(error) = queue.release(message).await {
            tracing::warn!(message_id = %message.id, %error, "dead letter not released: visible again when its hold ends");
        }
    }
    outcome.map(|()| handled)
}

async fn handle_one(handling: Handling<'_>, letter: &DeadLetter) -> Result<Done, FlowError> {
    let DeadLetter::Attempt { attempt, .. } = letter else {
        return Ok(Done::Kept);
    };
    match handling {
        Handling::List => Ok(Done::Kept),
        Handling::Replay(ports, settings) => run_attempt(ports, settings, attempt)
            .await
            .map(Done::Replayed),
        Handling::Drain(ports, settings) => {
            give_up(ports, settings, attempt).await.map(Done::Drained)
        }
    }
}

/// One line per message, for the operator.
pub fn describe(handled: &Handled) -> String {
    let message = &handled.message;
    let sent = message
        .sent_at
        .map_or_else(|| "?".to_owned(), |t| t.to_rfc3339());
    let what = match &handled.letter {
        DeadLetter::Attempt {
            attempt,
            reason,
            tries,
        } => format!(
            "account {} outage {} attempt {} (tries {}, why: {})",
            attempt.account_id,
            attempt.outage.as_deref().unwrap_or("-"),
            attempt.attempt,
            tries.map_or_else(|| "?".to_owned(), |t| t.to_string()),
            reason.as_deref().unwrap_or("?"),
        ),
        DeadLetter::Unreadable(why) => format!("unreadable ({why}): {}", message.body),
    };
    let result = match &handled.result {
        Ok(Done::Kept) => "kept".to_owned(),
        Ok(Done::Replayed(outcome)) => format!("replayed: {}", replayed(outcome)),
        Ok(Done::Drained(GiveUpOutcome::OwnerTold)) => "drained: owner told".to_owned(),
        Ok(Done::Drained(GiveUpOutcome::NothingWaiting(why))) => {
            format!("drained: nothing waiting ({why})")
        }
        Err(error) => format!("FAILED, kept: {error}"),
    };
    format!(
        "{}  sent {sent}  taken {}x  {what}  -> {result}",
        message.id, message.receive_count
    )
}

fn replayed(outcome: &AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::Skipped(why) => format!("nothing to do ({why})"),
        AttemptOutcome::Reconnected => "reconnected".into(),
        AttemptOutcome::Retrying { next_attempt } => {
            format!("failed again, attempt {next_attempt} scheduled")
        }
        AttemptOutcome::Exhausted => "last attempt failed, owner told".into(),
        AttemptOutcome::NeedsUser { checkpoint } => {
            format!("LinkedIn asks the user for a {checkpoint}: owner told")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryDeadLetters;
    use crate::testing::test_world::TestWorld;
    use serde_json::json;

    fn record(account: &str, outage: Option<&str>, attempt: u32) -> String {
        json!({
            "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"account_id": account, "outage": outage, "attempt": attempt},
            "responsePayload": {"errorMessage": "the key service is unavailable"}
        })
        .to_string()
    }

    #[derive(Clone, Copy)]
    enum Asked {
        List,
        Replay,
        Drain,
    }

    async fn run(world: &TestWorld, queue: &MemoryDeadLetters, asked: Asked) -> Vec<Handled> {
        let ports = world.reconnect_ports();
        let handling = match asked {
            Asked::List => Handling::List,
            Asked::Replay => Handling::Replay(ports, &world.settings),
            Asked::Drain => Handling::Drain(ports, &world.settings),
        };
        handle(queue, handling, 100).await.expect("queue readable")
    }

    #[tokio::test]
    async fn given_a_dead_attempt_when_listed_then_it_stays_and_nothing_runs() {
        let world = TestWorld::new();
        let (account, outage) = world.linkedin_reconnect_waiting_at(0).await;
        let queue = MemoryDeadLetters::default();
        queue.push(&record(account.as_str(), Some(&outage), 0));
        let handled = run(&world, &queue, Asked::List).await;
        assert_eq!(handled.len(), 1);
        assert_eq!(handled[0].result, Ok(Done::Kept));
        assert_eq!(queue.waiting(), 1, "still queued");
        assert!(world.world.unipile.cookie_logins().is_empty());
        assert!(describe(&handled[0]).contains(account.as_str()));
    }

    #[tokio::test]
    async fn given_a_dead_attempt_when_replayed_then_it_reconnects_and_leaves_the_queue() {
        let world = TestWorld::new();
        let (account, outage) = world.linkedin_reconnect_waiting_at(0).await;
        let queue = MemoryDeadLetters::default();
        queue.push(&record(account.as_str(), Some(&outage), 0));
        let handled = run(&world, &queue, Asked::Replay).await;
        assert_eq!(
            handled[0].result,
            Ok(Done::Replayed(AttemptOutcome::Reconnected))
        );
        assert_eq!(queue.waiting(), 0);
        assert_eq!(world.world.unipile.cookie_logins().len(), 1);
    }

    #[tokio::test]
    async fn given_a_replay_that_fails_again_then_the_message_goes_back() {
        let world = TestWorld::new();
        let (account, outage) = world.linkedin_reconnect_waiting_at(0).await;
        world.world.store.fail_next_writes(10);
        let queue = MemoryDeadLetters::default();
        queue.push(&record(account.as_str(), Some(&outage), 0));
        let handled = run(&world, &queue, Asked::Replay).await;
        assert!(handled[0].result.is_err(), "{:?}", handled[0].result);
        assert_eq!(queue.waiting(), 1, "kept for the next run");
        assert!(describe(&handled[0]).contains("FAILED, kept"));
    }

    #[tokio::test]
    async fn given_a_dead_attempt_when_drained_then_the_owner_is_told_once() {
        let world = TestWorld::new();
        let (account, outage) = world.linkedin_reconnect_waiting_at(1).await;
        let queue = MemoryDeadLetters::default();
        queue.push(&record(account.as_str(), Some(&outage), 1));
        queue.push(&record(account.as_str(), Some(&outage), 1));
        let logins = world.world.unipile.cookie_logins().len();
        let handled = run(&world, &queue, Asked::Drain).await;
        assert_eq!(
            handled[0].result,
            Ok(Done::Drained(GiveUpOutcome::OwnerTold))
        );
        assert_eq!(
            handled[1].result,
            Ok(Done::Drained(GiveUpOutcome::NothingWaiting(
                "stale attempt"
            ))),
            "the duplicate finds the reconnect over"
        );
        assert_eq!(queue.waiting(), 0);
        assert_eq!(world.world.mailer.sent().len(), 1, "one email");
        assert_eq!(
            world.world.unipile.cookie_logins().len(),
            logins,
            "not tried again"
        );
    }

    #[tokio::test]
    async fn an_attempt_of_an_outage_that_is_over_is_drained_without_a_word() {
        let world = TestWorld::new();
        let (account, _) = world.linkedin_reconnect_waiting_at(0).await;
        let queue = MemoryDeadLetters::default();
        queue.push(&record(account.as_str(), Some("an-old-outage"), 0));
        let handled = run(&world, &queue, Asked::Drain).await;
        assert_eq!(
            handled[0].result,
            Ok(Done::Drained(GiveUpOutcome::NothingWaiting(
                "another outage"
            )))
        );
        assert!(world.world.mailer.sent().is_empty());
    }

    #[tokio::test]
    async fn an_unreadable_message_is_shown_and_kept_whatever_the_handling() {
        let world = TestWorld::new();
        let queue = MemoryDeadLetters::default();
        queue.push("not json at all");
        for asked in [Asked::List, Asked::Replay, Asked::Drain] {
            let handled = run(&world, &queue, asked).await;
            assert_eq!(handled.len(), 1);
            assert_eq!(handled[0].result, Ok(Done::Kept));
            assert!(describe(&handled[0]).contains("not json at all"));
        }
        assert_eq!(queue.waiting(), 1);
    }

    #[tokio::test]
    async fn a_limit_leaves_the_rest_waiting() {
        let world = TestWorld::new();
        let queue = MemoryDeadLetters::default();
        for n in 0..5 {
            queue.push(&record(&format!("gone-{n}"), None, 0));
        }
        let replay = Handling::Replay(world.reconnect_ports(), &world.settings);
        let handled = handle(&queue, replay, 2).await.expect("read");
        assert_eq!(handled.len(), 2);
        assert_eq!(queue.waiting(), 3);
    }
}
