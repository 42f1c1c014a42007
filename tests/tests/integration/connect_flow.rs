//! The connect flow against moto (real aws-sdk DynamoDB client) and the Unipile simulator.

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use harness::requests::{api, json, notify};
use harness::world::{APP_ORIGIN, World};
use local_stack::simulator::Fault;
use unipile_connect::domain::{AccountId, LinkPurpose};
use unipile_connect::ports::{AccountStore, Clock};

/// Where the test worlds tell Unipile to call back: a closed local port, so the simulator's
/// delivery fails fast and the test hands the recorded callback to the function itself.
const CLOSED_CALLBACK: &str = "http://127.0.0.1:9/";

async fn world() -> World {
    let mut world = World::new().await;
    world.hosted_link.settings.public_base_url = CLOSED_CALLBACK.parse().expect("URL");
    world
}

/// Asks for a link as `user`, completes the simulator's hosted page, and returns the
/// callback Unipile made (its URL and body).
async fn connect_through_simulator(world: &World, user: &str, body: &str) -> (String, String) {
    let response = world.request_link(user, body).await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let url = json(&response)["url"].as_str().expect("url").to_owned();
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let submitted = page
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("provider=LINKEDIN&outcome=connect")
        .send()
        .await
        .expect("hosted page answers");
    assert!(submitted.status().is_success() || submitted.status().is_redirection());
    let delivery = world
        .simulator
        .notifications()
        .pop()
        .expect("Unipile called notify_url");
    (delivery.url, delivery.body.to_string())
}

#[tokio::test]
async fn given_a_signed_in_user_when_they_link_and_unipile_calls_back_then_the_account_is_listed() {
    let world = world().await;
    let (notify_url, body) = connect_through_simulator(
        &world,
        "user_42",
        &format!(r#"{{"type":"create","providers":["LINKEDIN"],"success_redirect_url":"{APP_ORIGIN}/done"}}"#),
    )
    .await;

    // The link request, field by field as the contract (§2) describes it.
    let requests = world.simulator.requests();
    let link = requests
        .iter()
        .find(|r| r.path == "/api/v1/hosted/accounts/link")
        .expect("link requested");
    assert!(link.api_key_sent);
    let sent = link
        .body
        .as_ref()
        .expect("JSON body")
        .as_object()
        .expect("object");
    let mut fields: Vec<&str> = sent.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "api_url",
            "expiresOn",
            "name",
            "notify_url",
            "providers",
            "success_redirect_url",
            "type"
        ]
    );
    assert_eq!(sent["type"], "create");
    assert_eq!(sent["providers"], serde_json::json!(["LINKEDIN"]));
    assert_eq!(sent["api_url"], world.simulator_url.as_str());
    assert_eq!(sent["name"], "user_42");
    assert_eq!(sent["success_redirect_url"], format!("{APP_ORIGIN}/done"));
    let expires_on = sent["expiresOn"].as_str().expect("string");
    assert_eq!(expires_on.len(), 24, "3 decimals and Z: {expires_on}");
    assert!(expires_on.ends_with('Z') && expires_on.as_bytes()[19] == b'.');
    assert!(
        sent["notify_url"]
            .as_str()
            .expect("string")
            .starts_with("http://127.0.0.1:9/unipile/notify?state=v2.")
    );

    let response = connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
        .await
        .expect("handled");
    assert_eq!(response.status(), 200);
    // Confirmed with Unipile before it was stored.
    assert!(
        world
            .simulator
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.starts_with("/api/v1/accounts/"))
    );

    let listed = accounts::handler(&world.accounts, api("GET", "/accounts", "user_42", None))
        .await
        .expect("handled");
    assert_eq!(listed.status(), 200);
    let listed = json(&listed);
    let account = &listed["accounts"][0];
    assert_eq!(listed["accounts"].as_array().map(Vec::len), Some(1));
    assert_eq!(account["type"], "LINKEDIN");
    assert_eq!(account["status"], "OK");
    assert_eq!(
        account["account_id"],
        world.simulator.accounts()[0].id.as_str()
    );

    let others = accounts::handler(
        &world.accounts,
        api("GET", "/accounts", "someone_else", None),
    )
    .await
    .expect("handled");
    assert_eq!(json(&others)["accounts"], serde_json::json!([]));
}

