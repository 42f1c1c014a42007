//! The hourly reconciliation against moto (one Scan of the real table) and the simulator's
//! `GET /api/v1/accounts`: orphans recorded for their users, a gone account marked, a stray
//! one reported, then adopted.

use account_reconciler::cli;
use harness::requests::{api, json, notify};
use harness::world::World;
use local_stack::simulator::Fault;
use serde_json::json;
use std::collections::BTreeSet;
use unipile_connect::domain::{AccountId, AccountStatus, LinkedinMemberId, Provider, UserId};
use unipile_connect::ports::{AccountStore, Clock, ConnectedAccount};

/// Unipile's delivery goes nowhere (a closed port): the test hands it to the function.
const CLOSED_CALLBACK: &str = "http://127.0.0.1:9/";

/// A hosted-auth connect for `user` whose callback fails: the simulator made the account, and
/// `GET /api/v1/accounts/{id}` fails every time connect-callback asks.
async fn connect_with_a_failing_callback(world: &World, user: &str) -> String {
    let delivery = world.hosted_connect(user, "WHATSAPP").await;
    // One call and its two retries.
    world.simulator.add_fault(Fault {
        route: "get_account".into(),
        status: 503,
        error_type: "errors/service_unavailable".into(),
        times: 3,
    });
    let failed = connect_callback::handler(
        &world.connect_callback,
        notify(&delivery.url, &delivery.body.to_string()),
    )
    .await
    .expect("handled");
    assert_eq!(failed.status(), 502);
    delivery.body["account_id"]
        .as_str()
        .expect("account id")
        .to_owned()
}

