//! Lifecycle events on an Amazon EventBridge bus: one entry per event, `DetailType` the
//! event's type, `Detail` the event itself.

use super::lazy_client::LazyClient;
use crate::domain::events::LifecycleEvent;
use crate::ports::{EventPublisher, PublishError};
use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// The `Source` of every entry: what a rule matches on.
pub const EVENT_SOURCE: &str = "unipile-connect";

/// Entries one PutEvents call takes at most.
const BATCH: usize = 10;

/// Tries of the entries a PutEvents call refused (throttled, or failed inside EventBridge).
const TRIES: usize = 3;

pub struct EventBridgePublisher {
    client: LazyClient<Client>,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: impl Into<LazyClient<Client>>, bus: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            bus: bus.into(),
        }
    }

    fn entry(&self, event: &LifecycleEvent) -> Result<PutEventsRequestEntry, PublishError> {
        let detail =
            serde_json::to_string(event).map_err(|e| PublishError::Unavailable(e.to_string()))?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(event.kind.as_str())
            .detail(detail)
            .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(
                event.timestamp.timestamp_millis(),
            ))
            .build())
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    /// Batches of ten, in order; the entries a batch refused (PutEvents answers 200 with
    /// `FailedEntryCount`) are sent again, up to three tries, before the next batch.
    async fn publish(&self, events: &[LifecycleEvent]) -> Result<(), PublishError> {
        for batch in events.chunks(BATCH) {
            let mut waiting: Vec<PutEventsRequestEntry> = batch
                .iter()
                .map(|e| self.entry(e))
                .collect::<Result<_, _>>()?;
            let mut reason = String::new();
            for _ in 0..TRIES {
                let answer = self
                    .client
                    .get()
                    .put_events()
                    .set_entries(Some(waiting.clone()))
                    .send()
                    .await
                    .map_err(|e| {
                        PublishError::Unavailable(
                            aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string(),
                        )
                    })?;
                if answer.failed_entry_count == 0 {
                    waiting.clear();
                    break;
                }
                // Results come in the order of the entries: a failed one has an error code.
                let results = answer.entries.unwrap_or_default();
                let failed: Vec<PutEventsRequestEntry> = waiting
                    .iter()
                    .zip(results.iter().map(Some).chain(std::iter::repeat(None)))
                    .filter(|(_, result)| result.is_none_or(|r| r.error_code.is_some()))
                    .map(|(entry, _)| entry.clone())
                    .collect();
                reason = results
                    .iter()
                    .find_map(|r| r.error_code.clone())
                    .unwrap_or_else(|| "no reason given".into());
                waiting = failed;
                if waiting.is_empty() {
                    break;
                }
            }
            if !waiting.is_empty() {
                return Err(PublishError::Refused {
                    failed: waiting.len(),
                    total: events.len(),
                    reason,
                });
            }
        }
        Ok(())
    }
}
