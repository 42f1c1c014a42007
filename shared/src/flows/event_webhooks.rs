//! Lifecycle events to the team's endpoint as signed webhooks: one try at a time, each signed
//! at the real time of sending; a failed try is held back for its back-off; after the last,
//! the event waits in a dead-letter queue for the operator (listed, sent again, or let go).

use super::dead_letters::{Disposition, Walked, walk};
use crate::domain::event_webhook::{SigningSecrets, UnreadableEvent, WebhookEvent, retry_delay};
use crate::ports::{
    DeadLetterQueue, DeliveryError, DeliveryQueue, QueueError, QueuedMessage, WebhookEndpoint,
};
use std::time::Duration;

/// Where and how events are sent.
#[derive(Clone, Copy)]
pub struct WebhookSender<'a> {
    pub endpoint: &'a dyn WebhookEndpoint,
    pub secrets: &'a SigningSecrets,
}

/// Seconds since the epoch by the machine's own clock, never a virtual one: receivers refuse
/// a `webhook-timestamp` more than five minutes from theirs.
fn real_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One try of `event`.
pub async fn send(sender: WebhookSender<'_>, event: &WebhookEvent) -> Result<(), DeliveryError> {
    let headers = event.headers(sender.secrets, real_now());
    sender.endpoint.post(&headers, &event.body).await
}

/// What became of try number `attempt` (1 for the first) of one queued event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryOutcome {
    Delivered,
    /// Failed: the next try after this long.
    RetryIn(Duration, String),
    /// The last try failed: the event goes to the dead-letter queue.
    Exhausted(String),
    /// Not an event we can send: kept, and after its tries, dead-lettered for the operator.
    Unreadable(UnreadableEvent),
}

/// Tries to send the queued message `body` (an event, or its EventBridge envelope).
pub async fn try_queued(sender: WebhookSender<'_>, body: &str, attempt: u32) -> TryOutcome {
    let event = match WebhookEvent::read(body) {
        Ok(event) => event,
        Err(unreadable) => {
            tracing::error!(attempt, error = %unreadable, "a queued webhook holds no event: kept for the operator");
            return TryOutcome::Unreadable(unreadable);
        }
    };
    match send(sender, &event).await {
        Ok(()) => {
            tracing::info!(event_id = %event.id, event_type = %event.kind, account_id = event.account_id.as_deref().unwrap_or("-"), attempt, "event webhook delivered");
            TryOutcome::Delivered
        }
        Err(error) => {
            crate::metrics::count("EventWebhookFailed");
            let reason = error.to_string();
            match retry_delay(attempt) {
                Some(delay) => {
                    tracing::warn!(event_id = %event.id, event_type = %event.kind, attempt, retry_in_s = delay.as_secs(), %error, "event webhook failed: tried again later");
                    TryOutcome::RetryIn(delay, reason)
                }
                None => {
                    tracing::error!(event_id = %event.id, event_type = %event.kind, attempt, %error, "event webhook failed its last try: kept in the dead-letter queue");
                    TryOutcome::Exhausted(reason)
                }
            }
        }
    }
}

/// One message of the delivery queue, as the function receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTry {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    /// How many times the queue handed it out, this time included: the try's number.
    pub receive_count: u32,
}

/// Tries every message of a batch at once; the ids of those that failed (each held back for
/// its back-off first), which stay in the queue.
pub async fn deliver_batch(
    sender: WebhookSender<'_>,
    queue: &dyn DeliveryQueue,
    batch: &[QueuedTry],
) -> Vec<String> {
    let outcomes = futures_util::future::join_all(
        batch
            .iter()
            .map(|message| try_queued(sender, &message.body, message.receive_count.max(1))),
    )
    .await;
    let mut failed = Vec::new();
    for (message, outcome) in batch.iter().zip(outcomes) {
        let delay = match outcome {
            TryOutcome::Delivered => continue,
            TryOutcome::RetryIn(delay, _) => Some(delay),
            // The queue's own visibility timeout brings it back once more, and that receive
            // moves it to the dead-letter queue (maxReceiveCount is the number of tries).
            TryOutcome::Exhausted(_) => None,
            TryOutcome::Unreadable(_) => retry_delay(message.receive_count.max(1)),
        };
        if let Some(delay) = delay
            && let Err(error) = queue.postpone(&message.receipt, delay).await
        {
            // Back sooner than planned (the queue's visibility timeout): one early try more.
            tracing::warn!(message_id = %message.message_id, %error, "a failed webhook could not be held back for its back-off");
        }
        failed.push(message.message_id.clone());
    }
    failed
}

