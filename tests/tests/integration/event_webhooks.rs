//! Signed webhooks on AWS as the template builds them: a rule on the bus puts every event in
//! a queue (with the template's dead-letter queue after 8 receives), `events-webhook` takes
//! the queue's batches as Lambda hands them over, and the team's endpoint verifies every
//! delivery with the Standard Webhooks reference implementation for Python.

use crate::events::connect;
use crate::status_webhook::deliver;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use harness::webhook_receiver::{Received, WebhookReceiver};
use harness::world::{World, unique};
use serde_json::{Value, json};
use std::collections::HashMap;
use unipile_connect::adapters::eventbridge::EVENT_SOURCE;
use unipile_connect::domain::event_webhook::ATTEMPTS;

const CURRENT: &str = "whsec_Y3VycmVudC1uZXZlci1sb2dnZWQtc2lnbmluZy1rZXk=";
const NEXT: &str = "whsec_bmV4dC1uZXZlci1sb2dnZWQtc2lnbmluZy1rZXktMDE=";

/// The template's queues and rule, made with the SDK in moto.
struct WebhookQueues {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    dead_letters_url: String,
}

impl WebhookQueues {
    async fn on(world: &World) -> Self {
        let sqs = aws_sdk_sqs::Client::new(
            &unipile_connect::config::aws_sdk_config(&harness::world::aws_env(
                &world.moto_endpoint,
                &world.table,
            ))
            .await,
        );
        let create = |name: String, attributes: Vec<(QueueAttributeName, String)>| {
            let sqs = sqs.clone();
            async move {
                let mut request = sqs.create_queue().queue_name(name);
                for (key, value) in attributes {
                    request = request.attributes(key, value);
                }
                request.send().await.expect("queue").queue_url.expect("url")
            }
        };
        let arn = |url: String| {
            let sqs = sqs.clone();
            async move {
                sqs.get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(QueueAttributeName::QueueArn)
                    .send()
                    .await
                    .expect("attributes")
                    .attributes
                    .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
                    .expect("arn")
            }
        };
        let dead_letters_url = create(unique("webhook-dlq"), vec![]).await;
        let redrive = json!({"deadLetterTargetArn": arn(dead_letters_url.clone()).await,
                             "maxReceiveCount": ATTEMPTS})
        .to_string();
        let queue_url = create(
            unique("webhook-queue"),
            vec![(QueueAttributeName::RedrivePolicy, redrive)],
        )
        .await;
        let rule = unique("to-webhook");
        let eventbridge = &world.events.eventbridge;
        eventbridge
            .put_rule()
            .name(&rule)
            .event_bus_name(&world.events.bus)
            .event_pattern(json!({"source": [EVENT_SOURCE]}).to_string())
            .send()
            .await
            .expect("rule");
        eventbridge
            .put_targets()
            .rule(&rule)
            .event_bus_name(&world.events.bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("webhook-queue")
                    .arn(arn(queue_url.clone()).await)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("target set");
        Self {
            sqs,
            queue_url,
            dead_letters_url,
        }
    }

    /// What the event source mapping hands the function: the visible messages, as Lambda's
    /// SQS event (empty when none is visible).
    async fn batch(&self) -> (Value, Vec<String>) {
        let answer = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .expect("received");
        let messages = answer.messages.unwrap_or_default();
        let receipts = messages
            .iter()
            .filter_map(|m| m.receipt_handle.clone())
            .collect();
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let count = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .cloned()
                    .unwrap_or_else(|| "1".into());
                json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle,
                       "body": m.body, "attributes": {"ApproximateReceiveCount": count},
                       "eventSource": "aws:sqs"})
            })
            .collect();
        (json!({"Records": records}), receipts)
    }

    /// Lambda's part after an answer: the delivered messages are deleted; the failed stay.
    async fn settle(&self, event: &Value, answer: &Value) {
        let failed: Vec<&str> = answer["batchItemFailures"]
            .as_array()
            .expect("batch item failures")
            .iter()
            .filter_map(|f| f["itemIdentifier"].as_str())
            .collect();
        for record in event["Records"].as_array().into_iter().flatten() {
            if !failed.contains(&record["messageId"].as_str().unwrap_or_default()) {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(record["receiptHandle"].as_str().expect("receipt"))
                    .send()
                    .await
                    .expect("deleted");
            }
        }
    }

    /// The back-off the function asked for, over at once (the test does not wait hours).
    async fn time_passes(&self, receipts: &[String]) {
        for receipt in receipts {
            self.sqs
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await
                .expect("visible again");
        }
    }

    async fn waiting_dead_letters(&self) -> usize {
        self.sqs
            .get_queue_attributes()
            .queue_url(&self.dead_letters_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .expect("attributes")
            .attributes
            .and_then(|a| {
                a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                    .cloned()
            })
            .and_then(|n| n.parse().ok())
            .expect("count")
    }
}

