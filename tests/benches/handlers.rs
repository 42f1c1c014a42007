//! What each handler costs itself, warm, on in-memory adapters (no network, no AWS): the
//! parsing, the domain decisions and the answer. `cargo bench -p integration-tests --bench
//! handlers` runs criterion on each, then times 20,000 requests one by one and prints p50 and
//! p99 per request against the 50 µs target (`-- --quick` for a short run). BENCHMARKS.md
//! holds the figures.

use chrono::Duration;
use criterion::{Criterion, criterion_group};
use harness::in_memory::{own, request, world};
use lambda_http::{Body, Response};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use unipile_connect::adapters::cipher::LocalCipher;
use unipile_connect::domain::{LinkPurpose, RedirectPolicy, UserId};
use unipile_connect::flows::cookie_sync::CookieSettings;
use unipile_connect::flows::hosted_link::LinkSettings;
use unipile_connect::http::{ClaimNames, DEFAULT_WEBHOOK_HEADER, StateKey, WebhookSecret};
use unipile_connect::ports::Clock;
use unipile_connect::web;

const KEY: &[u8] = b"bench-state-key-0123456789abcdef-0123";
const SECRET: &str = "bench-webhook-secret";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";
const TARGET_P99_MICROS: f64 = 50.0;

/// One handler call as the benchmarks run it: a fresh request each time, as Lambda hands one.
type Call = Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = Response<Body>>>>>;

/// Each handler, ready on its own world, with the request it answers over and over.
async fn cases() -> Vec<(&'static str, u16, Call)> {
    let mut cases: Vec<(&'static str, u16, Call)> = Vec::new();

    let w = world();
    own(&w, "owner", "acc_1").await;
    let link = Arc::new(hosted_link::HostedLink {
        deps: w.deps(),
        settings: LinkSettings {
            public_base_url: "https://callback.example.com".parse().expect("url"),
            state_key: StateKey::new(KEY.to_vec()).expect("key"),
            redirects: RedirectPolicy::parse("https://app.example.com").expect("origins"),
            link_ttl: Duration::minutes(30),
        },
        claims: ClaimNames::default(),
    });
    cases.push((
        "hosted-link: a create link",
        200,
        Box::new(move || {
            let link = link.clone();
            Box::pin(async move {
                let body = r#"{"type":"create","providers":["LINKEDIN","WHATSAPP"]}"#;
                let call = request("POST", "/accounts/link", Some("u1"), body);
                hosted_link::handler(&link, call).await.expect("handled")
            })
        }),
    ));

    let accounts = Arc::new(accounts::Accounts {
        deps: w.deps(),
        claims: ClaimNames::default(),
        attempt_limit: Default::default(),
    });
    cases.push((
        "accounts: the list",
        200,
        Box::new(move || {
            let accounts = accounts.clone();
            Box::pin(async move {
                let call = request("GET", "/accounts", Some("owner"), "");
                accounts::handler(&accounts, call).await.expect("handled")
            })
        }),
    ));

    let callback = Arc::new(connect_callback::ConnectCallback {
        deps: w.deps(),
        state_key: StateKey::new(KEY.to_vec()).expect("key"),
        scheduler: w.scheduler.clone(),
    });
    let state = StateKey::new(KEY.to_vec())
        .expect("key")
        .sign(
            &UserId::parse("owner").expect("user"),
            &LinkPurpose::Create,
            w.clock.now() + Duration::minutes(45),
        )
        .expect("signed");
    let notify_uri = format!(
        "/unipile/notify?state={}",
        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
    );
    cases.push((
        "connect-callback: Unipile's retry",
        200,
        Box::new(move || {
            let (callback, uri) = (callback.clone(), notify_uri.clone());
            Box::pin(async move {
                let body = r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"owner"}"#;
                let call = request("POST", &uri, None, body);
                connect_callback::handler(&callback, call)
                    .await
                    .expect("handled")
            })
        }),
    ));

    let webhook = Arc::new(status_webhook::StatusWebhook {
        secret: WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(SECRET))
            .expect("secret")
            .into(),
        follow_ups: w.follow_up_deps(),
    });
    cases.push((
        "status-webhook: a status already recorded",
        200,
        Box::new(move || {
            let webhook = webhook.clone();
            Box::pin(async move {
                let body = r#"{"AccountStatus":{"account_id":"acc_1","account_type":"LINKEDIN","message":"OK"}}"#;
                let mut call = request("POST", "/unipile/webhook", None, body);
                call.headers_mut().insert(
                    DEFAULT_WEBHOOK_HEADER,
                    http::HeaderValue::from_static(SECRET),
                );
                status_webhook::handler(&webhook, call)
                    .await
                    .expect("handled")
            })
        }),
    ));

    let cookies = Arc::new(cookie_sync::CookieSync {
        deps: w.deps(),
        scheduler: w.scheduler.clone(),
        cipher: Arc::new(LocalCipher::random().expect("key")),
        settings: CookieSettings {
            cookie_ttl: Duration::days(30),
            connect_throttle: Duration::minutes(5),
            max_linkedin_identities: 3,
        },
        claims: ClaimNames::default(),
    });
    let sync_body = format!(
        r#"{{"li_at":"AQEDARXNaZsB-bench","li_a":"AQJ-premium","user_agent":"{UA}","country":"fr","linkedin_member_id":"4242"}}"#
    );
    let first = cookie_sync::handler(
        &cookies,
        request("POST", "/extension/cookies", Some("owner"), &sync_body),
    )
    .await
    .expect("handled");
    assert_eq!(first.status(), 201, "the first sync connects");
    cases.push((
        "cookie-sync: an unchanged cookie",
        200,
        Box::new(move || {
            let (cookies, body) = (cookies.clone(), sync_body.clone());
            Box::pin(async move {
                let call = request("POST", "/extension/cookies", Some("owner"), &body);
                cookie_sync::handler(&cookies, call).await.expect("handled")
            })
        }),
    ));

    let assets = Arc::new(web_assets::WebAssets::deployed(None));
    cases.push((
        "web-assets: the component",
        200,
        Box::new(move || {
            let assets = assets.clone();
            Box::pin(async move {
                let call = request("GET", &web::asset_path("unipile-accounts.js"), None, "");
                web_assets::handler(&assets, call).await.expect("handled")
            })
        }),
    ));
    cases
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn handlers(c: &mut Criterion) {
    let rt = runtime();
    let cases = rt.block_on(cases());
    for (name, expected, call) in &cases {
        let answer = rt.block_on(call());
        assert_eq!(answer.status(), *expected, "{name}");
        c.bench_function(name, |b| b.to_async(&rt).iter(call));
    }
}

