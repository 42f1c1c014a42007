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
