//! The status webhook against moto (DynamoDB + SES v2, real SDK clients) and the simulator.

use harness::moto::sent_emails;
use harness::world::{WEBHOOK_SECRET, World, unique};
use lambda_http::{Body, Request};
use std::sync::Arc;
use unipile_connect::adapters::ses::SesMailer;
use unipile_connect::domain::{AccountId, AccountStatus};

fn delivery(account_id: &AccountId, message: &str, secret: Option<&str>) -> Request {
    let body = format!(
        r#"{{"AccountStatus":{{"account_id":"{account_id}","account_type":"LINKEDIN","message":"{message}"}}}}"#
    );
    let mut request = http::Request::builder()
        .method("POST")
        .uri("https://webhook.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json");
    if let Some(secret) = secret {
        request = request.header("Unipile-Auth", secret);
    }
    request.body(Body::from(body)).expect("request")
}

/// Unipile sets the account's status, then delivers it.
pub(crate) async fn deliver(world: &World, account_id: &AccountId, message: &str) -> u16 {
    world.simulator.set_status(account_id.as_str(), message);
    deliver_only(world, account_id, message).await
}

/// A delivery alone, whatever Unipile says now: a late or repeated one.
pub(crate) async fn deliver_only(world: &World, account_id: &AccountId, message: &str) -> u16 {
    let request = delivery(account_id, message, Some(WEBHOOK_SECRET));
    let response = status_webhook::handler(&world.status_webhook, request)
        .await
        .expect("handled");
    response.status().as_u16()
}

async fn stored_status(world: &World, account_id: &AccountId) -> AccountStatus {
    world.account(account_id).await.status
}

#[tokio::test]
async fn given_each_reported_status_then_the_stored_status_follows_and_errors_restart_once() {
    let world = World::new().await;
    let user = unique("statuses");
    let id = world.connected_account(&user, "LINKEDIN").await;
    for (message, expected) in [
        ("CONNECTING", AccountStatus::Connecting),
        ("OK", AccountStatus::Ok),
        ("ERROR", AccountStatus::Error),
        ("STOPPED", AccountStatus::Stopped),
        ("RECONNECTED", AccountStatus::Ok),
        ("SYNC_SUCCESS", AccountStatus::Ok),
        ("PERMISSIONS", AccountStatus::Permissions),
        (
            "SOMETHING_NEW",
            AccountStatus::Unknown("SOMETHING_NEW".into()),
        ),
        ("CREDENTIALS", AccountStatus::Credentials),
        ("CREATION_SUCCESS", AccountStatus::Ok),
        ("DELETED", AccountStatus::Deleted),
    ] {
        assert_eq!(deliver(&world, &id, message).await, 200, "{message}");
        assert_eq!(
            stored_status(&world, &id).await,
            expected,
            "after {message}"
        );
    }
    let restarts = world
        .simulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/restart"))
        .count();
    assert_eq!(restarts, 1, "ERROR then STOPPED is one outage: one restart");
    assert_eq!(sent_emails(&format!("{user}@example.com")).await.len(), 1);
}

#[tokio::test]
async fn given_credentials_delivered_five_times_then_one_state_change_and_one_email() {
    let world = World::new().await;
    let user = unique("five-times");
    let id = world.connected_account(&user, "LINKEDIN").await;
    for _ in 0..5 {
        assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    }
    let account = world.account(&id).await;
    assert_eq!(account.status, AccountStatus::Credentials);
    assert_eq!(account.pending, None);
    let emails = sent_emails(&format!("{user}@example.com")).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0]["subject"],
        "Your LinkedIn account needs to be reconnected"
    );
    let body = emails[0]["body"].as_str().expect("body");
    assert!(body.contains(&format!("https://app.example.com/accounts?reconnect={id}")));
    assert!(body.contains("Jane Doe"));
}

#[tokio::test]
async fn given_ses_failing_once_then_a_retried_delivery_after_the_back_off_sends_exactly_one_email()
{
    let mut world = World::new().await;
    let user = unique("ses-fails");
    let id = world.connected_account(&user, "WHATSAPP").await;
    // A sender SES has not verified: the first send is rejected.
    let sender = format!("{}@example.com", unique("unverified"));
    world.status_webhook.follow_ups.mailer =
        Arc::new(SesMailer::new(world.ses.clone(), sender.clone(), None));

    // Recorded: 200, and the email stays owed.
    assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    assert_eq!(stored_status(&world, &id).await, AccountStatus::Credentials);
    let pending = world.account(&id).await.pending;
    assert!(pending.is_some(), "the email is still owed");
    assert!(sent_emails(&format!("{user}@example.com")).await.is_empty());

    world
        .ses
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("verified");
    // Unipile's retries come minutes apart: the one after the follow-up's back-off finishes it.
    for _ in 0..4 {
        world.clock.advance(chrono::Duration::minutes(2));
        assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    }
    assert_eq!(sent_emails(&format!("{user}@example.com")).await.len(), 1);
    let pending = world.account(&id).await.pending;
    assert_eq!(pending, None);
}

