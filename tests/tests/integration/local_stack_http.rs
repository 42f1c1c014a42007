//! The local stack driven by a client that speaks only HTTP, with DynamoDB in moto.

use harness::world::aws_env;
use local_stack::stack::{DEFAULT_LOCAL_WEBHOOK_SECRET, LocalStack};
use serde_json::Value;
use std::collections::HashMap;
use unipile_connect::domain::webhook::MIN_WEBHOOK_SECRET_CHARS;

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    let response = http.get(url).send().await.expect("an answer");
    response.json().await.expect("a JSON body")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn start_stack() -> LocalStack {
    harness::logs::captured();
    let moto = harness::moto::endpoint();
    let table = format!("local-stack-{}", std::process::id());
    LocalStack::start(0, aws_env(&moto, &table))
        .await
        .expect("local stack starts")
}

#[tokio::test]
async fn given_only_http_a_user_links_completes_the_hosted_page_and_sees_the_account() {
    let stack = start_stack().await;
    let base = &stack.base_url;
    let http = client();

    let health = http
        .get(format!("{base}/_local/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);

    let anonymous = http
        .get(format!("{base}/accounts"))
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), 401);

    let token: Value = get_json(
        &http,
        format!("{base}/_local/token?sub=http-user&email=http-user@example.com"),
    )
    .await;
    let bearer = format!("Bearer {}", token["token"].as_str().expect("token"));

    let link: Value = http
        .post(format!("{base}/accounts/link"))
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .body(format!(r#"{{"type":"create","providers":["WHATSAPP"],"success_redirect_url":"{base}/?connected=1","failure_redirect_url":"{base}/?failed=1"}}"#))
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    let url = link["url"].as_str().expect("a hosted-auth url");

    let page = http
        .get(url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Connect") && page.contains("Fail") && page.contains("WHATSAPP"));

    let done = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("provider=WHATSAPP&outcome=connect")
        .send()
        .await
        .expect("submitted");
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()["location"],
        format!("{base}/?connected=1").as_str()
    );

    let listed = http
        .get(format!("{base}/accounts"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("list");
    let listed: Value = listed.json().await.expect("json");
    let accounts = listed["accounts"].as_array().expect("list");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["type"], "WHATSAPP");
    assert_eq!(accounts[0]["status"], "OK");

    // A used link cannot be replayed, and "Fail" sends the browser to the failure URL.
    let again = http.get(url).send().await.expect("page");
    assert_eq!(again.status(), 401);
    let second: Value = http
        .post(format!("{base}/accounts/link"))
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"type":"create","providers":"*","failure_redirect_url":"{base}/?failed=1"}}"#
        ))
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    let failed = http
        .post(second["url"].as_str().expect("url"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("outcome=fail")
        .send()
        .await
        .expect("submitted");
    assert_eq!(failed.status(), 303);
    assert_eq!(
        failed.headers()["location"],
        format!("{base}/?failed=1").as_str()
    );

    // Unipile reports the account needs credentials, five times over: one email.
    let account_id = accounts[0]["account_id"].as_str().expect("id");
    for _ in 0..5 {
        let report: Value = http
            .post(format!("{base}/_sim/accounts/{account_id}/status"))
            .header("content-type", "application/json")
            .body(r#"{"message":"CREDENTIALS","retry_delay_ms":1}"#)
            .send()
            .await
            .expect("report")
            .json()
            .await
            .expect("json");
        assert_eq!(report["deliveries"][0]["status"], 200);
    }
    let emails: Value = get_json(&http, format!("{base}/_local/emails")).await;
    let emails = emails.as_array().expect("list");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["to"], "http-user@example.com");
    assert!(
        emails[0]["text"]
            .as_str()
            .expect("text")
            .contains(&format!("{base}/?reconnect={account_id}"))
    );

    let landing = http
        .get(format!("{base}/"))
        .send()
        .await
        .expect("landing")
        .text()
        .await
        .expect("html");
    assert!(
        landing.contains("<unipile-accounts")
            && landing.contains(&unipile_connect::web::asset_path("landing.js"))
    );
    let element = http
        .get(format!(
            "{base}{}",
            unipile_connect::web::asset_path("unipile-accounts.js")
        ))
        .send()
        .await
        .expect("the element's module");
    assert_eq!(
        element.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let element = element.text().await.expect("javascript");
    assert!(element.contains("Connect an account") && element.contains("Reconnect"));
    let mail = http
        .get(format!("{base}/_local/mail"))
        .send()
        .await
        .expect("mail page")
        .text()
        .await
        .expect("html");
    assert!(
        mail.contains("http-user@example.com")
            && mail.contains(&format!("{base}/?reconnect={account_id}"))
    );
}

async fn post_json(
    http: &reqwest::Client,
    url: String,
    bearer: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(bearer) = bearer {
        request = request.header("authorization", bearer);
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A bearer token the local stack mints for `user` (its email `<user>@example.com`).
async fn bearer_for(http: &reqwest::Client, base: &str, user: &str) -> String {
    let token: Value = get_json(
        http,
        format!("{base}/_local/token?sub={user}&email={user}@example.com"),
    )
    .await;
    format!("Bearer {}", token["token"].as_str().expect("token"))
}

/// The extension's cookies for LinkedIn member `member`.
fn extension_cookies(member: &str) -> String {
    format!(
        r#"{{"li_at":"local-li-at","li_a":"local-li-a","user_agent":"Mozilla/5.0 Test","country":"de","linkedin_member_id":"{member}"}}"#
    )
}

/// The extension's first sync for `member`: the account it connects.
async fn cookie_account(http: &reqwest::Client, base: &str, bearer: &str, member: &str) -> String {
    let (status, connected) = post_json(
        http,
        format!("{base}/extension/cookies"),
        Some(bearer),
        &extension_cookies(member),
    )
    .await;
    assert_eq!(status, 201, "{connected}");
    connected["account_id"]
        .as_str()
        .expect("account id")
        .to_owned()
}

/// Unipile reports CREDENTIALS for `account_id` (the simulator's own webhook delivery).
async fn credentials_reported(http: &reqwest::Client, base: &str, account_id: &str) {
    let (status, _) = post_json(
        http,
        format!("{base}/_sim/accounts/{account_id}/status"),
        None,
        r#"{"message":"CREDENTIALS","retry_delay_ms":1}"#,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn given_the_local_stack_the_four_hour_reconnect_story_plays_in_seconds_on_the_virtual_clock()
{
    // The embedded default: memory store, built-in simulator, no AWS.
    let stack = LocalStack::start(0, std::collections::HashMap::new())
        .await
        .expect("local stack starts");
    let base = &stack.base_url;
    let http = client();
    let bearer = bearer_for(&http, base, "extension-user").await;
    let account_id = cookie_account(&http, base, &bearer, "777").await;

    let fail = r#"{"outcomes":["provider_error","provider_error","provider_error","provider_error","provider_error"]}"#;
    let (status, _) = post_json(&http, format!("{base}/_sim/cookie-outcomes"), None, fail).await;
    assert_eq!(status, 204);
    credentials_reported(&http, base, &account_id).await;
    let schedules: Value = get_json(&http, format!("{base}/_local/schedules")).await;
    assert_eq!(schedules["schedules"].as_array().map(Vec::len), Some(1));
    assert_eq!(schedules["schedules"][0]["input"]["attempt"], 0);

    let (status, advanced) = post_json(
        &http,
        format!("{base}/_local/clock/advance"),
        None,
        r#"{"seconds":18000}"#,
    )
    .await;
    assert_eq!(status, 200);
    let outcomes: Vec<&str> = advanced["ran"]
        .as_array()
        .expect("ran")
        .iter()
        .map(|r| r["result"]["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(
        outcomes,
        vec!["retrying", "retrying", "retrying", "retrying", "exhausted"]
    );

    let emails: Value = get_json(&http, format!("{base}/_local/emails")).await;
    let emails = emails.as_array().expect("list");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["to"], "extension-user@example.com");
    assert!(
        emails[0]["text"]
            .as_str()
            .expect("text")
            .contains("once an hour for four hours")
    );
    let schedules: Value = get_json(&http, format!("{base}/_local/schedules")).await;
    assert_eq!(schedules["schedules"], serde_json::json!([]));
}

#[tokio::test]
async fn the_local_stack_refuses_a_request_addressed_to_another_host_name() {
    let stack = LocalStack::start(0, std::collections::HashMap::new())
        .await
        .expect("the local stack starts");
    let http = reqwest::Client::new();
    let port = stack
        .base_url
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();
    let token = format!("{}/_local/token", stack.base_url);
    // A page on a name its owner points at 127.0.0.1 (DNS rebinding) sends its own Host.
    for foreign in [
        format!("rebind.example.com:{port}"),
        format!("localhost.example.com:{port}"),
        "127.0.0.1:1".to_owned(),
    ] {
        let refused = http
            .get(&token)
            .header("host", &foreign)
            .send()
            .await
            .expect("an answer");
        assert_eq!(refused.status(), 403, "{foreign}");
        let body = refused.text().await.expect("body");
        assert!(
            body.contains("host-not-allowed") && !body.contains("token\":"),
            "{body}"
        );
    }
    for own in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let answered = http
            .get(&token)
            .header("host", &own)
            .send()
            .await
            .expect("an answer");
        assert_eq!(answered.status(), 200, "{own}");
    }
}

/// A WhatsApp account connected through the simulator's hosted page by a fresh user of the
/// in-memory stack: the bearer token and the account id.
async fn a_connected_account(stack: &LocalStack, http: &reqwest::Client) -> (String, String) {
    let base = &stack.base_url;
    let user = harness::world::unique("reconciled");
    let token: Value = get_json(
        http,
        format!("{base}/_local/token?sub={user}&email={user}@example.com"),
    )
    .await;
    let bearer = format!("Bearer {}", token["token"].as_str().expect("token"));
    let link: Value = http
        .post(format!("{base}/accounts/link"))
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .body(r#"{"type":"create","providers":["WHATSAPP"]}"#)
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    let done = http
        .post(link["url"].as_str().expect("a hosted-auth url"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("provider=WHATSAPP&outcome=connect")
        .send()
        .await
        .expect("submitted");
    assert!(done.status().is_redirection() || done.status().is_success());
    let listed: Value = http
        .get(format!("{base}/accounts"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let id = listed["accounts"][0]["account_id"]
        .as_str()
        .expect("the account")
        .to_owned();
    (bearer, id)
}

async fn advance(http: &reqwest::Client, base: &str, seconds: i64) -> Value {
    http.post(format!("{base}/_local/clock/advance"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"seconds":{seconds}}}"#))
        .send()
        .await
        .expect("advanced")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn given_a_status_unipile_never_delivered_then_the_local_clock_s_next_hour_emails_the_owner_once()
 {
    harness::logs::captured();
    let stack = LocalStack::start(0, std::collections::HashMap::new())
        .await
        .expect("starts in memory");
    let http = client();
    let base = stack.base_url.clone();
    let (_bearer, account_id) = a_connected_account(&stack, &http).await;
    // Unipile's status changes, and no webhook ever arrives.
    let silent = http
        .post(format!("{base}/_sim/accounts/{account_id}/status"))
        .header("content-type", "application/json")
        .body(r#"{"message":"CREDENTIALS","deliver":false}"#)
        .send()
        .await
        .expect("set");
    assert_eq!(silent.status(), 200);
    let emails = |http: reqwest::Client| {
        let base = base.clone();
        async move {
            let sent: Value = get_json(&http, format!("{base}/_local/emails")).await;
            sent.as_array().expect("a list").len()
        }
    };
    assert_eq!(emails(http.clone()).await, 0);
    let moved = advance(&http, &base, 3600).await;
    assert_eq!(moved["reconciled"]["to_confirm"], 1, "{moved}");
    assert_eq!(emails(http.clone()).await, 1, "{moved}");
    for _ in 0..2 {
        let moved = advance(&http, &base, 3600).await;
        assert_eq!(moved["reconciled"]["to_confirm"], 0, "{moved}");
    }
    assert_eq!(emails(http.clone()).await, 1, "exactly one");
}

#[tokio::test]
async fn given_a_real_backend_the_local_stack_needs_its_own_token_secret_and_serves_no_playground_helper()
 {
    harness::logs::captured();
    let tenant = |secret: Option<&str>| {
        let mut env = std::collections::HashMap::from([
            (
                "UNIPILE_DSN".to_owned(),
                "api8.unipile.com:13443".to_owned(),
            ),
            (
                "UNIPILE_API_KEY".to_owned(),
                "tenant-key-never-logged".to_owned(),
            ),
        ]);
        if let Some(secret) = secret {
            env.insert("LOCAL_JWT_SECRET".into(), secret.into());
        }
        env
    };
    for weak in [
        None,
        Some(local_stack::jwt::DEFAULT_LOCAL_JWT_SECRET),
        Some("short"),
    ] {
        let refused = LocalStack::start(0, tenant(weak))
            .await
            .err()
            .expect("refused");
        assert!(refused.contains("LOCAL_JWT_SECRET"), "{refused}");
    }
    let secret = "jwt-secret-never-logged-q3J9x2LmV8pZt4Wc7";
    let stack = LocalStack::start(0, tenant(Some(secret)))
        .await
        .expect("starts with a random secret");
    assert!(stack.simulator.is_none());
    assert!(stack.demo_token().is_err(), "no demo token is minted");
    let http = client();
    let base = &stack.base_url;
    for (method, path) in [
        ("GET", "/_local/token?sub=anyone"),
        ("POST", "/_local/clock/advance"),
        ("GET", "/_sim/requests"),
        ("POST", "/_sim/accounts/x/status"),
    ] {
        let answer = http
            .request(method.parse().expect("method"), format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(r#"{"seconds":60}"#)
            .send()
            .await
            .expect("an answer");
        assert!(
            matches!(answer.status().as_u16(), 404 | 405),
            "{method} {path}: {}",
            answer.status()
        );
    }
    // Tokens signed with the team's secret are what it takes.
    let signed = local_stack::jwt::LocalAuthorizer::new(secret)
        .mint("team-user", None, chrono::Duration::minutes(5))
        .expect("minted");
    let listed = http
        .get(format!("{base}/accounts"))
        .header("authorization", format!("Bearer {signed}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(listed.status(), 200);
}

/// The local stack points its simulator's account_status webhook at itself as webhook-setup
/// would register it: its default secret is one webhook-setup takes, and a secret under 32
/// characters stops the start with a reason that does not show it.
#[tokio::test]
async fn the_local_stacks_webhook_secret_is_one_webhook_setup_would_register() {
    assert!(DEFAULT_LOCAL_WEBHOOK_SECRET.len() >= MIN_WEBHOOK_SECRET_CHARS);
    let stack = LocalStack::start(0, HashMap::new())
        .await
        .expect("the local stack starts with its default secret");
    let hooks = stack
        .simulator
        .as_ref()
        .expect("the built-in simulator")
        .webhooks();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert!(
        hooks[0].headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("Unipile-Auth") && value == DEFAULT_LOCAL_WEBHOOK_SECRET
        }),
        "registered with the default secret"
    );

    let weak = "short-never-logged";
    let Err(error) = LocalStack::start(
        0,
        HashMap::from([("UNIPILE_WEBHOOK_SECRET".to_owned(), weak.to_owned())]),
    )
    .await
    else {
        panic!(
            "a local stack started with a {}-character webhook secret",
            weak.len()
        );
    };
    assert!(error.contains("shorter than 32 characters"), "{error}");
    assert!(!error.contains(weak), "{error}");
}

/// The team's backend on the local stack: a service token from `/_local/token?service=1`
/// reads any user's account; a user's token on its routes gets 403 (the gateway's part), a
/// service token on a user's route too (the function's); `/_local/events` lists what was
/// published, schema-valid, and `/service/events` answers the same once settled.
#[tokio::test]
async fn given_the_local_stack_a_service_token_asks_about_any_account_and_events_are_listed() {
    let stack = start_stack().await;
    let base = &stack.base_url;
    let http = client();
    let (user_bearer, account_id) = a_connected_account(&stack, &http).await;
    let service: Value = get_json(&http, format!("{base}/_local/token?service=1")).await;
    let service = format!("Bearer {}", service["token"].as_str().expect("token"));

    let one = http
        .get(format!("{base}/service/accounts/{account_id}"))
        .header("authorization", &service)
        .send()
        .await
        .expect("answer");
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.expect("json");
    assert!(
        one["user_id"]
            .as_str()
            .is_some_and(|u| u.starts_with("reconciled")),
        "{one}"
    );
    let user = one["user_id"].as_str().expect("user").to_owned();
    let listed: Value = http
        .get(format!("{base}/service/accounts?user_id={user}"))
        .header("authorization", &service)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["accounts"][0]["account_id"], account_id.as_str());

    let refused = http
        .get(format!("{base}/service/accounts?user_id={user}"))
        .header("authorization", &user_bearer)
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 403);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(
        refused["type"],
        "urn:unipile-connect:problem:wrong-token-kind"
    );
    let refused = http
        .get(format!("{base}/accounts"))
        .header("authorization", &service)
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 403);

    let events: Value = get_json(&http, format!("{base}/_local/events")).await;
    let events = events.as_array().expect("a list");
    let connected: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["type"] == "account.connected" && e["data"]["account_id"] == account_id.as_str()
        })
        .collect();
    assert_eq!(connected.len(), 1, "{events:?}");
    assert_eq!(connected[0]["data"]["how"], "hosted");
    for event in events {
        let problems = harness::event_bus::schema_problems(event);
        assert!(problems.is_empty(), "{problems:?}");
    }

    // The feed the backend catches up from: the same events once settled, a user refused.
    advance(&http, base, 60).await;
    let feed = http
        .get(format!("{base}/service/events?account_id={account_id}"))
        .header("authorization", &service)
        .send()
        .await
        .expect("answer");
    assert_eq!(feed.status(), 200);
    let feed: Value = feed.json().await.expect("json");
    assert_eq!(feed["events"][0], *connected[0], "{feed}");
    let refused = http
        .get(format!("{base}/service/events"))
        .header("authorization", &user_bearer)
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 403);
}

/// The local stack sends the team's signed webhooks: a whole story (connect, CREDENTIALS, the
/// cookie reconnect, disconnect) reaches an endpoint that verifies each delivery with the
/// Standard Webhooks reference implementation, each event refused once and delivered again
/// with its id once the virtual clock passed its back-off, signed at the real time; an event
/// refused on every try waits in the dead-letter queue until it is replayed.
#[tokio::test]
async fn given_a_webhook_url_the_local_stack_signs_retries_on_its_clock_and_keeps_dead_letters() {
    const SECRETS: &str = "whsec_bG9jYWwtbmV2ZXItbG9nZ2VkLXNpZ25pbmcta2V5LTA= whsec_bG9jYWwtbmV2ZXItbG9nZ2VkLW5leHQtc2lnbmluZy1rZXk=";
    let receiver = harness::webhook_receiver::WebhookReceiver::start(SECRETS);
    receiver
        .control(serde_json::json!({"refuse_first": 1}))
        .await;
    let stack = LocalStack::start(
        0,
        HashMap::from([
            ("EVENTS_WEBHOOK_URL".to_owned(), receiver.url.clone()),
            ("EVENTS_WEBHOOK_SECRET".to_owned(), SECRETS.to_owned()),
        ]),
    )
    .await
    .expect("local stack starts");
    let base = &stack.base_url;
    let http = client();
    let bearer = bearer_for(&http, base, "hooked-user").await;
    let account_id = cookie_account(&http, base, &bearer, "778").await;
    credentials_reported(&http, base, &account_id).await;
    // The hourly cookie reconnect runs and succeeds.
    advance(&http, base, 3600).await;
    let deleted = http
        .delete(format!("{base}/accounts/{account_id}"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("deleted");
    assert_eq!(deleted.status(), 204);
    // First tries (refused), then the back-off passes on the virtual clock.
    advance(&http, base, 0).await;
    advance(&http, base, 10).await;

    let events: Value = get_json(&http, format!("{base}/_local/events")).await;
    let kinds: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "account.connected",
            "account.status_changed",
            "account.credentials_needed",
            "account.reconnected",
            "account.disconnected",
        ]
    );
    let ids: std::collections::BTreeSet<String> = events
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    let received = receiver.received().await;
    let answered = |code: u16| -> std::collections::BTreeSet<String> {
        received
            .iter()
            .filter(|r| r.answered == code)
            .filter_map(|r| r.id.clone())
            .collect()
    };
    assert_eq!(answered(503), ids, "{received:#?}");
    assert_eq!(
        answered(200),
        ids,
        "each delivered with its id after its back-off"
    );
    assert!(received.iter().all(|r| r.verified && r.signatures == 2));
    let now = chrono::Utc::now().timestamp();
    assert!(
        received.iter().all(|r| {
            r.timestamp
                .as_deref()
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|t| (now - t).abs() < 120)
        }),
        "webhook-timestamp is the real time, not the virtual clock's"
    );
    for event in events.as_array().expect("events") {
        assert!(
            received
                .iter()
                .any(|r| r.answered == 200 && &r.event == event)
        );
    }

    // Refused on every try: more than a day of virtual time later, a dead letter.
    receiver
        .control(serde_json::json!({"refuse_all": true}))
        .await;
    cookie_account(&http, base, &bearer, "779").await;
    for _ in 0..9 {
        advance(&http, base, 36_000).await;
    }
    let status_now: Value = get_json(&http, format!("{base}/_local/webhooks")).await;
    assert!(
        status_now["dead_letters"].as_u64().is_some_and(|n| n >= 1),
        "{status_now}"
    );
    let listed = http
        .post(format!("{base}/_local/webhooks/dead-letters/list"))
        .send()
        .await
        .expect("listed");
    assert_eq!(listed.status(), 200);
    assert!(
        listed
            .text()
            .await
            .expect("text")
            .contains("account.connected")
    );
    receiver
        .control(serde_json::json!({"refuse_all": false}))
        .await;
    let replayed = http
        .post(format!("{base}/_local/webhooks/dead-letters/replay"))
        .send()
        .await
        .expect("replayed");
    assert_eq!(replayed.status(), 200);
    assert!(
        replayed
            .text()
            .await
            .expect("text")
            .contains("-> delivered")
    );
    let status_now: Value = get_json(&http, format!("{base}/_local/webhooks")).await;
    assert_eq!(status_now["dead_letters"], 0, "{status_now}");
    let refused = http
        .post(format!("{base}/_local/webhooks/dead-letters/purge"))
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 400);
}
