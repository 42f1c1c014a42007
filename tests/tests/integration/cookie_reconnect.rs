//! The Chrome-extension story against moto (DynamoDB, KMS, EventBridge Scheduler, SES v2) and
//! the simulator. moto never fires schedules: the tests invoke `reconnect-retry` with each
//! schedule's input and delete it afterwards, as Scheduler does (ActionAfterCompletion DELETE).

use harness::moto::sent_emails;
use harness::requests::{api, json};
use harness::world::{CONNECT_THROTTLE, RECONNECT_FUNCTION_ARN, WEBHOOK_SECRET, World, unique};
use lambda_http::Body;
use serde_json::Value;
use unipile_connect::domain::{AccountId, AccountStatus, LinkedinMemberId, UserId};
use unipile_connect::ports::AccountStore;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
/// Every cookie value in these tests starts with this, so a log scan can look for all of them.
pub const COOKIE_MARK: &str = "cookie-value-never-logged";

fn li_at(tag: &str) -> String {
    format!("{COOKIE_MARK}-li-at-{tag}")
}

async fn sync(world: &World, user: &str, member: &str, tag: &str) -> (u16, Value) {
    let body = format!(
        r#"{{"li_at":"{}","li_a":"{COOKIE_MARK}-li-a-{tag}","user_agent":"{UA}","ip":"81.2.69.160","country":"fr","linkedin_member_id":"{member}"}}"#,
        li_at(tag)
    );
    let response = cookie_sync::handler(
        &world.cookie_sync,
        api("POST", "/extension/cookies", user, Some(&body)),
    )
    .await
    .expect("handled");
    let text = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    assert!(!text.contains(COOKIE_MARK), "a response carried a cookie");
    (response.status().as_u16(), json(&response))
}

/// Unipile sets the account's status, then delivers it.
async fn report(world: &World, account_id: &str, message: &str) {
    world.simulator.set_status(account_id, message);
    let body = format!(
        r#"{{"AccountStatus":{{"account_id":"{account_id}","account_type":"LINKEDIN","message":"{message}"}}}}"#
    );
    let request = http::Request::builder()
        .method("POST")
        .uri("/unipile/webhook")
        .header("Unipile-Auth", WEBHOOK_SECRET)
        .body(Body::from(body))
        .expect("request");
    let response = status_webhook::handler(&world.status_webhook, request)
        .await
        .expect("handled");
    assert_eq!(response.status(), 200);
}

/// Runs every schedule of the group as Scheduler would; returns (expression, outcome) pairs.
async fn fire_schedules(world: &World) -> Vec<(String, Value)> {
    let mut fired = Vec::new();
    for (name, expression, input) in world.schedules().await {
        let outcome = reconnect_retry::handler(&world.reconnect_retry, input)
            .await
            .expect("the attempt ran");
        world
            .scheduler
            .delete_schedule()
            .name(&name)
            .group_name(&world.schedule_group)
            .send()
            .await
            .expect("deleted after running");
        fired.push((expression, outcome));
    }
    fired
}

fn at(time: chrono::DateTime<chrono::Utc>) -> String {
    format!("at({})", time.format("%Y-%m-%dT%H:%M:%S"))
}

async fn connected_by_cookie(world: &World, user: &str, member: &str) -> String {
    world.record_email(user).await;
    let (status, body) = sync(world, user, member, "first").await;
    assert_eq!(status, 201, "{body}");
    body["account_id"].as_str().expect("account id").to_owned()
}