#[tokio::test]
async fn given_a_deleted_account_then_a_stale_ok_does_not_resurrect_it() {
    let world = World::new().await;
    let id = world
        .connected_account(&unique("deleted"), "TELEGRAM")
        .await;
    assert_eq!(deliver(&world, &id, "DELETED").await, 200);
    for stale in ["OK", "CONNECTING", "CREDENTIALS"] {
        assert_eq!(deliver_only(&world, &id, stale).await, 200);
        assert_eq!(
            stored_status(&world, &id).await,
            AccountStatus::Deleted,
            "after {stale}"
        );
    }
    assert_eq!(deliver(&world, &id, "RECONNECTED").await, 200);
    assert_eq!(stored_status(&world, &id).await, AccountStatus::Ok);
}

#[tokio::test]
async fn given_forged_malformed_or_unknown_deliveries_then_nothing_changes() {
    let world = World::new().await;
    let user = unique("forged");
    let id = world.connected_account(&user, "LINKEDIN").await;
    let items = world.item_count().await;

    for secret in [None, Some("not-the-secret")] {
        let response =
            status_webhook::handler(&world.status_webhook, delivery(&id, "CREDENTIALS", secret))
                .await
                .expect("handled");
        assert_eq!(response.status(), 401);
    }
    let malformed = http::Request::builder()
        .method("POST")
        .uri("/unipile/webhook")
        .header("Unipile-Auth", WEBHOOK_SECRET)
        .body(Body::from("{\"AccountStatus\": [}"))
        .expect("request");
    let response = status_webhook::handler(&world.status_webhook, malformed)
        .await
        .expect("handled");
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    let stranger = AccountId::parse("not-one-of-ours").expect("id");
    assert_eq!(deliver(&world, &stranger, "CREDENTIALS").await, 200);

    assert_eq!(stored_status(&world, &id).await, AccountStatus::Ok);
    assert_eq!(world.item_count().await, items, "no item written");
    assert!(sent_emails(&format!("{user}@example.com")).await.is_empty());
}

#[tokio::test]
async fn given_ses_refusing_the_delivery_and_its_retries_then_the_sweeper_sends_exactly_one_email()
{
    let mut world = World::new().await;
    let user = unique("swept");
    let id = world.connected_account(&user, "WHATSAPP").await;
    // A sender SES has not verified: every send is refused until it is.
    let sender = format!("{}@example.com", unique("unverified"));
    let mailer = Arc::new(SesMailer::new(world.ses.clone(), sender.clone(), None));
    world.status_webhook.follow_ups.mailer = mailer.clone();
    world.follow_up_sweeper.follow_ups.mailer = mailer;
    for _ in 0..6 {
        assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    }
    assert!(sent_emails(&format!("{user}@example.com")).await.is_empty());
    let account = world.account(&id).await;
    assert_eq!(account.status, AccountStatus::Credentials);
    assert!(account.pending.is_some(), "the email is owed");

    world
        .ses
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("verified");
    // Nothing due before its back-off ends: the GSI2 query finds nothing yet.
    let report = follow_up_sweeper::handler(&world.follow_up_sweeper, serde_json::json!({}))
        .await
        .expect("swept");
    assert_eq!(report["due"], 0, "{report}");
    world.clock.advance(chrono::Duration::hours(2));
    let report = follow_up_sweeper::handler(&world.follow_up_sweeper, serde_json::json!({}))
        .await
        .expect("swept");
    assert_eq!(report["finished"], 1, "{report}");
    assert_eq!(sent_emails(&format!("{user}@example.com")).await.len(), 1);
    world.clock.advance(chrono::Duration::hours(2));
    let report = follow_up_sweeper::handler(&world.follow_up_sweeper, serde_json::json!({}))
        .await
        .expect("swept");
    assert_eq!(report["due"], 0, "off the index once done: {report}");
    assert_eq!(world.account(&id).await.pending, None);
    assert_eq!(sent_emails(&format!("{user}@example.com")).await.len(), 1);
}
