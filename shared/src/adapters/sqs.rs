//! The dead-letter queues (reconnect attempts, event webhooks) and the event webhooks' delivery
//! queue on Amazon SQS; a dead-letter queue in memory for tests and the local stack.

use crate::ports::{DeadLetterQueue, DeliveryQueue, QueueError, QueuedMessage};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

fn unavailable(error: impl std::fmt::Display) -> QueueError {
    QueueError(error.to_string())
}

#[async_trait]
impl DeadLetterQueue for SqsDeadLetters {
    async fn take(&self, hold: Duration) -> Result<Vec<QueuedMessage>, QueueError> {
        let answer = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(i32::try_from(hold.as_secs()).unwrap_or(i32::MAX))
            // Short polling would answer empty while messages wait on other servers.
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(answer
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                let attributes = message.attributes.unwrap_or_default();
                let number = |name: MessageSystemAttributeName| {
                    attributes.get(&name).and_then(|v| v.parse::<i64>().ok())
                };
                Some(QueuedMessage {
                    id: message.message_id?,
                    receipt: message.receipt_handle?,
                    body: message.body.unwrap_or_default(),
                    receive_count: number(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(1),
                    sent_at: number(MessageSystemAttributeName::SentTimestamp)
                        .and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
                })
            })
            .collect())
    }

    async fn delete(&self, message: &QueuedMessage) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(&message.receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))
    }

    async fn release(&self, message: &QueuedMessage) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(&message.receipt)
            .visibility_timeout(0)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))
    }
}

/// A queue in memory: messages are visible or taken; a take hides them until deleted or
/// released (holds never run out here: a test releases or deletes).
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    messages: Mutex<BTreeMap<u64, (String, u32, bool)>>,
}

impl MemoryDeadLetters {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, (String, u32, bool)>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, body: &str) {
        let mut messages = self.lock();
        let id = messages.keys().next_back().map_or(1, |last| last + 1);
        messages.insert(id, (body.to_owned(), 0, false));
    }

    /// Messages still in the queue, taken or not.
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    fn id_of(message: &QueuedMessage) -> Result<u64, QueueError> {
        message
            .receipt
            .parse()
            .map_err(|_| QueueError(format!("no such receipt {}", message.receipt)))
    }
}

#[async_trait]
impl DeadLetterQueue for MemoryDeadLetters {
    async fn take(&self, _hold: Duration) -> Result<Vec<QueuedMessage>, QueueError> {
        let mut messages = self.lock();
        Ok(messages
            .iter_mut()
            .filter(|(_, (_, _, taken))| !*taken)
            .take(10)
            .map(|(id, (body, count, taken))| {
                *taken = true;
                *count += 1;
                QueuedMessage {
                    id: format!("m-{id}"),
                    receipt: id.to_string(),
                    body: body.clone(),
                    receive_count: *count,
                    sent_at: DateTime::from_timestamp(0, 0),
                }
            })
            .collect())
    }

    async fn delete(&self, message: &QueuedMessage) -> Result<(), QueueError> {
        self.lock().remove(&Self::id_of(message)?);
        Ok(())
    }

    async fn release(&self, message: &QueuedMessage) -> Result<(), QueueError> {
        if let Some((_, _, taken)) = self.lock().get_mut(&Self::id_of(message)?) {
            *taken = false;
        }
        Ok(())
    }
}

/// The queue of event webhook deliveries on Amazon SQS: `events-webhook` holds a failed
/// try's message back for its back-off.
pub struct SqsDeliveryQueue {
    client: Client,
    queue_url: String,
}

impl SqsDeliveryQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl DeliveryQueue for SqsDeliveryQueue {
    async fn postpone(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            // SQS holds a message back 12 hours at most; the back-off never asks for more.
            .visibility_timeout(i32::try_from(delay.as_secs().min(43_200)).unwrap_or(43_200))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))
    }
}