async fn listed_for(world: &World, user: &str) -> Vec<(String, String)> {
    let response = accounts::handler(&world.accounts, api("GET", "/accounts", user, None))
        .await
        .expect("handled");
    json(&response)["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["account_id"].as_str().unwrap_or_default().to_owned(),
                a["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn given_orphans_a_gone_account_and_a_stray_one_when_the_reconciler_runs_then_it_settles_marks_and_reports()
 {
    let mut world = World::new().await;
    world.hosted_link.settings.public_base_url = CLOSED_CALLBACK.parse().expect("URL");

    // 1. A hosted-auth connect whose callback failed: nothing listed for u1.
    let hosted = connect_with_a_failing_callback(&world, "u1").await;
    assert!(listed_for(&world, "u1").await.is_empty());

    // 2. A cookie connect whose account row is missing (its second write failed).
    let body = r#"{"li_at":"AQEDAR-reconcile","user_agent":"Mozilla/5.0 Chrome/131.0","country":"fr","linkedin_member_id":"77"}"#;
    let synced = cookie_sync::handler(
        &world.cookie_sync,
        api("POST", "/extension/cookies", "u3", Some(body)),
    )
    .await
    .expect("handled");
    assert_eq!(synced.status(), 201);
    let cookie_account = json(&synced)["account_id"]
        .as_str()
        .expect("account")
        .to_owned();
    let cookie_id = AccountId::parse(cookie_account.clone()).expect("id");
    // The row lost, as if it was never recorded (its disconnection's fact goes elsewhere).
    let row = world
        .store
        .get_account(&cookie_id)
        .await
        .expect("read")
        .expect("stored");
    unipile_connect::flows::accounts::record_disconnection(
        world.store.as_ref(),
        row,
        unipile_connect::domain::events::Disconnector::Service,
        chrono::Utc::now(),
    )
    .await
    .expect("row removed");

    // 3. An account the table holds and Unipile no longer has.
    let ghost = AccountId::parse("ghost_1").expect("id");
    world
        .store
        .record_connection(
            &ConnectedAccount {
                account_id: ghost.clone(),
                user_id: UserId::parse("u2").expect("user"),
                account_type: Provider::Telegram,
                status: AccountStatus::Ok,
                display_name: None,
                linkedin_member_id: None,
                linkedin_profile_id: None,
            },
            unipile_connect::domain::events::How::Hosted,
            world.clock.now(),
        )
        .await
        .expect("stored");

    // 4. An account nobody here made (another app on the tenant, or a lost trace).
    let stray = world.simulator.add_account("TELEGRAM", "Stray").id;

    // An hour later, the scheduled run.
    world.clock.advance(chrono::Duration::hours(1));
    let answer = account_reconciler::handler(&world.account_reconciler, json!({}))
        .await
        .expect("ran");
    let settled: BTreeSet<_> = answer["settled"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        settled,
        BTreeSet::from([hosted.clone(), cookie_account.clone()]),
        "{answer}"
    );
    assert_eq!(answer["marked_deleted"], json!(["ghost_1"]));
    assert_eq!(answer["unattributed"], 1);
    assert_eq!(answer["listing_complete"], true);

    assert_eq!(listed_for(&world, "u1").await, vec![(hosted, "OK".into())]);
    let recorded = world.account(&cookie_id).await;
    assert_eq!(recorded.user_id.as_str(), "u3");
    assert_eq!(
        recorded.linkedin_member_id,
        Some(LinkedinMemberId::parse("77").expect("member"))
    );
    assert_eq!(world.account(&ghost).await.status, AccountStatus::Deleted);

    // The operator's report names the stray account; adopting it records it.
    let ports = world.account_reconciler.ports();
    let report = cli::report(ports, &world.account_reconciler.settings)
        .await
        .expect("reported");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with(&format!("{stray}\tTELEGRAM\t"))),
        "{report}"
    );
    let adopted = cli::adopt(ports, &stray, "u9", None)
        .await
        .expect("adopted");
    assert_eq!(
        adopted,
        format!("recorded TELEGRAM account {stray} for user u9 (OK)")
    );

    // A second run finds nothing left to do.
    let again = account_reconciler::handler(&world.account_reconciler, json!({}))
        .await
        .expect("ran");
    assert_eq!(
        again,
        json!({"settled": [], "to_confirm": 0, "reconnects_ended": 0, "marked_deleted": [], "unattributed": 0, "listing_complete": true})
    );
}

async fn sync(world: &World, user: &str, member: &str) -> (u16, serde_json::Value) {
    let body = format!(
        r#"{{"li_at":"AQEDAR-cap-{member}","user_agent":"Mozilla/5.0 Chrome/131.0","linkedin_member_id":"{member}"}}"#
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
async fn given_a_user_at_the_identity_cap_when_a_new_member_syncs_then_409_and_the_table_is_unchanged()
 {
    let world = World::new().await;
    for member in ["1", "2", "3"] {
        assert_eq!(sync(&world, "capped", member).await.0, 201);
    }
    let items = world.item_count().await;
    let (status, problem) = sync(&world, "capped", "4").await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        problem["type"],
        "urn:unipile-connect:problem:linkedin-identity-limit"
    );
    assert_eq!(world.item_count().await, items, "nothing stored");
    // The conditional write alone (what decides between parallel syncs) refuses a fourth and
    // admits a counted one again.
    let capped = UserId::parse("capped").expect("user");
    let member = |m: &str| LinkedinMemberId::parse(m).expect("member");
    assert!(
        !world
            .store
            .claim_linkedin_identity(&capped, &member("5"), &[], 3)
            .await
            .expect("answered")
    );
    assert!(
        world
            .store
            .claim_linkedin_identity(&capped, &member("2"), &[], 3)
            .await
            .expect("answered")
    );
    // A known identity still syncs (within the throttle: stored, nothing else).
    let (status, stored) = sync(&world, "capped", "2").await;
    assert_eq!(status, 200, "{stored}");
}

#[tokio::test]
async fn given_a_credentials_status_no_webhook_delivered_when_the_reconciler_runs_then_the_sweeper_emails_the_owner_once()
 {
    let world = World::new().await;
    let user = harness::world::unique("missed-webhook");
    let account_id = world.connected_account(&user, "WHATSAPP").await;
    // Unipile's status changes; every delivery of it is lost.
    assert!(
        world
            .simulator
            .set_status(account_id.as_str(), "CREDENTIALS")
    );
    let answer = account_reconciler::handler(&world.account_reconciler, json!({}))
        .await
        .expect("reconciled");
    assert_eq!(answer["to_confirm"], 1, "{answer}");
    let stored = world.account(&account_id).await;
    assert_eq!(
        stored.status,
        AccountStatus::Ok,
        "nothing recorded on the list's word"
    );
    assert!(stored.pending.is_some(), "recorded to be confirmed");
    follow_up_sweeper::handler(&world.follow_up_sweeper, json!({}))
        .await
        .expect("swept");
    assert_eq!(
        world.account(&account_id).await.status,
        AccountStatus::Credentials
    );
    let to = format!("{user}@example.com");
    assert_eq!(harness::moto::sent_emails(&to).await.len(), 1);
    // The next hourly run and sweep change nothing more.
    let again = account_reconciler::handler(&world.account_reconciler, json!({}))
        .await
        .expect("reconciled");
    assert_eq!(again["to_confirm"], 0, "{again}");
    follow_up_sweeper::handler(&world.follow_up_sweeper, json!({}))
        .await
        .expect("swept");
    assert_eq!(
        harness::moto::sent_emails(&to).await.len(),
        1,
        "exactly one"
    );
}

#[tokio::test]
async fn given_a_lost_connect_answer_when_the_reconciler_runs_then_the_member_s_account_is_found_by_its_profile_id_in_dynamodb()
 {
    let world = World::new().await;
    let user = harness::world::unique("profile-reconciled");
    let profile = format!(
        "ACoAAB{}",
        harness::world::unique("r").replace(['-', '.'], "_")
    );
    world
        .simulator
        .add_linkedin_member("AQEDAR-9001-first", &profile);
    world.simulator.script_cookie_outcomes(["lost".to_owned()]);
    let body = format!(
        r#"{{"li_at":"AQEDAR-9001-first","user_agent":"Mozilla/5.0 (X11) Chrome/131.0","linkedin_member_id":"9001","linkedin_profile_id":"{profile}"}}"#
    );
    let lost = cookie_sync::handler(
        &world.cookie_sync,
        api("POST", "/extension/cookies", &user, Some(&body)),
    )
    .await
    .expect("handled");
    assert!(lost.status().is_server_error(), "{}", lost.status());
    let made = world
        .simulator
        .accounts()
        .into_iter()
        .find(|a| a.linkedin_profile_id.as_deref() == Some(profile.as_str()))
        .expect("Unipile made the account");
    // No sync comes (the browser was closed): the hourly run finds it, created long ago.
    world.clock.advance(chrono::Duration::hours(30));
    let answer = account_reconciler::handler(&world.account_reconciler, json!({}))
        .await
        .expect("reconciled");
    assert_eq!(answer["settled"], json!([made.id.clone()]), "{answer}");
    let account = world
        .account(&AccountId::parse(made.id.clone()).expect("id"))
        .await;
    assert_eq!(account.user_id.as_str(), user);
    let record = world
        .store
        .cookie(
            &UserId::parse(&user).expect("user"),
            &LinkedinMemberId::parse("9001").expect("member"),
        )
        .await
        .expect("read")
        .expect("record");
    assert_eq!(
        record.unipile_account_id.map(String::from),
        Some(made.id),
        "the connect is answered"
    );
    assert_eq!(record.connect_started_at, None);
}
