//! Lifecycle events on AWS: a user's whole story through the functions, against moto, every
//! event received from a queue subscribed to the bus by a rule, as a team's backend would
//! receive them, and each held to its JSON Schema in `infra/events/`.

use crate::status_webhook::{deliver, deliver_only};
use harness::event_bus::schema_problems;
use harness::requests::{api, notify};
use harness::world::{World, unique};
use std::sync::Arc;
use unipile_connect::adapters::eventbridge::EventBridgePublisher;
use unipile_connect::deps::Deps;
use unipile_connect::domain::AccountId;
use unipile_connect::ports::{AccountStore, Clock};

/// A user connects through a hosted link: the notify as Unipile sends it, twice.
pub(crate) async fn connect(world: &World, user: &str) -> AccountId {
    let delivery = world.hosted_connect(user, "WHATSAPP").await;
    let body = delivery.body.to_string();
    for _ in 0..2 {
        let answered =
            connect_callback::handler(&world.connect_callback, notify(&delivery.url, &body))
                .await
                .expect("handled");
        assert_eq!(answered.status(), 200);
    }
    AccountId::parse(world.simulator.accounts()[0].id.clone()).expect("id")
}

#[tokio::test]
async fn a_users_whole_story_reaches_the_bus_as_documented_each_fact_once() {
    let world = World::new().await;
    let user = unique("events-story");
    let id = connect(&world, &user).await;
    assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    // Unipile repeats its delivery: the same fact, no second event.
    assert_eq!(deliver_only(&world, &id, "CREDENTIALS").await, 200);
    assert_eq!(deliver(&world, &id, "OK").await, 200);
    let disconnected = accounts::handler(
        &world.accounts,
        api("DELETE", &format!("/accounts/{id}"), &user, None),
    )
    .await
    .expect("handled");
    assert_eq!(disconnected.status(), 204);

    let events = world.events.events().await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "account.connected",
            "account.status_changed",
            "account.credentials_needed",
            "account.reconnected",
            "account.disconnected",
        ],
        "{events:#?}"
    );
    let problems: Vec<String> = events.iter().flat_map(schema_problems).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let data = |i: usize, field: &str| events[i]["data"][field].clone();
    assert_eq!(data(0, "how"), "hosted");
    assert_eq!(data(0, "user_id"), user.as_str());
    assert_eq!(data(0, "account_id"), id.as_str());
    assert_eq!(
        (data(1, "previous_status"), data(1, "status")),
        ("OK".into(), "CREDENTIALS".into())
    );
    assert_eq!(data(2, "action"), "emailed");
    assert_eq!(data(3, "how"), "unipile");
    assert_eq!(data(4, "by"), "user");
    // One fact, one id; sequences grow (a repeated notify recorded a fact of no event).
    let sequences: Vec<u64> = events
        .iter()
        .map(|e| e["data"]["sequence"].as_u64().expect("sequence"))
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    let mut ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
    // No email address in any event (the owner was emailed at <user>@example.com).
    let text = serde_json::to_string(&events).expect("json");
    assert!(!text.contains("@example.com"), "{text}");
    // Nothing left to publish.
    let waiting = world
        .store
        .waiting_outboxes(world.clock.now() + chrono::Duration::days(1), 10)
        .await
        .expect("read");
    assert_eq!(waiting, []);
}

#[tokio::test]
async fn events_a_writer_could_not_publish_wait_in_the_table_and_the_sweeper_publishes_them() {
    let world = World::new().await;
    let user = unique("events-outage");
    let account = world.connected_account(&user, "TELEGRAM").await;
    // The bus is unreachable for this function (a bus that does not exist refuses every
    // PutEvents): its write goes through, its facts wait.
    let unreachable = Arc::new(EventBridgePublisher::new(
        world.events.eventbridge.clone(),
        unique("no-such-bus"),
    ));
    let deps = Deps::publishing(
        world.store.clone(),
        world.feed.clone(),
        unreachable,
        world.status_webhook.follow_ups.deps.unipile.clone(),
        world.clock.clone(),
    );
    let outage_webhook = status_webhook::StatusWebhook {
        follow_ups: unipile_connect::deps::FollowUpDeps {
            deps,
            ..world.status_webhook.follow_ups.clone()
        },
        secret: unipile_connect::http::WebhookSecret::new(
            unipile_connect::http::DEFAULT_WEBHOOK_HEADER,
            Some(harness::world::WEBHOOK_SECRET),
        )
        .expect("secret")
        .into(),
    };
    world.simulator.set_status(account.as_str(), "ERROR");
    let request = http::Request::builder()
        .method("POST")
        .uri("https://webhook.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json")
        .header("Unipile-Auth", harness::world::WEBHOOK_SECRET)
        .body(lambda_http::Body::from(format!(
            r#"{{"AccountStatus":{{"account_id":"{account}","account_type":"TELEGRAM","message":"ERROR"}}}}"#
        )))
        .expect("request");
    let answered = status_webhook::handler(&outage_webhook, request)
        .await
        .expect("handled");
    assert_eq!(
        answered.status(),
        200,
        "the bus is no reason to refuse Unipile"
    );
    assert_eq!(world.account(&account).await.status.as_str(), "ERROR");
    assert!(world.events.events().await.is_empty());
    let waiting = world.account(&account).await.outbox;
    assert_eq!(
        waiting.waiting.len(),
        2,
        "the seed's connection and the change"
    );

    // Not before its writer's grace is over; then the sweeper's run publishes them, with
    // the ids they were recorded with.
    let swept = follow_up_sweeper::handler(&world.follow_up_sweeper, serde_json::json!({}))
        .await
        .expect("swept");
    assert_eq!(swept["events"]["published"], 0, "{swept}");
    world.clock.advance(chrono::Duration::minutes(2));
    let swept = follow_up_sweeper::handler(&world.follow_up_sweeper, serde_json::json!({}))
        .await
        .expect("swept");
    assert_eq!(swept["events"]["published"], 2, "{swept}");
    let events = world.events.events().await;
    let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    let recorded: Vec<String> = waiting.ids().iter().map(ToString::to_string).collect();
    assert_eq!(ids, recorded);
    assert_eq!(events[1]["type"], "account.status_changed");
    assert_eq!(events[1]["data"]["status"], "ERROR");
    assert!(world.account(&account).await.outbox.waiting.is_empty());
    let swept = follow_up_sweeper::handler(&world.follow_up_sweeper, serde_json::json!({}))
        .await
        .expect("swept");
    assert_eq!(swept["events"]["published"], 0, "published once: {swept}");
}
