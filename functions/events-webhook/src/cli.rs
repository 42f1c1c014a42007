//! The operator's CLI for the event webhooks' dead-letter queue: the events the team's
//! endpoint refused on every try are listed, sent again, or let go. Nothing is deleted from
//! the queue before it is delivered (or drained on purpose).

use std::collections::HashMap;
use std::ffi::OsString;
use std::process::ExitCode;
use unipile_connect::config::{self, ConfigError};
use unipile_connect::deps;
use unipile_connect::flows::dead_letters::{self, Action};
use unipile_connect::flows::event_webhooks::{
    self, HandledLetter, LetterDone, LetterHandling, WebhookSender,
};
use unipile_connect::ports::{DeadLetterQueue, QueueError};
use unipile_connect::runtime;

pub const USAGE: &str = "\
The lifecycle events the team's webhook endpoint refused on every try (more than a day of
tries), waiting in the dead-letter queue.

Usage:
  events-webhook dead-letters list [--limit N]
      Shows each waiting event (type, id, account). Changes nothing.
  events-webhook dead-letters replay [--limit N]
      Sends each event again now, signed now; one delivered leaves the queue, one refused
      again stays.
  events-webhook dead-letters drain [--limit N]
      Lets each event go without sending it (once your backend caught up through
      GET /service/events, say).
  events-webhook --help

  --limit N   handle at most N messages (default 100)

Exit code 1 when an event failed again or the queue could not be read, 2 on a usage error.

Environment:
  DEAD_LETTER_QUEUE_URL    the stack's EventsWebhookDeadLetterQueueUrl output
  for replay, EVENTS_WEBHOOK_URL and EVENTS_WEBHOOK_SECRET (or SECRETS_ARN naming the secret
  that holds it) as the function has them; `scripts/stack.sh event-dead-letters ...` sets
  all of it from the deployed stack.

Without arguments the binary serves Lambda invocations (the delivery queue's batches).";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    DeadLetters { action: Action, limit: usize },
    Help,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0} (see events-webhook --help)")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The report is printed on stderr with the error, so nothing handled goes unseen.
    #[error("{failed} of {handled} dead letters failed again and stay queued:\n{report}")]
    SomeFailed {
        failed: usize,
        handled: usize,
        report: String,
    },
}

pub fn parse(args: &[String]) -> Result<Command, CliError> {
    Ok(
        match dead_letters::parse_command(args).map_err(CliError::Usage)? {
            Some((action, limit)) => Command::DeadLetters { action, limit },
            None => Command::Help,
        },
    )
}

/// One line per event, then a summary. Fails when any event failed again.
pub fn report(action: Action, handled: &[HandledLetter]) -> Result<String, CliError> {
    let mut lines: Vec<String> = handled.iter().map(event_webhooks::describe).collect();
    let failed = handled.iter().filter(|h| h.result.is_err()).count();
    let kept = handled
        .iter()
        .filter(|h| matches!(h.result, Ok(LetterDone::Kept)))
        .count();
    lines.push(dead_letters::summary(action, handled.len(), failed, kept));
    let text = lines.join("\n");
    if failed > 0 {
        return Err(CliError::SomeFailed {
            failed,
            handled: handled.len(),
            report: text,
        });
    }
    Ok(text)
}

pub async fn handle(
    queue: &dyn DeadLetterQueue,
    sender: Option<WebhookSender<'_>>,
    action: Action,
    limit: usize,
) -> Result<String, CliError> {
    let handling = match (action, sender) {
        (Action::List, _) => LetterHandling::List,
        (Action::Drain, _) => LetterHandling::Drain,
        (Action::Replay, Some(sender)) => LetterHandling::Replay(sender),
        (Action::Replay, None) => {
            return Err(CliError::Usage(
                "replay needs EVENTS_WEBHOOK_URL and EVENTS_WEBHOOK_SECRET".into(),
            ));
        }
    };
    let handled = event_webhooks::handle_dead_letters(queue, handling, limit).await?;
    report(action, &handled)
}

/// Runs `args` (without the program name) with the settings in `env` (plus `SECRETS_ARN`).
pub async fn execute(args: &[String], env: HashMap<String, String>) -> Result<String, CliError> {
    let Command::DeadLetters { action, limit } = parse(args)? else {
        return Ok(USAGE.to_owned());
    };
    unipile_connect::metrics::silence();
    let aws = config::aws_sdk_config(&env).await;
    let queue = deps::dead_letter_queue(&env, &aws)?;
    let webhook = match action {
        Action::Replay => {
            let env = config::with_secrets(env).await?;
            Some(config::events_webhook(&env)?.ok_or(ConfigError::Missing("EVENTS_WEBHOOK_URL"))?)
        }
        Action::List | Action::Drain => None,
    };
    let sender = webhook
        .as_ref()
        .map(|(endpoint, secrets)| WebhookSender { endpoint, secrets });
    handle(&queue, sender, action, limit).await
}

/// The process's CLI (see [`runtime::run_command`] for what it prints and its exit codes).
pub async fn run(args: Vec<OsString>) -> ExitCode {
    runtime::run_command("events-webhook", args, |args, env| async move {
        execute(&args, env).await
    })
    .await
}

impl runtime::CommandError for CliError {
    fn is_usage(&self) -> bool {
        matches!(self, Self::Usage(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unipile_connect::adapters::sqs::MemoryDeadLetters;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn help_needs_no_configuration_and_what_is_missing_is_named() {
        let help = execute(&args(&["--help"]), HashMap::new())
            .await
            .expect("help");
        assert!(help.contains("events-webhook dead-letters replay"));
        let error = execute(&args(&["dead-letters", "list"]), HashMap::new())
            .await
            .expect_err("no queue");
        assert_eq!(error.to_string(), "DEAD_LETTER_QUEUE_URL is not set");
        assert!(matches!(
            parse(&args(&["dead-letters", "purge"])),
            Err(CliError::Usage(_))
        ));
    }

    #[tokio::test]
    async fn listing_keeps_every_event_and_replay_without_an_endpoint_is_refused() {
        let queue = MemoryDeadLetters::default();
        queue.push(r#"{"id":"evt_0000000001000_abcdef012345","type":"account.deleted","timestamp":"t","data":{"account_id":"acc9"}}"#);
        let listed = handle(&queue, None, Action::List, 10).await.expect("list");
        assert!(listed.contains("account.deleted evt_0000000001000_abcdef012345 account acc9"));
        assert!(listed.ends_with("1 dead letters waiting"), "{listed}");
        assert_eq!(queue.waiting(), 1);
        assert!(matches!(
            handle(&queue, None, Action::Replay, 10).await,
            Err(CliError::Usage(_))
        ));
        let drained = handle(&queue, None, Action::Drain, 10)
            .await
            .expect("drain");
        assert!(drained.ends_with("1 drained, 0 failed again, 0 unreadable and kept"));
        assert_eq!(queue.waiting(), 0);
    }
}
