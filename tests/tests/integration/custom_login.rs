//! Custom sign-in on DynamoDB (moto, the real aws-sdk client) and the Unipile simulator: the
//! slot admits one start at a time (its writes are conditional on the version read), an
//! attempt is one user's, and the reconciliation reads attempts to know whose an account is.

use chrono::{Duration, Utc};
use harness::world::World;
use unipile_connect::domain::login_attempt::{LoginAttempt, LoginSlot};
use unipile_connect::domain::{AccountId, Provider, UserId};
use unipile_connect::ports::{AccountStore, LoginAttempts, StoreError};

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user")
}

#[tokio::test]
async fn two_writes_of_one_slot_from_the_same_read_cannot_both_land() {
    let world = World::new().await;
    let store = world.store.as_ref();
    let fresh = LoginSlot::new(user("slot-user"), Provider::Whatsapp);
    assert!(store.put_login_slot(&fresh).await.expect("first write"));
    assert!(
        !store.put_login_slot(&fresh).await.expect("second write"),
        "the second write of the same read is refused"
    );
    let stored = store
        .login_slot(&user("slot-user"), &Provider::Whatsapp)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.version, 1);
    let mut next = stored.clone();
    next.starts.push(Utc::now());
    assert!(
        store
            .put_login_slot(&next)
            .await
            .expect("at the version read")
    );
    assert!(!store.put_login_slot(&stored).await.expect("stale"));
    let other_provider = store
        .login_slot(&user("slot-user"), &Provider::Telegram)
        .await
        .expect("read");
    assert_eq!(other_provider, None, "one slot per provider");
}

#[tokio::test]
async fn an_attempt_is_its_user_s_and_the_reconciliation_reads_it() {
    let world = World::new().await;
    let store = world.store.as_ref();
    let now = Utc::now();
    let attempt = LoginAttempt {
        account_id: AccountId::parse("attempt-acc-1").expect("id"),
        user_id: user("attempt-owner"),
        provider: Provider::Telegram,
        reconnect: false,
        started_at: now,
        expires_at: now + Duration::seconds(60),
        finished_at: None,
    };
    store.put_login_attempt(&attempt).await.expect("recorded");
    let finished = LoginAttempt {
        finished_at: Some(now),
        ..attempt.clone()
    };
    store
        .put_login_attempt(&finished)
        .await
        .expect("the same user rewrites it");
    let stolen = LoginAttempt {
        user_id: user("someone-else"),
        ..attempt.clone()
    };
    assert!(matches!(
        store.put_login_attempt(&stolen).await,
        Err(StoreError::OwnedByAnotherUser)
    ));
    let read = store
        .login_attempt(&attempt.account_id)
        .await
        .expect("read");
    assert_eq!(read, Some(finished.clone()));
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.inventory_page(cursor.as_deref()).await.expect("scan");
        seen.extend(page.items.login_attempts);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert!(seen.contains(&finished), "{seen:?}");
    // The table drops it a week after it expired (its TTL attribute, epoch seconds).
    let item = world
        .dynamodb
        .get_item()
        .table_name(&world.table)
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S("ATTEMPT#attempt-acc-1".into()),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("ATTEMPT".into()),
        )
        .send()
        .await
        .expect("get")
        .item
        .expect("item");
    let ttl: i64 = item["expires_at"]
        .as_n()
        .expect("a number")
        .parse()
        .expect("seconds");
    assert_eq!(ttl, (attempt.expires_at + Duration::days(7)).timestamp());
    assert!(
        !item.contains_key("password") && !item.contains_key("code"),
        "no credential is stored"
    );
}

async fn connect(world: &World, user: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let text = body.to_string();
    let mut request = harness::requests::api("POST", "/accounts/connect", user, Some(&text));
    request.headers_mut().insert(
        http::header::USER_AGENT,
        http::HeaderValue::from_static("Mozilla/5.0 (X11; Linux x86_64) custom-login-test"),
    );
    let response = accounts::handler(&world.accounts, request)
        .await
        .expect("handled");
    (
        response.status().as_u16(),
        harness::requests::json(&response),
    )
}