#[tokio::test]
async fn given_no_account_when_the_extension_syncs_then_an_account_is_connected_with_the_cookie() {
    let world = World::new().await;
    let user = unique("first-sync");
    let (status, body) = sync(&world, &user, "1001", "connect").await;
    assert_eq!(status, 201);
    assert_eq!(body["status"], "connected");
    let account_id = AccountId::parse(body["account_id"].as_str().expect("id")).expect("id");

    let account = world.account(&account_id).await;
    assert_eq!(account.account_type.as_str(), "LINKEDIN");
    assert_eq!(account.status, AccountStatus::Ok);
    assert_eq!(
        account.linkedin_member_id.as_ref().map(|m| m.as_str()),
        Some("1001")
    );

    // What reached Unipile: the contract's fields, the cookies in clear (only there).
    let connect = world
        .simulator
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/accounts")
        .expect("connect");
    let sent = connect.body.expect("body");
    assert_eq!(sent["provider"], "LINKEDIN");
    assert_eq!(sent["access_token"], li_at("connect").as_str());
    assert_eq!(
        sent["premium_token"],
        format!("{COOKIE_MARK}-li-a-connect").as_str()
    );
    assert_eq!(sent["user_agent"], UA);
    assert_eq!(sent["country"], "fr");
    assert_eq!(sent["ip"], "81.2.69.160");

    // At rest the cookie is ciphertext, and it opens only with its own context.
    let user_id = UserId::parse(&user).expect("user");
    let member = LinkedinMemberId::parse("1001").expect("member");
    let record = world
        .store
        .cookie(&user_id, &member)
        .await
        .expect("read")
        .expect("record");
    assert_eq!(record.unipile_account_id.as_ref(), Some(&account_id));
    assert_eq!(record.unipile_status, Some(AccountStatus::Ok));
    assert!(!String::from_utf8_lossy(&record.li_at.0).contains(COOKIE_MARK));
    let raw = world
        .dynamodb
        .scan()
        .table_name(&world.table)
        .send()
        .await
        .expect("scan");
    assert!(
        !format!("{:?}", raw.items()).contains(COOKIE_MARK),
        "no plaintext cookie in the table"
    );
    let other_member = LinkedinMemberId::parse("1002").expect("member");
    assert!(
        world
            .reconnect_retry
            .cipher
            .open(&record.li_at, &user_id, &other_member)
            .await
            .is_err()
    );
    assert!(
        world
            .reconnect_retry
            .cipher
            .open(&record.li_at, &user_id, &member)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn given_a_checkpoint_then_202_with_its_type_and_it_is_recorded() {
    let world = World::new().await;
    let user = unique("checkpoint");
    world
        .simulator
        .script_cookie_outcomes(["checkpoint:2FA".to_owned()]);
    let (status, body) = sync(&world, &user, "2001", "checkpoint").await;
    assert_eq!(status, 202);
    assert_eq!(body["checkpoint"]["type"], "2FA");
    let record = world
        .store
        .cookie(
            &UserId::parse(&user).expect("user"),
            &LinkedinMemberId::parse("2001").expect("member"),
        )
        .await
        .expect("read")
        .expect("record");
    assert_eq!(record.checkpoint.as_deref(), Some("2FA"));
}

#[tokio::test]
async fn given_a_second_linkedin_identity_then_it_gets_its_own_record_and_account() {
    let world = World::new().await;
    let user = unique("switching");
    let (first, one) = sync(&world, &user, "3001", "switch-a").await;
    let (second, two) = sync(&world, &user, "3002", "switch-b").await;
    assert_eq!((first, second), (201, 201));
    assert_ne!(one["account_id"], two["account_id"]);
    let listed = accounts::handler(&world.accounts, api("GET", "/accounts", &user, None))
        .await
        .expect("handled");
    assert_eq!(json(&listed)["accounts"].as_array().map(Vec::len), Some(2));
    // A later sync of the first identity changes its record only.
    let (again, body) = sync(&world, &user, "3001", "switch-a2").await;
    assert_eq!((again, body["status"].as_str()), (200, Some("stored")));
}

#[tokio::test]
async fn given_parallel_syncs_then_one_connect_reaches_unipile_and_the_throttle_holds() {
    let world = World::new().await;
    let user = unique("throttle");
    world
        .simulator
        .script_cookie_outcomes(vec!["invalid_credentials".to_owned(); 3]);
    let (a, b, c) = tokio::join!(
        sync(&world, &user, "4001", "parallel-1"),
        sync(&world, &user, "4001", "parallel-2"),
        sync(&world, &user, "4001", "parallel-3"),
    );
    let mut statuses = vec![a.0, b.0, c.0];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        vec![200, 200, 422],
        "one refused connect, two throttled"
    );
    let connects = world
        .simulator
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/accounts")
        .count();
    assert_eq!(connects, 1);

    let (status, body) = sync(&world, &user, "4001", "too-soon").await;
    assert_eq!((status, body["connect"].as_str()), (200, Some("throttled")));
    world
        .clock
        .advance(CONNECT_THROTTLE + chrono::Duration::seconds(1));
    let (status, _) = sync(&world, &user, "4001", "later").await;
    assert_eq!(
        status, 422,
        "after the throttle window another connect is tried"
    );
}

async fn reconnect_story(stale: bool) {
    let world = World::new().await;
    let user = unique(if stale { "stale" } else { "fresh" });
    let account_id = connected_by_cookie(&world, &user, "5001").await;
    if stale {
        world.clock.advance(chrono::Duration::hours(30));
    }
    world
        .simulator
        .script_cookie_outcomes(vec!["provider_error".to_owned(); 5]);
    report(&world, &account_id, "CREDENTIALS").await;
    assert!(
        sent_emails(&format!("{user}@example.com")).await.is_empty(),
        "no email before the retries"
    );

    let account = world
        .account(&AccountId::parse(&account_id).expect("id"))
        .await;
    let t0 = account
        .cookie_reconnect
        .expect("a reconnect started")
        .first_attempt_at;
    let mut times = Vec::new();
    for _ in 0..6 {
        for (expression, outcome) in fire_schedules(&world).await {
            times.push(expression);
            assert_ne!(outcome["outcome"], "reconnected");
        }
        world.clock.advance(chrono::Duration::hours(1));
    }
    let expected: Vec<String> = (0..5)
        .map(|h| at(t0 + chrono::Duration::hours(h)))
        .collect();
    assert_eq!(times, expected, "attempts at T0, +1 h, +2 h, +3 h, +4 h");
    assert!(world.schedules().await.is_empty());

    let emails = sent_emails(&format!("{user}@example.com")).await;
    assert_eq!(
        emails.len(),
        1,
        "exactly one email once every attempt failed"
    );
    let body = emails[0]["body"].as_str().expect("body");
    assert!(body.contains("once an hour for four hours"));
    assert_eq!(
        body.contains("has not sent us your LinkedIn session since"),
        stale
    );
    let reconnects = world
        .simulator
        .requests()
        .iter()
        .filter(|r| r.path == format!("/api/v1/accounts/{account_id}") && r.method == "POST")
        .count();
    assert_eq!(reconnects, 5);
}

#[tokio::test]
async fn given_reconnects_failing_five_times_with_a_fresh_cookie_then_one_email_without_the_extension_hint()
 {
    reconnect_story(false).await;
}

#[tokio::test]
async fn given_reconnects_failing_five_times_with_a_stale_cookie_then_one_email_with_the_extension_hint()
 {
    reconnect_story(true).await;
}

#[tokio::test]
async fn given_a_reconnect_succeeding_at_attempt_2_then_no_email_and_no_schedule_left() {
    let world = World::new().await;
    let user = unique("third-time");
    let account_id = connected_by_cookie(&world, &user, "6001").await;
    world.simulator.script_cookie_outcomes([
        "network_down".to_owned(),
        "timeout".to_owned(),
        "success".to_owned(),
    ]);
    report(&world, &account_id, "CREDENTIALS").await;
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.extend(
            fire_schedules(&world)
                .await
                .into_iter()
                .map(|(_, o)| o["outcome"].clone()),
        );
        world.clock.advance(chrono::Duration::hours(1));
    }
    assert_eq!(outcomes, vec!["retrying", "retrying", "reconnected"]);
    let id = AccountId::parse(&account_id).expect("id");
    let account = world.account(&id).await;
    assert_eq!(account.status, AccountStatus::Ok);
    assert_eq!(account.cookie_reconnect, None);
    assert!(world.schedules().await.is_empty());
    assert!(sent_emails(&format!("{user}@example.com")).await.is_empty());

    // Scheduler delivers at least once: a repeated attempt changes nothing.
    let repeat = serde_json::json!({"account_id": account_id, "attempt": 2});
    let outcome = reconnect_retry::handler(&world.reconnect_retry, repeat)
        .await
        .expect("ran");
    assert_eq!(outcome["outcome"], "skipped");
}

