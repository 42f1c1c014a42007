//! The extension's checkpoints, pauses and cookie deletion against moto (DynamoDB, KMS) and
//! the Unipile simulator, through the real aws-sdk clients and the HTTP Unipile client.

use harness::requests::{api, json};
use harness::world::{World, unique};
use lambda_http::Body;
use serde_json::Value;
use unipile_connect::domain::{AccountId, AccountStatus};
use unipile_connect::ports::Clock;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";

async fn call(
    world: &World,
    method: &str,
    uri: &str,
    user: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let response = cookie_sync::handler(&world.cookie_sync, api(method, uri, user, body))
        .await
        .expect("handled");
    let status = response.status().as_u16();
    let value = if response.body().as_ref().is_empty() {
        Value::Null
    } else {
        json(&response)
    };
    (status, value)
}

async fn sync(world: &World, user: &str, member: &str) -> (u16, Value) {
    sync_cookie(world, user, member, "first").await
}

/// A sync of the cookie `tag` names: another tag is a fresh cookie.
async fn sync_cookie(world: &World, user: &str, member: &str, tag: &str) -> (u16, Value) {
    let body = format!(
        r#"{{"li_at":"AQEDAR-{member}-{tag}","user_agent":"{UA}","linkedin_member_id":"{member}"}}"#
    );
    call(world, "POST", "/extension/cookies", user, Some(&body)).await
}

async fn answer(world: &World, user: &str, member: &str, code: Option<&str>) -> (u16, Value) {
    let body = match code {
        Some(code) => format!(r#"{{"linkedin_member_id":"{member}","code":"{code}"}}"#),
        None => format!(r#"{{"linkedin_member_id":"{member}"}}"#),
    };
    call(world, "POST", "/extension/checkpoint", user, Some(&body)).await
}

/// The table's item for (user, member), as DynamoDB holds it.
async fn raw_item(
    world: &World,
    user: &str,
    member: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    world
        .dynamodb
        .get_item()
        .table_name(&world.table)
        .key("PK", AttributeValue::S(format!("USER#{user}")))
        .key("SK", AttributeValue::S(format!("LINKEDIN#{member}")))
        .consistent_read(true)
        .send()
        .await
        .expect("read")
        .item
}

fn solutions(world: &World) -> Vec<Value> {
    world
        .simulator
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/accounts/checkpoint")
        .filter_map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn given_a_2fa_checkpoint_a_wrong_code_is_refused_and_the_right_one_connects_the_account() {
    let world = World::new().await;
    let user = unique("checkpoint-2fa");
    world
        .simulator
        .script_cookie_outcomes(["checkpoint:2FA:424242".to_owned()]);
    let (status, body) = sync(&world, &user, "5001").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["checkpoint"]["type"], "2FA");
    assert_eq!(body["checkpoint"]["takes_code"], true);
    let expires: chrono::DateTime<chrono::Utc> = body["checkpoint"]["expires_at"]
        .as_str()
        .expect("expires_at")
        .parse()
        .expect("a time");
    assert!(expires > world.clock.now());

    // A later sync while it waits does not start another login (it only asks Unipile whether
    // the user passed the verification elsewhere).
    let logins = |world: &World| {
        world
            .simulator
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.starts_with("/api/v1/accounts"))
            .count()
    };
    let logins_before = logins(&world);
    let (again, waiting) = sync_cookie(&world, &user, "5001", "later").await;
    assert_eq!(
        (again, waiting["status"].as_str()),
        (202, Some("checkpoint"))
    );
    assert_eq!(logins(&world), logins_before);

    let (wrong, problem) = answer(&world, &user, "5001", Some("111111")).await;
    assert_eq!(wrong, 422, "{problem}");
    assert!(!problem.to_string().contains("111111"));
    let (right, done) = answer(&world, &user, "5001", Some("424242")).await;
    assert_eq!(
        (right, done["status"].as_str()),
        (200, Some("connected")),
        "{done}"
    );
    let account_id = done["account_id"].as_str().expect("account id");
    let account = world
        .account(&AccountId::parse(account_id).expect("id"))
        .await;
    assert_eq!(account.status, AccountStatus::Ok);
    assert_eq!(
        account.linkedin_member_id.map(|m| m.to_string()).as_deref(),
        Some("5001")
    );
    // Exactly the contract's body, nothing invented.
    let sent = solutions(&world);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1],
        serde_json::json!({"provider": "LINKEDIN", "account_id": account_id, "code": "424242"})
    );
    // Solved: nothing waits any more.
    let (nothing, _) = answer(&world, &user, "5001", Some("424242")).await;
    assert_eq!(nothing, 409);
    let (_, listed) = call(&world, "GET", "/extension/identities", &user, None).await;
    assert_eq!(listed["identities"][0]["account_id"], account_id);
    assert!(
        listed["identities"][0].get("checkpoint").is_none(),
        "{listed}"
    );
}