/// What to do with the events in the dead-letter queue.
#[derive(Clone, Copy)]
pub enum LetterHandling<'a> {
    /// Shows what waits; changes nothing.
    List,
    /// Sends each again now (signed now); one delivered leaves the queue, one that fails stays.
    Replay(WebhookSender<'a>),
    /// Lets each go without sending it (the team caught up through the feed).
    Drain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LetterDone {
    Kept,
    Delivered,
    Drained,
}

/// One dead letter: the event it holds (or why none), and what became of it.
pub type HandledLetter = Walked<Result<WebhookEvent, UnreadableEvent>, LetterDone>;

/// Handles up to `limit` dead letters. Fails only when the queue cannot be read.
pub async fn handle_dead_letters(
    queue: &dyn DeadLetterQueue,
    handling: LetterHandling<'_>,
    limit: usize,
) -> Result<Vec<HandledLetter>, QueueError> {
    walk(queue, limit, move |message: QueuedMessage| async move {
        let event = WebhookEvent::read(&message.body);
        let result = match (handling, &event) {
            (LetterHandling::List, _) => Ok(Disposition::Keep(LetterDone::Kept)),
            (LetterHandling::Drain, _) => Ok(Disposition::Remove(LetterDone::Drained)),
            (LetterHandling::Replay(_), Err(unreadable)) => Err(unreadable.to_string()),
            (LetterHandling::Replay(sender), Ok(event)) => match send(sender, event).await {
                Ok(()) => Ok(Disposition::Remove(LetterDone::Delivered)),
                Err(error) => Err(error.to_string()),
            },
        };
        (event, result)
    })
    .await
}

/// One line per dead letter, for the operator.
pub fn describe(handled: &HandledLetter) -> String {
    let message = &handled.message;
    let sent = message
        .sent_at
        .map_or_else(|| "?".to_owned(), |t| t.to_rfc3339());
    let what = match &handled.letter {
        Ok(event) => format!(
            "{} {} account {}",
            event.kind,
            event.id,
            event.account_id.as_deref().unwrap_or("-")
        ),
        Err(unreadable) => format!("{unreadable}: {}", message.body),
    };
    let result = match &handled.result {
        Ok(LetterDone::Kept) => "kept".to_owned(),
        Ok(LetterDone::Delivered) => "delivered".to_owned(),
        Ok(LetterDone::Drained) => "drained".to_owned(),
        Err(error) => format!("FAILED, kept: {error}"),
    };
    format!(
        "{}  sent {sent}  taken {}x  {what}  -> {result}",
        message.id, message.receive_count
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::sqs::MemoryDeadLetters;
    use crate::domain::event_webhook::ATTEMPTS;
    use async_trait::async_trait;
    use std::sync::Mutex;

    const SECRET: &str = "whsec_bmV2ZXItbG9nZ2VkLXRlc3Qtc2lnbmluZy1rZXk=";

    /// An endpoint that answers each try from a script (then 200), keeping what it got.
    type Sent = (Vec<(&'static str, String)>, String);

    #[derive(Default)]
    struct Endpoint {
        answers: Mutex<Vec<Result<(), DeliveryError>>>,
        got: Mutex<Vec<Sent>>,
    }

    #[async_trait]
    impl WebhookEndpoint for Endpoint {
        async fn post(
            &self,
            headers: &[(&'static str, String)],
            body: &str,
        ) -> Result<(), DeliveryError> {
            self.got
                .lock()
                .expect("lock")
                .push((headers.to_vec(), body.to_owned()));
            let mut answers = self.answers.lock().expect("lock");
            if answers.is_empty() {
                Ok(())
            } else {
                answers.remove(0)
            }
        }
    }

    #[derive(Default)]
    struct Queue {
        postponed: Mutex<Vec<(String, Duration)>>,
    }

    #[async_trait]
    impl DeliveryQueue for Queue {
        async fn postpone(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
            self.postponed
                .lock()
                .expect("lock")
                .push((receipt.to_owned(), delay));
            Ok(())
        }
    }

    fn event(n: u32) -> String {
        serde_json::json!({
            "version": "0", "detail-type": "account.connected", "source": "unipile-connect",
            "detail": {
                "id": format!("evt_0000000001000_00000000000{n}"),
                "type": "account.connected",
                "timestamp": "2026-12-07T10:00:00Z",
                "data": {"account_id": format!("acc{n}"), "user_id": "u1", "sequence": 1}
            }
        })
        .to_string()
    }

    fn queued(n: u32, receive_count: u32) -> QueuedTry {
        QueuedTry {
            message_id: format!("m{n}"),
            receipt: format!("r{n}"),
            body: event(n),
            receive_count,
        }
    }

    #[tokio::test]
    async fn a_batch_sends_each_event_signed_and_holds_back_only_the_failed_ones() {
        let endpoint = Endpoint::default();
        *endpoint.answers.lock().expect("lock") = vec![
            Ok(()),
            Err(DeliveryError::Status(503)),
            Err(DeliveryError::Timeout),
        ];
        let secrets = SigningSecrets::parse(SECRET).expect("secret");
        let sender = WebhookSender {
            endpoint: &endpoint,
            secrets: &secrets,
        };
        let queue = Queue::default();
        let failed = deliver_batch(
            sender,
            &queue,
            &[queued(1, 1), queued(2, 3), queued(3, ATTEMPTS)],
        )
        .await;
        // join_all polls in order and the endpoint answers at once: answers follow the batch.
        assert_eq!(failed, vec!["m2".to_owned(), "m3".to_owned()]);
        assert_eq!(
            *queue.postponed.lock().expect("lock"),
            vec![("r2".to_owned(), retry_delay(3).expect("a wait"))],
            "the last try is not held back: it goes to the dead-letter queue"
        );
        let got = endpoint.got.lock().expect("lock");
        assert_eq!(got.len(), 3);
        for (headers, body) in got.iter() {
            let mut map = http::HeaderMap::new();
            for (name, value) in headers {
                map.insert(*name, value.parse().expect("header"));
            }
            standardwebhooks::Webhook::new(SECRET)
                .expect("key")
                .verify(body.as_bytes(), &map)
                .expect("signed by the specification");
            let sent: serde_json::Value = serde_json::from_str(body).expect("json");
            assert_eq!(map["webhook-id"], sent["id"].as_str().expect("id"));
            assert!(
                sent.get("detail").is_none(),
                "the event itself, not its envelope"
            );
        }
    }

    #[tokio::test]
    async fn each_try_of_one_event_keeps_its_id_and_is_signed_at_its_own_time() {
        let endpoint = Endpoint::default();
        *endpoint.answers.lock().expect("lock") = vec![Err(DeliveryError::Status(500))];
        let secrets = SigningSecrets::parse(SECRET).expect("secret");
        let sender = WebhookSender {
            endpoint: &endpoint,
            secrets: &secrets,
        };
        let first = try_queued(sender, &event(7), 1).await;
        assert!(matches!(first, TryOutcome::RetryIn(d, _) if d == Duration::from_secs(5)));
        let second = try_queued(sender, &event(7), 2).await;
        assert_eq!(second, TryOutcome::Delivered);
        let got = endpoint.got.lock().expect("lock").clone();
        let id = |i: usize| got[i].0.iter().find(|(n, _)| *n == "webhook-id").cloned();
        assert_eq!(id(0), id(1));
        assert!(matches!(
            try_queued(sender, "not json", 1).await,
            TryOutcome::Unreadable(_)
        ));
    }

    #[tokio::test]
    async fn dead_letters_are_listed_replayed_or_drained_and_only_done_ones_leave() {
        let queue = MemoryDeadLetters::default();
        queue.push(&event(1));
        queue.push(&event(2));
        queue.push("never-logged garbage");
        let listed = handle_dead_letters(&queue, LetterHandling::List, 100)
            .await
            .expect("list");
        assert_eq!(listed.len(), 3);
        assert_eq!(queue.waiting(), 3);
        assert!(describe(&listed[0]).contains("account.connected"));

        let endpoint = Endpoint::default();
        // The first event is refused again; the second goes through.
        *endpoint.answers.lock().expect("lock") = vec![Err(DeliveryError::Status(410))];
        let secrets = SigningSecrets::parse(SECRET).expect("secret");
        let sender = WebhookSender {
            endpoint: &endpoint,
            secrets: &secrets,
        };
        let replayed = handle_dead_letters(&queue, LetterHandling::Replay(sender), 100)
            .await
            .expect("replay");
        let results: Vec<_> = replayed.iter().map(|h| h.result.clone()).collect();
        assert_eq!(
            results,
            vec![
                Err("the endpoint answered 410".to_owned()),
                Ok(LetterDone::Delivered),
                Err("not a lifecycle event: not JSON (line 1, column 2)".to_owned()),
            ]
        );
        assert_eq!(queue.waiting(), 2);

        let drained = handle_dead_letters(&queue, LetterHandling::Drain, 1)
            .await
            .expect("drain");
        assert_eq!(drained.len(), 1);
        assert_eq!(queue.waiting(), 1, "the limit is kept");
    }
}
