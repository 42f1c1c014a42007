//! The event feed on DynamoDB (moto): what the functions publish is written to the feed
//! first, and the team's backend pages through it with `GET /service/events`, each event once
//! and in the order published, a repeated publication never making it skip or go round.

use crate::status_webhook::deliver;
use chrono::Duration;
use harness::in_memory::service_request;
use harness::requests::json;
use harness::world::World;
use std::collections::BTreeSet;
use std::sync::Arc;
use unipile_connect::adapters::memory::MemoryEvents;
use unipile_connect::domain::events::{EventData, EventId, EventType, LifecycleEvent};
use unipile_connect::domain::{AccountId, AccountStatus, Provider, UserId};
use unipile_connect::flows::fanout::FanOut;
use unipile_connect::ports::{Clock, EventPublisher};

async fn page(world: &World, uri: &str) -> (u16, serde_json::Value) {
    let response = accounts::handler(&world.accounts, service_request("GET", uri, ""))
        .await
        .expect("handled");
    (response.status().as_u16(), json(&response))
}

/// Every id the feed answers from `after` on, following `next` with pages of `limit`.
async fn read_through(world: &World, after: Option<&str>, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = after.map(str::to_owned);
    for _ in 0..100 {
        let uri = match &after {
            Some(after) => format!("/service/events?limit={limit}&after={after}"),
            None => format!("/service/events?limit={limit}"),
        };
        let (status, body) = page(world, &uri).await;
        assert_eq!(status, 200, "{body}");
        let events = body["events"].as_array().expect("events");
        assert!(events.len() <= limit, "{body}");
        seen.extend(
            events
                .iter()
                .map(|e| e["id"].as_str().expect("id").to_owned()),
        );
        after = body["next"].as_str().map(str::to_owned);
        if body["more"] != true {
            return seen;
        }
    }
    panic!("the feed never ended: {seen:?}")
}

fn event(account: &str, sequence: u64, world: &World) -> LifecycleEvent {
    let at = world.clock.now();
    LifecycleEvent {
        id: EventId::new(at).expect("an id"),
        kind: EventType::StatusChanged,
        timestamp: at,
        data: EventData {
            user_id: UserId::parse("feed-user").expect("user"),
            account_id: AccountId::parse(account).expect("account"),
            provider: Provider::Linkedin,
            status: AccountStatus::Credentials,
            previous_status: Some(AccountStatus::Ok),
            outage: None,
            sequence,
            how: None,
            action: None,
            by: None,
        },
    }
}

#[tokio::test]
async fn the_backend_pages_through_what_was_published_each_once_in_order() {
    let world = World::new().await;
    // A status change through the status webhook: published by the function itself.
    let account = world.connected_account("feed-owner", "WHATSAPP").await;
    assert_eq!(deliver(&world, &account, "CREDENTIALS").await, 200);
    let (status, fresh) = page(&world, "/service/events").await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["events"], serde_json::json!([]), "not settled yet");

    // Forty events of one publication: two transactions.
    let publisher = FanOut::new(
        world.feed.clone(),
        Arc::new(MemoryEvents::new()),
        world.clock.clone(),
    );
    world.clock.advance(Duration::seconds(1));
    let batch: Vec<LifecycleEvent> = (1..=40)
        .map(|n| event(if n % 2 == 0 { "feed-even" } else { "feed-odd" }, n, &world))
        .collect();
    publisher.publish(&batch).await.expect("published");
    world.clock.advance(Duration::minutes(1));

    let bus: Vec<String> = world
        .events
        .events()
        .await
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(!bus.is_empty(), "the webhook's change was published");
    let published = read_through(&world, None, 500).await;
    // The webhook's events first (the order of one publication is the feed's; the bus's
    // delivery here need not keep it), then the batch's, in order.
    let (webhooks, batched) = published.split_at(bus.len());
    assert_eq!(
        webhooks.iter().collect::<BTreeSet<_>>(),
        bus.iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        batched,
        batch.iter().map(|e| e.id.to_string()).collect::<Vec<_>>()
    );
    for limit in [1, 7] {
        assert_eq!(
            read_through(&world, None, limit).await,
            published,
            "limit {limit}"
        );
    }
    let (_, evens) = page(&world, "/service/events?account_id=feed-even&limit=500").await;
    let sequences: Vec<u64> = evens["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["data"]["sequence"].as_u64().expect("sequence"))
        .collect();
    assert_eq!(sequences, (1..=20).map(|n| n * 2).collect::<Vec<u64>>());

    // The sweeper publishes one again later: a reader after it skips nothing that came
    // between, and is not sent back round.
    let repeated = &batch[9];
    world.clock.advance(Duration::minutes(5));
    publisher
        .publish(std::slice::from_ref(repeated))
        .await
        .expect("published again");
    world.clock.advance(Duration::minutes(1));
    let after = read_through(&world, Some(repeated.id.as_str()), 3).await;
    assert_eq!(after, published[published.len() - 30..].to_vec());
    assert_eq!(read_through(&world, None, 500).await, published);

    let (status, unknown) = page(
        &world,
        "/service/events?after=evt_0000000001000_abcdef012345",
    )
    .await;
    assert_eq!(
        (status, unknown["type"].as_str()),
        (404, Some("urn:unipile-connect:problem:unknown-event")),
        "{unknown}"
    );
}