#[tokio::test]
async fn given_an_in_app_validation_the_extension_waits_until_the_user_approves() {
    let world = World::new().await;
    let user = unique("checkpoint-app");
    world
        .simulator
        .script_cookie_outcomes(["checkpoint:IN_APP_VALIDATION".to_owned()]);
    let (status, body) = sync(&world, &user, "5101").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["checkpoint"]["takes_code"], false);
    let account_id = body["account_id"].as_str().expect("account id").to_owned();

    let (still, waiting) = answer(&world, &user, "5101", None).await;
    assert_eq!(
        (still, waiting["checkpoint"]["type"].as_str()),
        (202, Some("IN_APP_VALIDATION"))
    );
    let (code, problem) = call(
        &world,
        "POST",
        "/extension/checkpoint",
        &user,
        Some(r#"{"linkedin_member_id":"5101","code":""}"#),
    )
    .await;
    assert_eq!(code, 202, "a blank code asks too: {problem}");

    assert!(world.simulator.approve_in_app(&account_id));
    let (approved, done) = answer(&world, &user, "5101", None).await;
    assert_eq!(
        (approved, done["status"].as_str()),
        (200, Some("connected")),
        "{done}"
    );
    assert!(solutions(&world).is_empty(), "an approval sends no code");
}

#[tokio::test]
async fn given_an_expired_checkpoint_the_answer_is_410_and_the_next_sync_starts_a_new_sign_in() {
    let world = World::new().await;
    let user = unique("checkpoint-expired");
    world
        .simulator
        .script_cookie_outcomes(["checkpoint:OTP".to_owned()]);
    let (status, _) = sync(&world, &user, "5201").await;
    assert_eq!(status, 202);
    world.clock.advance(chrono::Duration::minutes(6));
    let (expired, problem) = answer(&world, &user, "5201", Some("123456")).await;
    assert_eq!(expired, 410, "{problem}");
    assert!(
        solutions(&world).is_empty(),
        "nothing is sent for an expired checkpoint"
    );
    let (again, body) = sync(&world, &user, "5201").await;
    assert_eq!(
        (again, body["status"].as_str()),
        (201, Some("connected")),
        "{body}"
    );
}

#[tokio::test]
async fn given_a_reconnect_stopped_at_a_checkpoint_the_code_reconnects_the_same_account() {
    let world = World::new().await;
    let user = unique("checkpoint-reconnect");
    world.record_email(&user).await;
    let (first, body) = sync(&world, &user, "5301").await;
    assert_eq!(first, 201);
    let account_id = body["account_id"].as_str().expect("id").to_owned();
    world.simulator.set_status(&account_id, "CREDENTIALS");
    let id = AccountId::parse(&account_id).expect("id");
    let webhook = format!(
        r#"{{"AccountStatus":{{"account_id":"{account_id}","account_type":"LINKEDIN","message":"CREDENTIALS"}}}}"#
    );
    let delivered = status_webhook::handler(
        &world.status_webhook,
        http::Request::builder()
            .method("POST")
            .uri("/unipile/webhook")
            .header("Unipile-Auth", harness::world::WEBHOOK_SECRET)
            .body(Body::from(webhook))
            .expect("request"),
    )
    .await
    .expect("handled");
    assert_eq!(delivered.status(), 200);
    assert_eq!(world.account(&id).await.status, AccountStatus::Credentials);

    world.clock.advance(chrono::Duration::minutes(10));
    world
        .simulator
        .script_cookie_outcomes(["checkpoint:OTP:777777".to_owned()]);
    let (status, body) = sync_cookie(&world, &user, "5301", "fresh").await;
    assert_eq!(
        (status, body["account_id"].as_str()),
        (202, Some(account_id.as_str())),
        "{body}"
    );
    let (solved, done) = answer(&world, &user, "5301", Some("777777")).await;
    assert_eq!(
        (solved, done["status"].as_str()),
        (200, Some("reconnected")),
        "{done}"
    );
    assert_eq!(world.account(&id).await.status, AccountStatus::Ok);
}