#[tokio::test]
async fn given_a_recorded_account_when_the_callback_is_replayed_then_there_is_still_one_with_its_creation_date()
 {
    let world = world().await;
    let (notify_url, body) =
        connect_through_simulator(&world, "user_7", r#"{"type":"create","providers":"*"}"#).await;
    connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
        .await
        .expect("handled");
    let id = AccountId::parse(world.simulator.accounts()[0].id.clone()).expect("id");
    let first = world.account(&id).await;

    world.clock.advance(chrono::Duration::minutes(1));
    for _ in 0..3 {
        let response =
            connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
                .await
                .expect("handled");
        assert_eq!(response.status(), 200);
    }
    let replayed = world.account(&id).await;
    assert_eq!(replayed.created_on, first.created_on);
    assert!(replayed.last_update > first.last_update);
    // One account item, one profile item, the link's spent state, and the event feed's three
    // items for the one account.connected (its entry in the whole feed and in the account's,
    // and its first position): nothing duplicated, no second event.
    assert_eq!(world.item_count().await, 3 + 3);
}

#[tokio::test]
async fn given_a_used_notify_url_when_an_attacker_replays_it_with_another_account_then_it_is_refused_and_unipile_s_retry_still_succeeds()
 {
    let world = world().await;
    let (notify_url, body) =
        connect_through_simulator(&world, "victim", r#"{"type":"create","providers":"*"}"#).await;
    let first = connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
        .await
        .expect("handled");
    assert_eq!(first.status(), 200);
    let victim_account = world.simulator.accounts()[0].id.clone();

    // Another account the tenant knows, connected at Unipile by someone else, whose own
    // callback never reached us: not in our table.
    let (_, attacker_body) =
        connect_through_simulator(&world, "attacker", r#"{"type":"create","providers":"*"}"#).await;
    let attacker_delivery: serde_json::Value =
        serde_json::from_str(&attacker_body).expect("notify body");
    let other_account = attacker_delivery["account_id"]
        .as_str()
        .expect("account id")
        .to_owned();
    assert_ne!(other_account, victim_account);
    let items_before = world.item_count().await;

    // The victim's notify URL (state and all), replayed for the other account.
    let replay = format!(
        r#"{{"status":"CREATION_SUCCESS","account_id":"{other_account}","name":"victim"}}"#
    );
    let refused = connect_callback::handler(&world.connect_callback, notify(&notify_url, &replay))
        .await
        .expect("handled");
    assert_eq!(refused.status(), 409);
    assert_eq!(json(&refused)["status"], 409);
    let other_id = AccountId::parse(other_account).expect("id");
    assert_eq!(
        world
            .store
            .get_account(&other_id)
            .await
            .expect("the table answers"),
        None,
        "the other account is not recorded"
    );
    assert_eq!(world.item_count().await, items_before, "nothing written");

    // Unipile retrying the original delivery is still welcome.
    world.clock.advance(chrono::Duration::seconds(30));
    let retried = connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
        .await
        .expect("handled");
    assert_eq!(retried.status(), 200);
    let listed = accounts::handler(&world.accounts, api("GET", "/accounts", "victim", None))
        .await
        .expect("handled");
    let listed = json(&listed);
    assert_eq!(listed["accounts"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["accounts"][0]["account_id"], victim_account.as_str());

    // The spent state: one item, removed by the table's TTL a week after the token expires.
    let scanned = world
        .dynamodb
        .scan()
        .table_name(&world.table)
        .send()
        .await
        .expect("scan");
    let states: Vec<_> = scanned
        .items()
        .iter()
        .filter(|item| {
            item.get("PK")
                .and_then(|pk| pk.as_s().ok())
                .is_some_and(|pk| pk.starts_with("STATE#"))
        })
        .collect();
    assert_eq!(states.len(), 1);
    let state = states[0];
    assert_eq!(state.get("SK"), Some(&AttributeValue::S("STATE".into())));
    assert_eq!(
        state.get("account_id"),
        Some(&AttributeValue::S(victim_account.clone()))
    );
    assert_eq!(
        state.get("user_id"),
        Some(&AttributeValue::S("victim".into()))
    );
    let expires_at: i64 = state
        .get("expires_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .expect("expires_at in epoch seconds");
    // Kept a week past the token's expiry (link + grace), so the reconciliation can still
    // tell whose the account is if recording it failed.
    let kept_until = (world.clock.now()
        + chrono::Duration::minutes(45)
        + unipile_connect::ports::STATE_KEPT_AFTER_EXPIRY)
        .timestamp();
    assert!(
        (kept_until - 120..=kept_until).contains(&expires_at),
        "the token's expiry plus a week: {expires_at} vs {kept_until}"
    );
    let ttl = world
        .dynamodb
        .describe_time_to_live()
        .table_name(&world.table)
        .send()
        .await
        .expect("TTL described");
    let ttl = ttl.time_to_live_description().expect("description");
    assert_eq!(
        ttl.attribute_name(),
        Some(unipile_connect::adapters::dynamodb::TTL_ATTRIBUTE)
    );
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}

#[tokio::test]
async fn given_a_forged_or_expired_state_when_a_callback_arrives_then_it_is_refused_and_nothing_is_written()
 {
    let world = world().await;
    let account = world.simulator.add_account("LINKEDIN", "Jane");
    let body = format!(
        r#"{{"status":"CREATION_SUCCESS","account_id":"{}","name":"user_1"}}"#,
        account.id
    );
    let now = chrono::Utc::now();
    let user = unipile_connect::domain::UserId::parse("user_1").expect("user");
    let forged = unipile_connect::http::StateKey::new(vec![1u8; 32])
        .expect("key")
        .sign(
            &user,
            &LinkPurpose::Create,
            now + chrono::Duration::minutes(30),
        )
        .expect("signed");
    let expired = world
        .connect_callback
        .state_key
        .sign(
            &user,
            &LinkPurpose::Create,
            now - chrono::Duration::seconds(1),
        )
        .expect("signed");
    for state in [forged, expired] {
        let url = format!("{CLOSED_CALLBACK}unipile/notify?state={state}");
        let response = connect_callback::handler(&world.connect_callback, notify(&url, &body))
            .await
            .expect("handled");
        assert_eq!(response.status(), 401);
        assert_eq!(json(&response)["status"], 401);
    }
    assert_eq!(world.item_count().await, 0);
}

#[tokio::test]
async fn given_someone_elses_account_when_a_user_asks_to_reconnect_it_then_404_and_unipile_is_not_asked()
 {
    let world = world().await;
    let (notify_url, body) =
        connect_through_simulator(&world, "owner", r#"{"type":"create","providers":"*"}"#).await;
    connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
        .await
        .expect("handled");
    let id = world.simulator.accounts()[0].id.clone();
    let links_before = world
        .simulator
        .requests()
        .iter()
        .filter(|r| r.path.contains("hosted"))
        .count();

    let request = format!(r#"{{"type":"reconnect","reconnect_account":"{id}"}}"#);
    let response = world.request_link("intruder", &request).await;
    assert_eq!(response.status(), 404);
    let links_after = world
        .simulator
        .requests()
        .iter()
        .filter(|r| r.path.contains("hosted"))
        .count();
    assert_eq!(links_after, links_before);

    let response = world.request_link("owner", &request).await;
    assert_eq!(response.status(), 200);
    let sent = world
        .simulator
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.contains("hosted"))
        .expect("sent");
    let sent = sent.body.expect("body");
    assert_eq!(sent["type"], "reconnect");
    assert_eq!(sent["reconnect_account"], id.as_str());
}

#[tokio::test]
async fn given_bad_json_then_400_problems_and_nothing_stored() {
    let world = world().await;
    let response = world.request_link("u1", "{\"type\":").await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let state = world
        .connect_callback
        .state_key
        .sign(
            &unipile_connect::domain::UserId::parse("u1").expect("user"),
            &LinkPurpose::Create,
            chrono::Utc::now() + chrono::Duration::minutes(5),
        )
        .expect("signed");
    let url = format!("{CLOSED_CALLBACK}unipile/notify?state={state}");
    let response = connect_callback::handler(&world.connect_callback, notify(&url, "not json"))
        .await
        .expect("handled");
    assert_eq!(response.status(), 400);
    assert_eq!(world.item_count().await, 0);
    assert!(world.simulator.requests().is_empty());
}

#[tokio::test]
async fn given_unipile_failing_with_5xx_then_the_link_call_is_retried_a_bounded_number_of_times_then_502()
 {
    let world = world().await;
    world.simulator.add_fault(Fault {
        route: "hosted_link".into(),
        status: 503,
        error_type: "errors/service_unavailable".into(),
        times: 100,
    });
    let response = world
        .request_link("u1", r#"{"type":"create","providers":"*"}"#)
        .await;
    assert_eq!(response.status(), 502);
    let problem = json(&response);
    assert_eq!(problem["unipile_type"], "errors/service_unavailable");
    assert_eq!(
        world.simulator.requests().len(),
        3,
        "one call and two retries"
    );
    assert_eq!(
        world.item_count().await,
        0,
        "no profile stored for a failed link"
    );
}

#[tokio::test]
async fn given_unipile_answering_a_link_that_is_not_https_then_502_and_no_link_reaches_the_user() {
    let world = world().await;
    for base in [
        "http://account.unipile.example",
        "ftp://account.unipile.example",
    ] {
        world.simulator.set_hosted_link_base(base);
        let response = world
            .request_link("u1", r#"{"type":"create","providers":"*"}"#)
            .await;
        assert_eq!(response.status(), 502, "{base}");
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert!(!body.contains("account.unipile.example"), "{body}");
    }
    world
        .simulator
        .set_hosted_link_base("https://account.unipile.example");
    let response = world
        .request_link("u1", r#"{"type":"create","providers":"*"}"#)
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        json(&response)["url"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://account.unipile.example/"))
    );
}

#[tokio::test]
async fn given_one_transient_unipile_failure_then_the_retry_gives_the_link() {
    let world = world().await;
    world.simulator.add_fault(Fault {
        route: "hosted_link".into(),
        status: 429,
        error_type: "errors/too_many_requests".into(),
        times: 1,
    });
    let response = world
        .request_link("u1", r#"{"type":"create","providers":"*"}"#)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(world.simulator.requests().len(), 2);
}

#[tokio::test]
async fn given_a_connected_account_when_its_owner_disconnects_it_then_unipile_and_the_table_forget_it()
 {
    let world = world().await;
    let (notify_url, body) =
        connect_through_simulator(&world, "u9", r#"{"type":"create","providers":"*"}"#).await;
    connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
        .await
        .expect("handled");
    let id = world.simulator.accounts()[0].id.clone();
    let path = format!("/accounts/{id}");

    let response = accounts::handler(&world.accounts, api("DELETE", &path, "not_the_owner", None))
        .await
        .expect("handled");
    assert_eq!(response.status(), 404);
    assert_eq!(world.simulator.accounts().len(), 1);

    let response = accounts::handler(&world.accounts, api("DELETE", &path, "u9", None))
        .await
        .expect("handled");
    assert_eq!(response.status(), 204);
    assert!(world.simulator.accounts().is_empty());
    let listed = accounts::handler(&world.accounts, api("GET", "/accounts", "u9", None))
        .await
        .expect("handled");
    assert_eq!(json(&listed)["accounts"], serde_json::json!([]));
    assert!(
        world.simulator.requests().iter().all(|r| r.api_key_sent),
        "every call carried X-API-KEY"
    );
}

#[tokio::test]
async fn given_too_little_of_the_invocation_left_then_unipile_is_not_called_and_503_says_when_to_retry()
 {
    let world = world().await;
    // Two seconds left: less than one attempt needs once the reserve is kept back.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    let response = unipile_connect::deadline::within(
        deadline,
        world.request_link("u1", r#"{"type":"create","providers":"*"}"#),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        json(&response)["type"],
        "urn:unipile-connect:problem:out-of-time"
    );
    assert!(world.simulator.requests().is_empty(), "no call started");
}