#[tokio::test]
async fn given_a_fresh_cookie_while_attempts_are_pending_then_it_reconnects_at_once() {
    let world = World::new().await;
    let user = unique("fresh-cookie");
    let account_id = connected_by_cookie(&world, &user, "7001").await;
    world
        .simulator
        .script_cookie_outcomes(["provider_error".to_owned()]);
    report(&world, &account_id, "CREDENTIALS").await;
    let first = fire_schedules(&world).await;
    assert_eq!(first[0].1["outcome"], "retrying");
    assert_eq!(world.schedules().await.len(), 1, "attempt 1 waits");

    world
        .clock
        .advance(CONNECT_THROTTLE + chrono::Duration::seconds(1));
    let (status, body) = sync(&world, &user, "7001", "fresh").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("reconnected"))
    );
    let last = world
        .simulator
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST")
        .expect("reconnect");
    assert_eq!(last.path, format!("/api/v1/accounts/{account_id}"));
    assert_eq!(
        last.body.expect("body")["access_token"],
        li_at("fresh").as_str(),
        "the newest cookie was used"
    );
    assert!(
        world.schedules().await.is_empty(),
        "the pending attempts are gone"
    );
    let id = AccountId::parse(&account_id).expect("id");
    assert_eq!(world.account(&id).await.status, AccountStatus::Ok);

    let late = serde_json::json!({"account_id": account_id, "attempt": 1});
    let outcome = reconnect_retry::handler(&world.reconnect_retry, late)
        .await
        .expect("ran");
    assert_eq!(outcome["outcome"], "skipped");
    assert!(sent_emails(&format!("{user}@example.com")).await.is_empty());
}