#[tokio::test]
async fn disconnecting_the_extensions_account_pauses_its_identity_until_the_user_turns_it_back_on()
{
    let world = World::new().await;
    let user = unique("pause");
    let (first, body) = sync(&world, &user, "5401").await;
    assert_eq!(first, 201);
    let account_id = body["account_id"].as_str().expect("id").to_owned();
    let disconnected = accounts::handler(
        &world.accounts,
        api("DELETE", &format!("/accounts/{account_id}"), &user, None),
    )
    .await
    .expect("handled");
    assert_eq!(disconnected.status(), 204);

    // One item, the pause: no cookie, no TTL.
    let item = raw_item(&world, &user, "5401").await.expect("the pause");
    assert!(item.contains_key("paused_at"));
    for gone in [
        "li_at",
        "li_a",
        "user_agent",
        "unipile_account_id",
        "expires_at",
    ] {
        assert!(!item.contains_key(gone), "{gone} outlived the disconnect");
    }

    let connects = |world: &World| {
        world
            .simulator
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v1/accounts")
            .count()
    };
    let before = connects(&world);
    world.clock.advance(chrono::Duration::minutes(10));
    let (paused, body) = sync(&world, &user, "5401").await;
    assert_eq!(
        (paused, body["status"].as_str()),
        (200, Some("paused")),
        "{body}"
    );
    assert_eq!(
        connects(&world),
        before,
        "a paused identity connects nothing"
    );
    let item = raw_item(&world, &user, "5401").await.expect("the pause");
    assert!(!item.contains_key("li_at"), "and stores nothing");
    let (_, listed) = call(&world, "GET", "/extension/identities", &user, None).await;
    assert_eq!(listed["identities"][0]["paused"], true, "{listed}");

    let (resumed, view) = call(
        &world,
        "PUT",
        "/extension/identities/5401",
        &user,
        Some(r#"{"paused":false}"#),
    )
    .await;
    assert_eq!(
        (resumed, view["paused"].as_bool()),
        (200, Some(false)),
        "{view}"
    );
    let (again, body) = sync(&world, &user, "5401").await;
    assert_eq!(
        (again, body["status"].as_str()),
        (201, Some("connected")),
        "{body}"
    );
    assert_eq!(connects(&world), before + 1);
}

#[tokio::test]
async fn cookies_expire_with_the_tables_ttl_and_a_user_can_delete_them_all_at_once() {
    let world = World::new().await;
    let user = unique("delete-cookies");
    for member in ["5501", "5502"] {
        let (status, _) = sync(&world, &user, member).await;
        assert_eq!(status, 201);
    }
    let item = raw_item(&world, &user, "5501").await.expect("record");
    let expires = item
        .get("expires_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .expect("expires_at, epoch seconds");
    let expected = (world.clock.now() + chrono::Duration::days(30)).timestamp();
    assert_eq!(
        expires, expected,
        "the configured silence, from the last sync"
    );

    let other = unique("delete-cookies-other");
    let (status, _) = sync(&world, &other, "5503").await;
    assert_eq!(status, 201);
    let (deleted, body) = call(&world, "DELETE", "/extension/cookies", &user, None).await;
    assert_eq!(
        (deleted, body["deleted"].as_u64()),
        (200, Some(2)),
        "{body}"
    );
    for member in ["5501", "5502"] {
        assert!(raw_item(&world, &user, member).await.is_none());
    }
    assert!(
        raw_item(&world, &other, "5503").await.is_some(),
        "another user's cookie stays"
    );
    // The accounts stay; the next sync ties its new cookie to the identity's account.
    world.clock.advance(chrono::Duration::minutes(10));
    let (linked, body) = sync(&world, &user, "5501").await;
    assert_eq!(
        (linked, body["status"].as_str()),
        (200, Some("linked")),
        "{body}"
    );
}

#[tokio::test]
async fn a_cookie_record_never_names_an_account_another_user_holds_in_dynamodb() {
    use unipile_connect::domain::{LinkedinMemberId, Provider, UserId};
    use unipile_connect::ports::{AccountStore, ConnectedAccount, CookieResult, StoreError};
    let world = World::new().await;
    let (mine, theirs) = (unique("cookie-owner"), unique("account-owner"));
    let (status, _) = sync(&world, &mine, "6001").await;
    assert_eq!(status, 201);
    let held = AccountId::parse(unique("li-held")).expect("id");
    world
        .store
        .record_connection(
            &ConnectedAccount {
                account_id: held.clone(),
                user_id: UserId::parse(&theirs).expect("user"),
                account_type: Provider::Linkedin,
                status: AccountStatus::Ok,
                display_name: None,
                linkedin_member_id: None,
                linkedin_profile_id: None,
            },
            unipile_connect::domain::events::How::Hosted,
            world.clock.now(),
        )
        .await
        .expect("recorded for the other user");
    let before = raw_item(&world, &mine, "6001").await;
    let naming = |account: &AccountId| CookieResult {
        unipile_account_id: Some(account.clone()),
        connect_settled: true,
        ..CookieResult::default()
    };
    let (user, member) = (
        UserId::parse(&mine).expect("user"),
        LinkedinMemberId::parse("6001").expect("member"),
    );
    let refused = world
        .store
        .record_cookie_result(&user, &member, &naming(&held), world.clock.now())
        .await;
    assert!(
        matches!(refused, Err(StoreError::OwnedByAnotherUser)),
        "{refused:?}"
    );
    assert_eq!(
        raw_item(&world, &mine, "6001").await,
        before,
        "nothing written"
    );
    // An account nobody holds yet (a connect's fresh answer) is named as before.
    let fresh = AccountId::parse(unique("li-fresh")).expect("id");
    world
        .store
        .record_cookie_result(&user, &member, &naming(&fresh), world.clock.now())
        .await
        .expect("written");
    let record = world.store.cookie(&user, &member).await.expect("read");
    assert_eq!(record.and_then(|r| r.unipile_account_id), Some(fresh));
}

/// A sync that also sends the member's profile id, as the extension reads it from LinkedIn.
async fn sync_with_profile(
    world: &World,
    user: &str,
    member: &str,
    tag: &str,
    profile: &str,
) -> (u16, Value) {
    let body = format!(
        r#"{{"li_at":"AQEDAR-{member}-{tag}","user_agent":"{UA}","linkedin_member_id":"{member}","linkedin_profile_id":"{profile}"}}"#
    );
    call(world, "POST", "/extension/cookies", user, Some(&body)).await
}

#[tokio::test]
async fn given_a_connect_whose_answer_was_lost_then_the_next_sync_finds_the_member_s_account_by_its_profile_id()
 {
    let world = World::new().await;
    let user = unique("profile-lost");
    let profile = format!("ACoAAB{}", unique("m").replace(['-', '.'], "_"));
    // Unipile shows this member's profile id on the accounts its session logs in.
    world
        .simulator
        .add_linkedin_member("AQEDAR-8001-first", &profile);
    world.simulator.script_cookie_outcomes(["lost".to_owned()]);
    let (status, _) = sync_with_profile(&world, &user, "8001", "first", &profile).await;
    assert!(matches!(status, 502 | 504), "the answer was lost: {status}");
    let made: Vec<_> = world
        .simulator
        .accounts()
        .into_iter()
        .filter(|a| a.linkedin_profile_id.as_deref() == Some(profile.as_str()))
        .collect();
    assert_eq!(made.len(), 1, "Unipile made the account");

    world.clock.advance(chrono::Duration::minutes(10));
    let (status, body) = sync_with_profile(&world, &user, "8001", "second", &profile).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["account_id"], made[0].id.as_str());
    let connects = world
        .simulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/accounts")
        .count();
    assert_eq!(connects, 1, "no second, billed account");
    let account = world
        .account(&AccountId::parse(made[0].id.clone()).expect("id"))
        .await;
    assert_eq!(account.user_id.as_str(), user);
    assert_eq!(
        account.linkedin_profile_id.map(String::from).as_deref(),
        Some(profile.as_str())
    );
}

#[tokio::test]
async fn given_the_member_connected_through_hosted_auth_then_the_extension_s_sync_links_to_that_account()
 {
    let world = World::new().await;
    let user = unique("profile-hosted");
    let profile = format!("ACoAAB{}", unique("h").replace(['-', '.'], "_"));
    let response = world
        .request_link(&user, r#"{"type":"create","providers":["LINKEDIN"]}"#)
        .await;
    assert_eq!(response.status(), 200);
    let url = json(&response)["url"].as_str().expect("url").to_owned();
    let submitted = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "provider=LINKEDIN&outcome=connect&linkedin_profile_id={profile}"
        ))
        .send()
        .await
        .expect("hosted page answers");
    assert!(submitted.status().is_success() || submitted.status().is_redirection());
    let delivery = world
        .simulator
        .notifications()
        .pop()
        .expect("Unipile called notify_url");
    let recorded = connect_callback::handler(
        &world.connect_callback,
        harness::requests::notify(&delivery.url, &delivery.body.to_string()),
    )
    .await
    .expect("handled");
    assert_eq!(recorded.status(), 200);
    let hosted = delivery.body["account_id"].as_str().expect("id").to_owned();

    let (status, body) = sync_with_profile(&world, &user, "8002", "first", &profile).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "linked");
    assert_eq!(body["account_id"], hosted.as_str());
    assert!(
        !world
            .simulator
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/api/v1/accounts"),
        "no cookie connect"
    );
    let account = world.account(&AccountId::parse(hosted).expect("id")).await;
    assert_eq!(
        account.linkedin_member_id.map(|m| m.to_string()).as_deref(),
        Some("8002")
    );
}
