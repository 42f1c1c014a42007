//! A custom EventBridge bus in moto with a rule from it to an SQS queue: what a team's
//! backend would subscribe with, to receive the events exactly as EventBridge delivers them.

use crate::aws_calls::AwsCalls;
use crate::world::unique;
use aws_config::SdkConfig;
use serde_json::Value;
use std::sync::Arc;
use unipile_connect::adapters::eventbridge::{EVENT_SOURCE, EventBridgePublisher};

pub struct EventBusTap {
    pub bus: String,
    pub queue_url: String,
    pub eventbridge: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
}

impl EventBusTap {
    /// A new bus, a queue, and a rule on the bus sending every event of ours to the queue.
    pub async fn create(aws: &SdkConfig, calls: &AwsCalls) -> Self {
        let eventbridge = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(aws)
                .interceptor(calls.interceptor())
                .build(),
        );
        let bus = unique("account-events");
        eventbridge
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .expect("event bus in moto");
        Self::subscribe(aws, eventbridge, bus).await
    }

    /// A queue and a rule sending every event of ours on an existing bus (a deployed
    /// stack's) to it, as docs/events.md shows a team's backend doing.
    pub async fn on(aws: &SdkConfig, bus: &str) -> Self {
        Self::subscribe(aws, aws_sdk_eventbridge::Client::new(aws), bus.to_owned()).await
    }

    async fn subscribe(
        aws: &SdkConfig,
        eventbridge: aws_sdk_eventbridge::Client,
        bus: String,
    ) -> Self {
        let sqs = aws_sdk_sqs::Client::new(aws);
        let queue_url = sqs
            .create_queue()
            .queue_name(unique("account-events"))
            .send()
            .await
            .expect("queue in moto")
            .queue_url
            .expect("queue URL");
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .expect("queue ARN");
        let rule = unique("to-queue");
        eventbridge
            .put_rule()
            .name(&rule)
            .event_bus_name(&bus)
            .event_pattern(serde_json::json!({"source": [EVENT_SOURCE]}).to_string())
            .send()
            .await
            .expect("rule");
        eventbridge
            .put_targets()
            .rule(&rule)
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("target set");
        Self {
            bus,
            queue_url,
            eventbridge,
            sqs,
        }
    }

    /// The publisher the functions use, on this bus.
    pub fn publisher(&self) -> Arc<EventBridgePublisher> {
        Arc::new(EventBridgePublisher::new(
            self.eventbridge.clone(),
            self.bus.clone(),
        ))
    }

    /// Every EventBridge envelope the queue received since the last call, in order.
    pub async fn received(&self) -> Vec<Value> {
        let mut envelopes = Vec::new();
        loop {
            let answer = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("received");
            let messages = answer.messages.unwrap_or_default();
            if messages.is_empty() {
                return envelopes;
            }
            for message in messages {
                let body = message.body.as_deref().unwrap_or("{}");
                envelopes.push(serde_json::from_str(body).expect("an EventBridge envelope"));
                if let Some(receipt) = message.receipt_handle {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .expect("deleted");
                }
            }
        }
    }

    /// The events received (each envelope's `detail`), with their `detail-type` checked
    /// against the event's own `type`.
    pub async fn events(&self) -> Vec<Value> {
        self.received()
            .await
            .into_iter()
            .map(|envelope| {
                assert_eq!(envelope["source"], EVENT_SOURCE);
                let detail = envelope["detail"].clone();
                assert_eq!(envelope["detail-type"], detail["type"], "{envelope}");
                detail
            })
            .collect()
    }
}

/// What in `event` its type's schema (`infra/events/<type>.json`) refuses.
pub fn schema_problems(event: &Value) -> Vec<String> {
    let kind = event["type"].as_str().unwrap_or("(no type)");
    let path = format!("{}/../infra/events/{kind}.json", env!("CARGO_MANIFEST_DIR"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return vec![format!("no schema for {kind} ({path})")];
    };
    let schema: Value = serde_json::from_str(&text).expect("a JSON schema");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    validator
        .iter_errors(event)
        .map(|e| format!("{kind} {}: {e}", e.instance_path()))
        .collect()
}
