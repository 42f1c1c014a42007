//! The team's signed event webhooks. An EventBridge rule puts every lifecycle event of the
//! stack's bus in an SQS queue; this function receives them in batches, sends each to
//! `EVENTS_WEBHOOK_URL` signed per Standard Webhooks, and reports the ones that failed, each
//! held back for its back-off first (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: more than a day
//! in all). After its last try SQS moves an event to the dead-letter queue, where
//! `events-webhook dead-letters` ([`cli`]) lists, replays or drains it.

pub mod cli;

use lambda_http::Error;
use serde::Deserialize;
use serde_json::{Value, json};
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps;
use unipile_connect::domain::event_webhook::SigningSecrets;
use unipile_connect::flows::event_webhooks::{QueuedTry, WebhookSender, deliver_batch};
use unipile_connect::ports::{DeliveryQueue, WebhookEndpoint};

pub struct EventsWebhook {
    pub endpoint: Box<dyn WebhookEndpoint>,
    pub secrets: SigningSecrets,
    /// The delivery queue (`EVENTS_WEBHOOK_QUEUE_URL`): where a failed try waits its back-off.
    pub queue: Box<dyn DeliveryQueue>,
}

impl EventsWebhook {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let (endpoint, secrets) =
            config::events_webhook(&env)?.ok_or(ConfigError::Missing("EVENTS_WEBHOOK_URL"))?;
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            endpoint: Box::new(endpoint),
            secrets,
            queue: Box::new(deps::delivery_queue(&env, &aws)?),
        })
    }

    pub fn sender(&self) -> WebhookSender<'_> {
        WebhookSender {
            endpoint: self.endpoint.as_ref(),
            secrets: &self.secrets,
        }
    }
}

/// The parts of Lambda's SQS event this reads.
#[derive(Deserialize)]
struct SqsEvent {
    #[serde(rename = "Records", default)]
    records: Vec<SqsRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsRecord {
    message_id: String,
    receipt_handle: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    attributes: SqsAttributes,
}

#[derive(Deserialize, Default)]
struct SqsAttributes {
    #[serde(rename = "ApproximateReceiveCount", default)]
    receive_count: Option<String>,
}

/// Answers `{"batchItemFailures": [...]}` (the event source mapping reports item failures):
/// only the failed events come back, the delivered ones leave the queue.
pub async fn handler(app: &EventsWebhook, event: Value) -> Result<Value, Error> {
    let event: SqsEvent =
        serde_json::from_value(event).map_err(|e| Error::from(format!("not an SQS event: {e}")))?;
    let batch: Vec<QueuedTry> = event
        .records
        .into_iter()
        .map(|record| QueuedTry {
            message_id: record.message_id,
            receipt: record.receipt_handle,
            body: record.body,
            receive_count: record
                .attributes
                .receive_count
                .and_then(|n| n.parse().ok())
                .unwrap_or(1),
        })
        .collect();
    let failed = deliver_batch(app.sender(), app.queue.as_ref(), &batch).await;
    Ok(json!({
        "batchItemFailures": failed
            .into_iter()
            .map(|id| json!({"itemIdentifier": id}))
            .collect::<Vec<_>>()
    }))
}