fn function_env(
    world: &World,
    receiver: &WebhookReceiver,
    queues: &WebhookQueues,
) -> HashMap<String, String> {
    let mut env = harness::world::aws_env(&world.moto_endpoint, &world.table);
    env.insert("EVENTS_WEBHOOK_URL".into(), receiver.url.clone());
    env.insert("EVENTS_WEBHOOK_SECRET".into(), format!("{CURRENT} {NEXT}"));
    env.insert("EVENTS_WEBHOOK_QUEUE_URL".into(), queues.queue_url.clone());
    env.insert(
        "DEAD_LETTER_QUEUE_URL".into(),
        queues.dead_letters_url.clone(),
    );
    env
}

async fn run_once(
    function: &events_webhook::EventsWebhook,
    queues: &WebhookQueues,
) -> (usize, usize, Vec<String>) {
    let (event, receipts) = queues.batch().await;
    let total = event["Records"].as_array().map_or(0, Vec::len);
    if total == 0 {
        return (0, 0, receipts);
    }
    let answer = events_webhook::handler(function, event.clone())
        .await
        .expect("handled");
    queues.settle(&event, &answer).await;
    let failed = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
    (total, failed, receipts)
}

#[tokio::test]
async fn a_story_reaches_the_teams_endpoint_signed_twice_retried_with_its_id_then_dead_lettered_and_replayed()
 {
    let world = World::new().await;
    let queues = WebhookQueues::on(&world).await;
    let receiver = WebhookReceiver::start(&format!("{CURRENT} {NEXT}"));
    let env = function_env(&world, &receiver, &queues);
    let function = events_webhook::EventsWebhook::from_env(env.clone())
        .await
        .expect("configured");

    // A user's story, the endpoint down for the first try of each event.
    receiver.control(json!({"refuse_first": 1})).await;
    let user = unique("webhook-story");
    let id = connect(&world, &user).await;
    assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    assert_eq!(deliver(&world, &id, "OK").await, 200);
    let on_the_bus = world.events.events().await;
    assert_eq!(on_the_bus.len(), 4, "{on_the_bus:#?}");

    let (total, failed, receipts) = run_once(&function, &queues).await;
    assert_eq!((total, failed), (4, 4), "every first try refused");
    // Held back for the back-off (5 s): nothing visible at once.
    assert_eq!(run_once(&function, &queues).await.0, 0);
    queues.time_passes(&receipts).await;
    let (total, failed, _) = run_once(&function, &queues).await;
    assert_eq!((total, failed), (4, 0), "the second tries went through");
    assert_eq!(
        run_once(&function, &queues).await.0,
        0,
        "the queue is empty"
    );

    let received = receiver.received().await;
    assert_eq!(received.len(), 8);
    assert!(
        received.iter().all(|r| r.verified && r.signatures == 2),
        "each try carries a signature per secret, each verified by the reference implementation: {received:#?}"
    );
    let ids = |answered: u16| -> Vec<String> {
        let mut ids: Vec<String> = received
            .iter()
            .filter(|r| r.answered == answered)
            .filter_map(|r| r.id.clone())
            .collect();
        ids.sort();
        ids
    };
    let mut bus_ids: Vec<String> = on_the_bus
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    bus_ids.sort();
    assert_eq!(ids(503), bus_ids, "every event tried once and refused");
    assert_eq!(ids(200), bus_ids, "then delivered with the same id");
    let delivered: Vec<&Received> = received.iter().filter(|r| r.answered == 200).collect();
    for event in &on_the_bus {
        let sent = delivered
            .iter()
            .find(|r| r.id.as_deref() == event["id"].as_str())
            .expect("delivered");
        assert_eq!(
            &sent.event, event,
            "the body is the event exactly as on the bus"
        );
    }
    let now = chrono::Utc::now().timestamp();
    for r in &received {
        let at: i64 = r
            .timestamp
            .as_deref()
            .and_then(|t| t.parse().ok())
            .expect("timestamp");
        assert!((now - at).abs() < 120, "signed at the real time of sending");
    }

    // The endpoint refuses everything for longer than every try: after its 8 tries the
    // event waits in the dead-letter queue, where the operator finds it and replays it.
    receiver.control(json!({"refuse_all": true})).await;
    assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    let mut tries = 0;
    loop {
        let (total, failed, receipts) = run_once(&function, &queues).await;
        if total == 0 {
            break;
        }
        assert_eq!(total, failed);
        tries += total;
        queues.time_passes(&receipts).await;
        assert!(tries <= 2 * ATTEMPTS as usize, "the queue never gave up");
    }
    // Two events (status_changed, credentials_needed), each tried ATTEMPTS times.
    assert_eq!(tries, 2 * ATTEMPTS as usize);
    assert_eq!(queues.waiting_dead_letters().await, 2);

    let args = |action: &str| vec!["dead-letters".to_owned(), action.to_owned()];
    let listed = events_webhook::cli::execute(&args("list"), env.clone())
        .await
        .expect("listed");
    assert!(listed.contains("account.status_changed"), "{listed}");
    assert!(listed.contains("account.credentials_needed"), "{listed}");
    let refused = events_webhook::cli::execute(&args("replay"), env.clone()).await;
    assert!(refused.is_err(), "still refused: kept");
    assert_eq!(queues.waiting_dead_letters().await, 2);
    receiver.control(json!({"refuse_all": false})).await;
    let replayed = events_webhook::cli::execute(&args("replay"), env.clone())
        .await
        .expect("replayed");
    assert!(
        replayed.ends_with("2 replayed, 0 failed again, 0 unreadable and kept"),
        "{replayed}"
    );
    assert_eq!(queues.waiting_dead_letters().await, 0);
    let received = receiver.received().await;
    let last_two: Vec<&Received> = received.iter().rev().take(2).collect();
    assert!(last_two.iter().all(|r| r.answered == 200 && r.verified));
}

