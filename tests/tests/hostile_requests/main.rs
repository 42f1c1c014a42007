//! Hostile requests against the local stack, over HTTP as a client would send them:
//! thousands generated from `infra/openapi.yaml` (its routes, methods and body schemas) with
//! proptest, valid-looking or broken rule by rule, with genuine and forged credentials, path
//! tricks and odd methods. Whatever arrives, the stack answers; it never answers a client's
//! mistake with a 5xx; a refusal from our handlers is a problem+json of ours, documented for
//! its route; no answer or log line quotes a secret; and a refused request writes nothing
//! (the in-memory store's item count does not move around it).
//!
//! `HOSTILE_REQUESTS` sets how many (default 10,000), `HOSTILE_SEED` the generator's seed.

mod another_user;
mod broken_bodies;
mod contract;
mod credentials;
mod requests;
mod schema_values;
mod unipile_words;
mod verdict;

use contract::Contract;
use credentials::{Credentials, mint};
use harness::raw_http::{self, RawRequest, RawResponse};
use local_stack::stack::{DEFAULT_LOCAL_WEBHOOK_SECRET, LocalStack};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use requests::{Case, Material};
use schema_values::Vocabulary;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;
use unipile_connect::domain::{AccountId, LinkPurpose, UserId};
use unipile_connect::http::{DEFAULT_WEBHOOK_HEADER, StateKey};
use verdict::Tally;

const STATE_KEY: &[u8] = b"hostile-requests-state-signing-key-0123456789";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";
/// Requests in flight at once.
const IN_FLIGHT: usize = 32;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The stack, in memory, with a state key the test knows (so it can forge and expire states).
async fn start_stack() -> LocalStack {
    harness::logs::captured();
    let env = HashMap::from([(
        "STATE_SIGNING_KEY".to_owned(),
        String::from_utf8(STATE_KEY.to_vec()).expect("ASCII"),
    )]);
    LocalStack::start(0, env)
        .await
        .expect("the local stack starts")
}

async fn call(stack: &LocalStack, request: RawRequest) -> RawResponse {
    raw_http::send(stack.address, &request)
        .await
        .expect("an answer")
}

fn post(target: &str, headers: &[(&str, &[u8])], body: Vec<u8>) -> RawRequest {
    let mut all = vec![("content-type".to_owned(), b"application/json".to_vec())];
    all.extend(headers.iter().map(|(n, v)| (n.to_string(), v.to_vec())));
    RawRequest {
        method: "POST".into(),
        target: target.into(),
        headers: all,
        body,
    }
}

