//! What each flow costs in AWS calls, counted on the real SDK clients against moto (see
//! `harness::aws_calls`): the hot paths make no call they could do without. The figures are in
//! BENCHMARKS.md.

use crate::status_webhook::deliver;
use harness::aws_calls::Calls;
use harness::requests::{api, json, notify};
use harness::world::{World, unique};
use std::collections::BTreeMap;
use unipile_connect::domain::AccountId;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";

fn calls(pairs: &[(&str, usize)]) -> Calls {
    pairs
        .iter()
        .map(|(call, n)| ((*call).to_owned(), *n))
        .collect::<BTreeMap<_, _>>()
}

async fn sync(world: &World, user: &str, li_at: &str) -> (u16, serde_json::Value) {
    let body = format!(
        r#"{{"li_at":"{li_at}","li_a":"AQJ-premium","user_agent":"{UA}","country":"fr","linkedin_member_id":"7001"}}"#
    );
    let response = cookie_sync::handler(
        &world.cookie_sync,
        api("POST", "/extension/cookies", user, Some(&body)),
    )
    .await
    .expect("handled");
    (response.status().as_u16(), json(&response))
}

#[tokio::test]
async fn an_unchanged_cookie_sync_is_one_read_and_a_changed_one_one_data_key() {
    let world = World::new().await;
    let user = unique("round-trips-sync");
    let before = world.aws_calls.snapshot();
    let (status, _) = sync(&world, &user, "AQEDAR-first").await;
    assert_eq!(status, 201);
    let first = world.aws_calls.since(&before);
    assert_eq!(
        first.get("KMS:GenerateMac"),
        Some(&1),
        "the digest key, once per cold start"
    );
    assert_eq!(first.get("KMS:GenerateDataKey"), Some(&1), "{first:?}");
    assert_eq!(first.get("KMS:Encrypt"), None, "{first:?}");

    world.clock.advance(chrono::Duration::minutes(15));
    let before = world.aws_calls.snapshot();
    let (status, body) = sync(&world, &user, "AQEDAR-first").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("stored")));
    assert_eq!(
        world.aws_calls.since(&before),
        calls(&[("DynamoDB:Query", 1)]),
        "an unchanged sync: one read, no KMS, no write"
    );

    world.clock.advance(chrono::Duration::minutes(15));
    let before = world.aws_calls.snapshot();
    let (status, _) = sync(&world, &user, "AQEDAR-rotated").await;
    assert_eq!(status, 200);
    assert_eq!(
        world.aws_calls.since(&before),
        calls(&[
            ("DynamoDB:Query", 1),
            ("KMS:GenerateDataKey", 1),
            ("DynamoDB:UpdateItem", 1),
            ("DynamoDB:GetItem", 1),
        ]),
        "a changed cookie: one data key for both cookies, one write, and the account's status"
    );

    // An hour on, the same cookie moves the record's dates on: one write, still no KMS.
    world.clock.advance(chrono::Duration::minutes(61));
    let before = world.aws_calls.snapshot();
    let (status, _) = sync(&world, &user, "AQEDAR-rotated").await;
    assert_eq!(status, 200);
    let heartbeat = world.aws_calls.since(&before);
    eprintln!("heartbeat: {heartbeat:?}");
    assert_eq!(heartbeat.get("KMS:GenerateDataKey"), None, "{heartbeat:?}");
    assert_eq!(
        heartbeat.get("DynamoDB:UpdateItem"),
        Some(&1),
        "{heartbeat:?}"
    );
}

#[tokio::test]
async fn a_status_webhook_that_changes_nothing_is_one_read_and_a_change_one_write_and_its_email() {
    let world = World::new().await;
    let account = world
        .connected_account("round-trips-webhook", "WHATSAPP")
        .await;
    let before = world.aws_calls.snapshot();
    assert_eq!(deliver(&world, &account, "OK").await, 200);
    assert_eq!(
        world.aws_calls.since(&before),
        calls(&[("DynamoDB:GetItem", 1)]),
        "a status the table has already: one read"
    );

    let before = world.aws_calls.snapshot();
    assert_eq!(deliver(&world, &account, "CREDENTIALS").await, 200);
    assert_eq!(
        world.aws_calls.since(&before),
        calls(&[
            ("DynamoDB:GetItem", 2),
            ("DynamoDB:UpdateItem", 3),
            ("SESv2:SendEmail", 1),
            ("DynamoDB:TransactWriteItems", 1),
            ("EventBridge:PutEvents", 1),
        ]),
        "a change that owes an email: the account and the owner's address read, then one \
         write (the status Unipile confirmed, with the email's mark and its fact), the email, \
         the completion (with what was done, a fact too), and both facts published in one \
         call (the feed's one transaction, then the bus), then taken out of the outbox"
    );

    let before = world.aws_calls.snapshot();
    assert_eq!(deliver(&world, &account, "CREDENTIALS").await, 200);
    assert_eq!(
        world.aws_calls.since(&before),
        calls(&[("DynamoDB:GetItem", 1)]),
        "Unipile's retry of the same event: one read, no second email"
    );

    let before = world.aws_calls.snapshot();
    assert_eq!(deliver(&world, &account, "OK").await, 200);
    assert_eq!(
        world.aws_calls.since(&before),
        calls(&[
            ("DynamoDB:GetItem", 1),
            ("DynamoDB:UpdateItem", 2),
            ("DynamoDB:TransactWriteItems", 1),
            ("EventBridge:PutEvents", 1),
        ]),
        "healthy again: one read, one write that ends the outage (with its fact), no email, \
         the fact published (to the feed, then the bus), then taken out of the outbox"
    );
}

#[tokio::test]
async fn a_replayed_callback_is_its_one_idempotent_write() {
    let mut world = World::new().await;
    world.hosted_link.settings.public_base_url = "http://127.0.0.1:9/".parse().expect("URL");
    let delivery = world
        .hosted_connect("round-trips-callback", "WHATSAPP")
        .await;
    let body = delivery.body.to_string();
    let first = connect_callback::handler(&world.connect_callback, notify(&delivery.url, &body))
        .await
        .expect("handled");
    assert_eq!(first.status(), 200);
    let id = AccountId::parse(world.simulator.accounts()[0].id.clone()).expect("id");
    let _ = world.account(&id).await;

    let before = world.aws_calls.snapshot();
    let replay = connect_callback::handler(&world.connect_callback, notify(&delivery.url, &body))
        .await
        .expect("handled");
    assert_eq!(replay.status(), 200);
    assert_eq!(
        world.aws_calls.since(&before),
        calls(&[("DynamoDB:GetItem", 1), ("DynamoDB:UpdateItem", 2)]),
        "Unipile's retry of a callback: the account's owner read before anything is written, \
         then the one idempotent upsert (an account already this user's spends no link), \
         whose fact is no event (the status is the same): nothing published, the fact taken \
         out of the outbox"
    );
}