/// p50 and p99 of single requests, which criterion's per-batch figures do not give.
fn percentiles(requests: usize) {
    let rt = runtime();
    let cases = rt.block_on(cases());
    println!("\nhandler\tp50 µs\tp99 µs\ttarget p99 µs\tmet");
    let mut table = String::from("handler\tp50_us\tp99_us\n");
    for (name, _, call) in &cases {
        for _ in 0..requests / 10 {
            rt.block_on(call());
        }
        let mut micros: Vec<f64> = (0..requests)
            .map(|_| {
                let started = Instant::now();
                rt.block_on(call());
                started.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        micros.sort_by(f64::total_cmp);
        let at = |q: f64| micros[((micros.len() - 1) as f64 * q).round() as usize];
        let (p50, p99) = (at(0.5), at(0.99));
        let met = if p99 <= TARGET_P99_MICROS {
            "yes"
        } else {
            "NO"
        };
        println!("{name}\t{p50:.1}\t{p99:.1}\t{TARGET_P99_MICROS}\t{met}");
        table.push_str(&format!("{name}\t{p50:.1}\t{p99:.1}\n"));
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    if std::fs::create_dir_all(&out).is_ok() {
        let _ = std::fs::write(out.join("handlers.tsv"), table);
    }
}

criterion_group!(benches, handlers);

fn main() {
    // The handlers' metric lines (CloudWatch EMF on stdout) would bury the figures.
    unipile_connect::metrics::silence();
    let quick = std::env::args().any(|a| a == "--quick");
    benches();
    Criterion::default().configure_from_args().final_summary();
    percentiles(if quick { 2_000 } else { 20_000 });
}