#[tokio::test]
async fn given_a_checkpoint_during_reconnect_then_the_user_is_emailed_at_once_and_retries_stop() {
    let world = World::new().await;
    let user = unique("reconnect-checkpoint");
    let account_id = connected_by_cookie(&world, &user, "8001").await;
    world
        .simulator
        .script_cookie_outcomes(["checkpoint:CAPTCHA".to_owned()]);
    report(&world, &account_id, "CREDENTIALS").await;
    let fired = fire_schedules(&world).await;
    assert_eq!(fired[0].1["outcome"], "needs_user");
    assert!(world.schedules().await.is_empty());
    let emails = sent_emails(&format!("{user}@example.com")).await;
    assert_eq!(emails.len(), 1);
    assert!(
        emails[0]["body"]
            .as_str()
            .expect("body")
            .contains("asked for a verification (CAPTCHA)")
    );
}

#[tokio::test]
async fn given_the_schedule_then_it_targets_the_retry_function_with_the_account_and_attempt() {
    let world = World::new().await;
    let user = unique("schedule-shape");
    let account_id = connected_by_cookie(&world, &user, "9001").await;
    report(&world, &account_id, "CREDENTIALS").await;
    // The same webhook again: the schedule already exists, nothing is created twice.
    report(&world, &account_id, "CREDENTIALS").await;
    let schedules = world.schedules().await;
    assert_eq!(schedules.len(), 1);
    let (name, _, input) = &schedules[0];
    let stored = world
        .account(&AccountId::parse(&account_id).expect("id"))
        .await;
    let outage = stored.outage.expect("an outage is open").id;
    // Named and addressed for this outage: a leftover never stands in for the next one's.
    assert_eq!(name, &format!("reconnect-{account_id}-{outage}-0"));
    assert_eq!(
        input,
        &serde_json::json!({"account_id": account_id, "outage": outage, "attempt": 0})
    );
    let schedule = world
        .scheduler
        .get_schedule()
        .name(name)
        .group_name(&world.schedule_group)
        .send()
        .await
        .expect("schedule");
    let target = schedule.target().expect("target");
    assert_eq!(target.arn(), RECONNECT_FUNCTION_ARN);
    assert!(target.dead_letter_config().is_some());
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        schedule.action_after_completion().map(|a| a.as_str()),
        Some("DELETE")
    );
}