/// A request as a signed-in user's client (or, without `token`, anyone) sends it.
fn user_request(
    method: &str,
    target: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> RawRequest {
    let mut headers = Vec::new();
    if let Some(token) = token {
        headers.push((
            "authorization".to_owned(),
            format!("Bearer {token}").into_bytes(),
        ));
    }
    if body.is_some() {
        headers.push(("content-type".to_owned(), b"application/json".to_vec()));
    }
    RawRequest {
        method: method.into(),
        target: target.into(),
        headers,
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    }
}

fn items(stack: &LocalStack) -> usize {
    stack.item_count().expect("the store is in memory")
}

/// Given users Ann and Bob, Bob with a LinkedIn account connected from his cookie: the
/// names a hostile request may use (tokens, accounts, member ids, allowed redirects).
async fn given_ann_and_bob_with_an_account(stack: &LocalStack) -> Material {
    let base = &stack.base_url;
    let ann = mint(base, "sub=hostile-ann&email=ann@example.com").await;
    let bob = mint(base, "sub=hostile-bob&email=bob@example.com").await;
    let ann_cookie = "AQEDAR-hostile-ann-setup-0041";
    let bob_cookie = "AQEDAR-hostile-bob-setup-0042";
    let ann_account = connect_with_cookie(stack, &ann, ann_cookie, "555").await;
    let bob_account = connect_with_cookie(stack, &bob, bob_cookie, "777").await;
    // Carol never calls: her account stays another user's for Ann and Bob to the end.
    let carol = mint(base, "sub=hostile-carol&email=carol@example.com").await;
    let carol_cookie = "AQEDAR-hostile-carol-setup-0043";
    let carol_account = connect_with_cookie(stack, &carol, carol_cookie, "999").await;
    let simulator = stack.simulator.as_ref().expect("the simulator");
    // An account Unipile has and no user of ours.
    let orphan = simulator.add_account("WHATSAPP", "orphan").id;

    let cookies: Vec<Value> = (0..4)
        .map(|n| json!(format!("AQEDAR-hostile-cookie-{n}-0x5eed")))
        .collect();
    let statuses = json!([
        "CREATION_SUCCESS",
        "CREATION_SUCCESS",
        "RECONNECTED",
        "OK",
        "CREDENTIALS",
        "ERROR",
        "STOPPED",
        "DELETED"
    ]);
    let list = |v: Value| v.as_array().cloned().unwrap_or_default();
    let vocabulary: Vocabulary = HashMap::from([
        (
            "AccountId",
            list(json!([
                bob_account,
                ann_account,
                carol_account,
                orphan,
                "acc_missing",
                ".",
                "..",
                "a/b",
                "%2e%2e"
            ])),
        ),
        (
            "LinkedinMemberId",
            list(json!(["777", "555", "999", "12345", ".", ".."])),
        ),
        (
            "RedirectUrl",
            list(json!([
                null,
                format!("{base}/done"),
                format!("{base}/?connected=1"),
                format!("http://localhost:{}/x", stack.address.port()),
            ])),
        ),
        ("CookieValue", cookies.clone()),
        ("status", list(statuses.clone())),
        ("message", list(statuses)),
        ("name", list(json!(["hostile-ann", "hostile-bob"]))),
        ("user_agent", list(json!([UA]))),
        ("country", list(json!(["fr", "US", null, ""]))),
        ("ip", list(json!(["81.2.69.160", null, ""]))),
        ("code", list(json!(["123456", "TRY_ANOTHER_WAY", null]))),
        ("account_type", list(json!(["LINKEDIN", "WHATSAPP", null]))),
    ]);
    let state_key = StateKey::new(STATE_KEY.to_vec()).expect("key");
    let user = |name: &str| UserId::parse(name).expect("a user");
    let reconnect = |account: &str| LinkPurpose::Reconnect {
        account_id: AccountId::parse(account).expect("an account id"),
    };
    let links = vec![
        (user("hostile-ann"), LinkPurpose::Create),
        (user("hostile-bob"), LinkPurpose::Create),
        (user("hostile-ann"), reconnect(&ann_account)),
        (user("hostile-bob"), reconnect(&bob_account)),
        (user("hostile-ann"), reconnect(&bob_account)),
        (user("hostile-ann"), reconnect(&carol_account)),
    ];
    let mut credentials = Credentials::gather(
        base,
        &[("hostile-ann", ann), ("hostile-bob", bob)],
        &state_key,
        links,
    )
    .await;
    credentials
        .secrets
        .extend([ann_cookie, bob_cookie, carol_cookie, carol.as_str()].map(str::to_owned));
    credentials
        .secrets
        .extend(cookies.iter().filter_map(|c| c.as_str().map(str::to_owned)));
    Material {
        contract: Contract::load(),
        vocabulary,
        credentials,
    }
}

/// The account a user's first cookie sync connects.
async fn connect_with_cookie(
    stack: &LocalStack,
    token: &str,
    cookie: &str,
    member: &str,
) -> String {
    let synced = call(
        stack,
        post(
            "/extension/cookies",
            &[("authorization", format!("Bearer {token}").as_bytes())],
            json!({"li_at": cookie, "user_agent": UA, "linkedin_member_id": member})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(synced.status, 201, "the cookie connects an account");
    let synced: Value = serde_json::from_slice(&synced.body).expect("JSON");
    synced["account_id"]
        .as_str()
        .expect("an account")
        .to_owned()
}

/// Sends `case` alone and judges the answer; refused, it must not have moved the store's
/// item count.
async fn run_alone(stack: &LocalStack, material: &Material, case: &Case, tally: &mut Tally) {
    let before = items(stack);
    let answer = raw_http::send(stack.address, &case.request).await;
    let after = items(stack);
    let secrets = &material.credentials.secrets;
    let mut problems = verdict::judge(&material.contract, case, &answer, secrets);
    let status = answer.as_ref().ok().map(|r| r.status);
    tally.record(case, status);
    if status.is_some_and(|s| (400..500).contains(&s)) && before != after {
        problems.push(format!("refused, it wrote ({before} items, then {after})"));
    }
    if !problems.is_empty() {
        tally.fail(case, &problems);
    }
}

/// Sends `cases` all at once and judges each answer. A refused request must write nothing:
/// when the whole batch was refused the store's item count must not move; when some were
/// taken (and may have written), each refused one is sent again alone and counted around
/// (which catches a refusal that writes every time, not one that writes only the first).
async fn run_batch(stack: &LocalStack, material: &Material, cases: &[Case], tally: &mut Tally) {
    let before = items(stack);
    let mut in_flight = JoinSet::new();
    for (i, case) in cases.iter().enumerate() {
        let request = case.request.clone();
        let address = stack.address;
        in_flight.spawn(async move { (i, raw_http::send(address, &request).await) });
    }
    let mut answers: Vec<Option<Result<RawResponse, String>>> = vec![None; cases.len()];
    while let Some(done) = in_flight.join_next().await {
        let (i, answer) = done.expect("the request task ran");
        answers[i] = Some(answer);
    }
    let after = items(stack);
    let status = |a: &Option<Result<RawResponse, String>>| match a {
        Some(Ok(response)) => Some(response.status),
        _ => None,
    };
    let all_refused = answers
        .iter()
        .all(|a| status(a).is_some_and(|s| (400..500).contains(&s)));
    if all_refused && before != after {
        tally.failures.push(format!(
            "{} refused requests changed the store ({before} items, then {after}); each is \
             sent again alone to find which",
            cases.len()
        ));
    }
    // Sent again alone: every refused request of a batch some of which were taken, or of a
    // batch of refusals that wrote.
    let replay = !all_refused || before != after;
    let secrets = &material.credentials.secrets;
    for (case, answer) in cases.iter().zip(&answers) {
        let answer = answer.clone().unwrap_or_else(|| Err("no task".into()));
        let mut problems = verdict::judge(&material.contract, case, &answer, secrets);
        let status = answer.as_ref().ok().map(|r| r.status);
        tally.record(case, status);
        if replay && status.is_some_and(|s| (400..500).contains(&s)) {
            let before = items(stack);
            let again = raw_http::send(stack.address, &case.request).await;
            let after = items(stack);
            tally.replayed += 1;
            let refused_again = again.as_ref().is_ok_and(|r| (400..500).contains(&r.status));
            if refused_again && before != after {
                problems.push(format!("refused, it wrote ({before} items, then {after})"));
            }
        }
        if !problems.is_empty() {
            tally.fail(case, &problems);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_hostile_requests_are_answered_without_a_5xx_as_problems_and_write_nothing_when_refused()
 {
    let stack = start_stack().await;
    let material = Arc::new(given_ann_and_bob_with_an_account(&stack).await);
    let total = setting("HOSTILE_REQUESTS", 10_000) as usize;
    let seed = setting("HOSTILE_SEED", 0x5eed_2026);
    let mut seed_bytes = [0u8; 32];
    for chunk in seed_bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let strategy = requests::case(material.clone());

    let started = Instant::now();
    let mut tally = Tally::default();
    let mut sent = 0;
    while sent < total {
        // Valid-looking requests one at a time, each counted around exactly (they are the
        // ones that may write, and a refused one among them must not); the rest in flight
        // together, where nearly every batch is all refusals and is checked whole.
        let (valid, hostile): (Vec<Case>, Vec<Case>) = (0..(IN_FLIGHT * 4).min(total - sent))
            .map(|_| strategy.new_tree(&mut runner).expect("a request").current())
            .partition(|c| c.looks_valid);
        sent += valid.len() + hostile.len();
        for case in &valid {
            run_alone(&stack, &material, case, &mut tally).await;
        }
        for batch in hostile.chunks(IN_FLIGHT) {
            run_batch(&stack, &material, batch, &mut tally).await;
        }
    }
    let elapsed = started.elapsed();

    let health = call(
        &stack,
        RawRequest {
            method: "GET".into(),
            target: "/_local/health".into(),
            ..RawRequest::default()
        },
    )
    .await;
    assert_eq!(health.status, 200, "the stack is still up");
    let logs = harness::logs::captured().text();
    for secret in &material.credentials.secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
    }

    println!(
        "hostile requests: {sent} in {elapsed:.1?} (seed {seed:#x}, {} refused ones sent again \
         alone; the store holds {} items)\n{}",
        tally.replayed,
        items(&stack),
        tally.summary()
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {sent} answers broke a promise:\n{}",
        tally.failures.len(),
        tally
            .failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    for operation in &material.contract.operations {
        assert!(
            tally.statuses.contains_key(&operation.path),
            "{} {} was never tried",
            operation.method,
            operation.path
        );
    }
}

/// Given a body over 6 MB to each route that takes one, with genuine credentials, then the
/// stack answers 413 as a problem before any handler runs, and nothing is written.
#[tokio::test]
async fn a_body_over_what_lambda_hands_a_function_is_refused_with_413_and_writes_nothing() {
    let stack = start_stack().await;
    let contract = Contract::load();
    let token = mint(&stack.base_url, "sub=big-body&email=big@example.com").await;
    let bearer = format!("Bearer {token}");
    let state = StateKey::new(STATE_KEY.to_vec())
        .expect("key")
        .sign(
            &UserId::parse("big-body").expect("user"),
            &LinkPurpose::Create,
            chrono::Utc::now() + chrono::Duration::minutes(30),
        )
        .expect("signs");
    let state: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
    let webhook = (
        DEFAULT_WEBHOOK_HEADER,
        DEFAULT_LOCAL_WEBHOOK_SECRET.as_bytes(),
    );
    let auth: &[(&str, &[u8])] = &[("authorization", bearer.as_bytes())];
    let service = format!("Bearer {}", mint(&stack.base_url, "service=1").await);
    let service: &[(&str, &[u8])] = &[("authorization", service.as_bytes())];
    let webhook: &[(&str, &[u8])] = &[webhook];
    // Seven megabytes: under the HTTP API's 10 MB, over Lambda's 6 MB.
    let seven_mb = format!(
        r#"{{"type":"create","providers":"*","pad":"{}"}}"#,
        "a".repeat(7 << 20)
    );
    for (method, documented, target, guard) in [
        ("POST", "/accounts/link", "/accounts/link".to_owned(), auth),
        (
            "POST",
            "/service/links",
            "/service/links".to_owned(),
            service,
        ),
        (
            "POST",
            "/extension/cookies",
            "/extension/cookies".to_owned(),
            auth,
        ),
        (
            "POST",
            "/extension/checkpoint",
            "/extension/checkpoint".to_owned(),
            auth,
        ),
        (
            "PUT",
            "/extension/identities/{member_id}",
            "/extension/identities/777".to_owned(),
            auth,
        ),
        (
            "POST",
            "/unipile/notify",
            format!("/unipile/notify?state={state}"),
            &[],
        ),
        (
            "POST",
            "/unipile/webhook",
            "/unipile/webhook".to_owned(),
            webhook,
        ),
    ] {
        let before = items(&stack);
        let mut request = post(&target, guard, seven_mb.clone().into_bytes());
        request.method = method.into();
        let answer = call(&stack, request).await;
        assert_eq!(answer.status, 413, "{method} {target}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json")
        );
        let problem: Value = serde_json::from_slice(&answer.body).expect("a JSON problem");
        assert_eq!(
            problem["type"], "urn:unipile-connect:problem:payload-too-large",
            "{problem}"
        );
        assert_eq!(problem["status"], 413);
        assert!(
            contract.documents(documented, 413),
            "openapi.yaml documents 413 for {documented}"
        );
        assert_eq!(items(&stack), before, "{method} {target} wrote nothing");
    }

    // Just under the limit, the handler reads the body and judges it.
    let five_mb = format!(
        r#"{{"type":"create","providers":"*","pad":"{}"}}"#,
        "a".repeat(5 << 20)
    );
    let answer = call(&stack, post("/accounts/link", auth, five_mb.into_bytes())).await;
    assert_eq!(
        answer.status, 400,
        "an unknown field, as any body under 6 MB is judged"
    );
}
