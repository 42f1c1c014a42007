//! The local stack's signed webhooks to `EVENTS_WEBHOOK_URL`, as the stack's rule, queue and
//! `events-webhook` send them on AWS: every published event is sent signed with
//! `EVENTS_WEBHOOK_SECRET`; a failed try is tried again after its back-off on the virtual
//! clock (so `/_local/clock/advance` moves retries on), while `webhook-timestamp` stays the
//! real time of sending; after the last try the event waits in a dead-letter queue that
//! `/_local/webhooks/dead-letters/{list,replay,drain}` handles with the operator command's
//! own code.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use unipile_connect::adapters::clock::OffsetClock;
use unipile_connect::adapters::memory::MemoryEvents;
use unipile_connect::adapters::sqs::MemoryDeadLetters;
use unipile_connect::adapters::webhook_endpoint::HttpWebhookEndpoint;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::domain::event_webhook::SigningSecrets;
use unipile_connect::flows::dead_letters::Action;
use unipile_connect::flows::event_webhooks::{TryOutcome, WebhookSender, try_queued};
use unipile_connect::ports::Clock;

pub struct LocalWebhooks {
    endpoint: HttpWebhookEndpoint,
    secrets: SigningSecrets,
    /// The bus: every event published, in order.
    events: Arc<MemoryEvents>,
    clock: Arc<OffsetClock>,
    queue: Mutex<Queue>,
    dead_letters: MemoryDeadLetters,
    /// One run at a time, so that an event is never tried twice at once.
    running: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Queue {
    /// How many of the bus's events are already queued.
    taken: usize,
    waiting: Vec<Waiting>,
}

/// An event waiting for its next try.
#[derive(Debug, Clone, Serialize)]
struct Waiting {
    event_id: String,
    event_type: String,
    /// Tries made so far.
    tries: u32,
    due: DateTime<Utc>,
    last_error: Option<String>,
    #[serde(skip)]
    body: String,
}

impl LocalWebhooks {
    /// `None` without `EVENTS_WEBHOOK_URL`.
    pub fn from_env(
        env: &dyn EnvSource,
        events: Arc<MemoryEvents>,
        clock: Arc<OffsetClock>,
    ) -> Result<Option<Self>, ConfigError> {
        Ok(
            config::events_webhook(env)?.map(|(endpoint, secrets)| Self {
                endpoint,
                secrets,
                events,
                clock,
                queue: Mutex::default(),
                dead_letters: MemoryDeadLetters::default(),
                running: tokio::sync::Mutex::new(()),
            }),
        )
    }

    fn sender(&self) -> WebhookSender<'_> {
        WebhookSender {
            endpoint: &self.endpoint,
            secrets: &self.secrets,
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues the events published since the last run, then tries every one that is due by
    /// the virtual clock, oldest first. What it did.
    pub async fn run(&self) -> Value {
        let _one = self.running.lock().await;
        let now = self.clock.now();
        let due: Vec<Waiting> = {
            let mut queue = self.queue();
            let published = self.events.published();
            for event in published.iter().skip(queue.taken) {
                let body = serde_json::to_string(event).unwrap_or_default();
                queue.waiting.push(Waiting {
                    event_id: event.id.as_str().to_owned(),
                    event_type: event.kind.as_str().to_owned(),
                    tries: 0,
                    due: now,
                    last_error: None,
                    body,
                });
            }
            queue.taken = published.len();
            let (due, later) = queue.waiting.drain(..).partition(|w| w.due <= now);
            queue.waiting = later;
            due
        };
        let (mut delivered, mut retrying, mut dead) = (0, 0, 0);
        for mut waiting in due {
            waiting.tries += 1;
            match try_queued(self.sender(), &waiting.body, waiting.tries).await {
                TryOutcome::Delivered => delivered += 1,
                TryOutcome::RetryIn(delay, reason) => {
                    retrying += 1;
                    waiting.due = now
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(1));
                    waiting.last_error = Some(reason);
                    self.queue().waiting.push(waiting);
                }
                TryOutcome::Exhausted(_) | TryOutcome::Unreadable(_) => {
                    dead += 1;
                    self.dead_letters.push(&waiting.body);
                }
            }
        }
        json!({"delivered": delivered, "retrying": retrying, "dead_lettered": dead})
    }

    /// What waits: the events between tries, and how many are in the dead-letter queue.
    pub fn status(&self) -> Value {
        let queue = self.queue();
        json!({
            "now": self.clock.now(),
            "waiting": queue.waiting,
            "dead_letters": self.dead_letters.waiting(),
        })
    }

    /// `list`, `replay` or `drain` on the dead-letter queue, exactly as
    /// `events-webhook dead-letters` does on AWS; its report, or its error.
    pub async fn dead_letters(&self, action: Action, limit: usize) -> Result<String, String> {
        let sender = (action == Action::Replay).then(|| self.sender());
        events_webhook::cli::handle(&self.dead_letters, sender, action, limit)
            .await
            .map_err(|e| e.to_string())
    }
}