async fn wait(world: &World, user: &str, id: &str) -> (u16, serde_json::Value) {
    let request = harness::requests::api("GET", &format!("/accounts/connect/{id}"), user, None);
    let response = accounts::handler(&world.accounts, request)
        .await
        .expect("handled");
    (
        response.status().as_u16(),
        harness::requests::json(&response),
    )
}

/// What the simulator received on `path`, last first.
fn sent_to(world: &World, path: &str) -> serde_json::Value {
    world
        .simulator
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST" && r.path == path)
        .and_then(|r| r.body)
        .expect("a request reached the simulator")
}

#[tokio::test]
async fn a_whatsapp_pairing_code_goes_to_unipile_as_e164_digits_and_the_typed_code_connects() {
    let world = World::new().await;
    let (status, body) = connect(
        &world,
        "pairing-user",
        serde_json::json!({"provider": "WHATSAPP", "phone_number": harness::TEST_PHONE}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        sent_to(&world, "/api/v1/accounts"),
        serde_json::json!({"provider": "WHATSAPP", "pairing_phone_number": "33612345678"})
    );
    let id = body["account_id"].as_str().expect("id").to_owned();
    let shown = world.simulator.checkpoint(&id).expect("waiting at Unipile");
    assert_eq!(
        body["checkpoint"]["pairing_code"],
        shown.code.expect("a code").as_str()
    );
    assert!(
        !body.to_string().contains("33612345678"),
        "the number is not echoed"
    );
    let (status, waiting) = wait(&world, "pairing-user", &id).await;
    assert_eq!((status, waiting["status"].as_str()), (200, Some("waiting")));
    world.simulator.scan(&id).await.expect("typed on the phone");
    let (status, done) = wait(&world, "pairing-user", &id).await;
    assert_eq!((status, done["status"].as_str()), (200, Some("connected")));
    let owner = world
        .store
        .get_account(&AccountId::parse(id.as_str()).expect("id"))
        .await
        .expect("read")
        .map(|a| a.user_id);
    assert_eq!(owner, Some(user("pairing-user")));
    let (status, _) = wait(&world, "someone-else", &id).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_mailbox_and_a_linkedin_login_reach_unipile_with_the_contract_s_fields() {
    let world = World::new().await;
    let (status, body) = connect(
        &world,
        "mail-user",
        serde_json::json!({"provider": "MAIL", "imap_user": "ana@example.com",
            "imap_password": "never-logged-imap", "imap_host": "imap.example.com", "imap_port": 993,
            "smtp_host": "smtp.example.com", "smtp_port": 465, "imap_encryption": "SSL"}),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (201, Some("connected")),
        "{body}"
    );
    assert_eq!(
        sent_to(&world, "/api/v1/accounts"),
        serde_json::json!({"provider": "MAIL", "imap_user": "ana@example.com",
            "imap_password": "never-logged-imap", "imap_host": "imap.example.com",
            "imap_port": 993, "smtp_user": "ana@example.com",
            "smtp_password": "never-logged-imap", "smtp_host": "smtp.example.com",
            "smtp_port": 465, "imap_encryption": "SSL"})
    );
    let (status, body) = connect(
        &world,
        "li-user",
        serde_json::json!({"provider": "LINKEDIN", "username": "ana@example.com", "password": "never-logged-li"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["checkpoint"]["type"], "2FA");
    let sent = sent_to(&world, "/api/v1/accounts");
    assert_eq!(
        sent["user_agent"], "Mozilla/5.0 (X11; Linux x86_64) custom-login-test",
        "{sent}"
    );
    let id = body["account_id"].as_str().expect("id");
    let code = serde_json::json!({"account_id": id, "code": "123456"}).to_string();
    let response = accounts::handler(
        &world.accounts,
        harness::requests::api(
            "POST",
            "/accounts/connect/checkpoint",
            "li-user",
            Some(&code),
        ),
    )
    .await
    .expect("handled");
    assert_eq!(response.status(), 201);
    assert_eq!(
        sent_to(&world, "/api/v1/accounts/checkpoint"),
        serde_json::json!({"provider": "LINKEDIN", "account_id": id, "code": "123456"})
    );
}