#[tokio::test]
async fn a_misconfigured_webhook_is_refused_at_cold_start_in_words_that_quote_nothing() {
    let world = World::new().await;
    let secret_url = "https://hooks.example.com/in?token=never-logged-url-token";
    for (url, secret, expected) in [
        (secret_url, "", "EVENTS_WEBHOOK_SECRET is not set"),
        (
            secret_url,
            "whsec_c2hvcnQ=",
            "EVENTS_WEBHOOK_SECRET is not valid: secret 1 is 5 bytes once decoded: it must be 24 to 64",
        ),
        (
            "http://hooks.example.com/never-logged-url-token",
            CURRENT,
            "EVENTS_WEBHOOK_URL is not valid: must be https:// (http:// only to a loopback address)",
        ),
        ("", CURRENT, "EVENTS_WEBHOOK_URL is not set"),
    ] {
        let mut env = harness::world::aws_env(&world.moto_endpoint, &world.table);
        env.insert("EVENTS_WEBHOOK_URL".into(), url.into());
        env.insert("EVENTS_WEBHOOK_SECRET".into(), secret.into());
        env.insert(
            "EVENTS_WEBHOOK_QUEUE_URL".into(),
            "https://sqs.example".into(),
        );
        let error = events_webhook::EventsWebhook::from_env(env)
            .await
            .err()
            .expect("refused");
        assert_eq!(error.to_string(), expected);
        assert!(!error.to_string().contains("never-logged"));
    }
}