#[tokio::test]
async fn given_every_cookie_test_when_the_logs_are_scanned_then_no_cookie_value_appears() {
    // This test's own story, so the scan has cookie traffic to look through even run alone.
    let world = World::new().await;
    let user = unique("log-scan");
    let account_id = connected_by_cookie(&world, &user, "9901").await;
    world
        .simulator
        .script_cookie_outcomes(["invalid_credentials".to_owned()]);
    report(&world, &account_id, "CREDENTIALS").await;
    fire_schedules(&world).await;
    let bad =
        r#"{"li_at":"cookie-value-never-logged bad","user_agent":"x","linkedin_member_id":"1"}"#;
    let response = cookie_sync::handler(
        &world.cookie_sync,
        api("POST", "/extension/cookies", &user, Some(bad)),
    )
    .await
    .expect("handled");
    assert_eq!(response.status(), 400);
    assert!(!String::from_utf8_lossy(response.body().as_ref()).contains(COOKIE_MARK));

    let logs = harness::logs::captured().text();
    assert!(logs.contains("extension cookie stored") && logs.contains("cookie reconnect failed"));
    assert!(
        !logs.contains(COOKIE_MARK),
        "a cookie value reached the logs"
    );
}

#[tokio::test]
async fn given_a_checkpoint_the_user_then_passed_the_next_sync_records_the_account() {
    let world = World::new().await;
    let user = unique("checkpoint-passed");
    world
        .simulator
        .script_cookie_outcomes(["checkpoint:OTP".to_owned()]);
    let (status, body) = sync(&world, &user, "9101", "otp").await;
    assert_eq!(status, 202);
    let account_id = body["account_id"]
        .as_str()
        .expect("the checkpoint names the account")
        .to_owned();
    let (status, body) = sync(&world, &user, "9101", "otp-pending").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (202, Some("checkpoint")),
        "still waiting for the user"
    );

    // The user passes the verification: Unipile now has the account, OK.
    world
        .simulator
        .report_status(&account_id, "OK", std::time::Duration::from_millis(1))
        .await
        .expect("the simulator knows it");
    let (status, body) = sync(&world, &user, "9101", "otp-done").await;
    assert_eq!(
        (status, body["account_id"].as_str()),
        (201, Some(account_id.as_str()))
    );
    let id = AccountId::parse(&account_id).expect("id");
    let account = world.account(&id).await;
    assert_eq!(
        account.linkedin_member_id.as_ref().map(|m| m.as_str()),
        Some("9101")
    );
    let connects = world
        .simulator
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/accounts")
        .count();
    assert_eq!(connects, 1, "no second account was created");
}

#[tokio::test]
async fn given_every_attempt_failed_a_fresh_cookie_still_reconnects_the_account() {
    let world = World::new().await;
    let user = unique("after-exhaustion");
    let account_id = connected_by_cookie(&world, &user, "9201").await;
    world
        .simulator
        .script_cookie_outcomes(vec!["provider_error".to_owned(); 5]);
    report(&world, &account_id, "CREDENTIALS").await;
    for _ in 0..6 {
        fire_schedules(&world).await;
        world.clock.advance(chrono::Duration::hours(1));
    }
    assert_eq!(sent_emails(&format!("{user}@example.com")).await.len(), 1);

    // The user fixes the extension, which sends a fresh cookie.
    let (status, body) = sync(&world, &user, "9201", "fixed").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("reconnected"))
    );
    let id = AccountId::parse(&account_id).expect("id");
    assert_eq!(world.account(&id).await.status, AccountStatus::Ok);
}

#[tokio::test]
async fn given_the_account_recovers_by_itself_mid_reconnect_then_the_remaining_schedules_are_deleted()
 {
    let world = World::new().await;
    let user = unique("recovers");
    let account_id = connected_by_cookie(&world, &user, "9301").await;
    world
        .simulator
        .script_cookie_outcomes(["provider_error".to_owned()]);
    report(&world, &account_id, "CREDENTIALS").await;
    fire_schedules(&world).await;
    assert_eq!(world.schedules().await.len(), 1, "attempt 1 waits");

    report(&world, &account_id, "RECONNECTED").await;
    assert!(world.schedules().await.is_empty());
    let id = AccountId::parse(&account_id).expect("id");
    let account = world.account(&id).await;
    assert_eq!(
        (account.status, account.cookie_reconnect),
        (AccountStatus::Ok, None)
    );
    assert!(sent_emails(&format!("{user}@example.com")).await.is_empty());
}

#[tokio::test]
async fn given_an_attempt_due_in_the_past_then_its_schedule_is_set_shortly_ahead_instead() {
    let world = World::new().await;
    let late = unipile_connect::domain::reconnect::ReconnectAttempt {
        account_id: AccountId::parse("late-account").expect("id"),
        outage: Some("0a1b2c3d4e5f".into()),
        attempt: 3,
    };
    let now = unipile_connect::ports::Clock::now(world.clock.as_ref());
    world
        .reconnect_retry
        .follow_ups
        .scheduler
        .schedule(&late, now - chrono::Duration::hours(2))
        .await
        .expect("scheduled");
    let schedules = world.schedules().await;
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].1, at(now + chrono::Duration::seconds(15)));
}

#[tokio::test]
async fn given_a_reconnect_whose_attempt_never_ran_through_then_the_hourly_reconciliation_ends_it_and_the_owner_is_emailed()
 {
    let world = World::new().await;
    let user = unique("overdue");
    let id = connected_by_cookie(&world, &user, "7301").await;
    report(&world, &id, "CREDENTIALS").await;
    assert_eq!(world.schedules().await.len(), 1, "attempt 0 is scheduled");
    // Attempt 0 failed for good (its message is in the dead-letter queue): Scheduler deleted
    // its schedule and nothing moves the reconnect on.
    for (name, _, _) in world.schedules().await {
        world
            .scheduler
            .delete_schedule()
            .name(&name)
            .group_name(&world.schedule_group)
            .send()
            .await
            .expect("deleted");
    }
    world.clock.advance(chrono::Duration::hours(3));
    let answer = account_reconciler::handler(&world.account_reconciler, serde_json::json!({}))
        .await
        .expect("reconciled");
    assert_eq!(answer["reconnects_ended"], 1, "{answer}");
    let account = world.account(&AccountId::parse(&id).expect("id")).await;
    assert_eq!(account.cookie_reconnect, None);
    follow_up_sweeper::handler(&world.follow_up_sweeper, serde_json::json!({}))
        .await
        .expect("swept");
    let to = format!("{user}@example.com");
    assert_eq!(sent_emails(&to).await.len(), 1);
    let again = account_reconciler::handler(&world.account_reconciler, serde_json::json!({}))
        .await
        .expect("reconciled");
    assert_eq!(again["reconnects_ended"], 0, "{again}");
}
