//! Where a cold start goes: each phase of what a function does before its first poll, timed
//! in a fresh process each time (a phase's cost at cold start is its first run, with nothing
//! in the caches), then the medians over the starts.
//!
//! `cargo bench -p integration-tests --bench cold_start_phases [-- STARTS]` (default 30).
//! The configuration is status-webhook's, as the template gives it, with the secrets as plain
//! variables and every endpoint on a closed loopback port: no phase makes a call.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

const CHILD: &str = "COLD_START_PHASES_CHILD";

fn environment() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "example-secret"),
        ("AWS_SESSION_TOKEN", "example-session"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("TABLE_NAME", "unipile-connect"),
        ("UNIPILE_DSN", "http://127.0.0.1:9"),
        ("UNIPILE_API_KEY", "bench-api-key"),
        ("UNIPILE_WEBHOOK_SECRET", "bench-webhook-secret-0123456789"),
        ("MAIL_FROM", "noreply@example.com"),
        ("SES_CONFIGURATION_SET", "unipile-connect"),
        ("APP_BASE_URL", "https://app.example.com"),
        ("RECONNECT_PATH", "/accounts?reconnect={account_id}"),
        ("SCHEDULE_GROUP", "unipile-connect"),
        (
            "RECONNECT_FUNCTION_ARN",
            "arn:aws:lambda:eu-west-1:123456789012:function:reconnect-retry",
        ),
        (
            "SCHEDULER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/unipile-connect-scheduler",
        ),
        (
            "SCHEDULER_DLQ_ARN",
            "arn:aws:sqs:eu-west-1:123456789012:unipile-connect-reconnect-dlq",
        ),
        ("COGNITO_USER_POOL_ID", "eu-west-1_AbCdEfGhI"),
        ("RUST_LOG", "info"),
    ]
}

/// One cold start, phase by phase, printed as `phase microseconds` lines.
fn child() {
    let mut marks: Vec<(&str, Instant)> = vec![("start", Instant::now())];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    marks.push(("tokio runtime", Instant::now()));
    runtime.block_on(async {
        unipile_connect::telemetry::init_lambda();
        marks.push(("logs", Instant::now()));
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        let env = unipile_connect::config::with_secrets(env)
            .await
            .expect("no secrets to read");
        marks.push(("environment", Instant::now()));
        let http = unipile_connect::adapters::tls::sdk_http_client();
        drop(http);
        marks.push(("SDK HTTP client (built-in roots as PEM)", Instant::now()));
        let aws = unipile_connect::config::aws_sdk_config(&env).await;
        marks.push(("aws-config load", Instant::now()));
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
        marks.push(("DynamoDB client", Instant::now()));
        let unipile = unipile_connect::deps::http_unipile(&env).expect("Unipile settings");
        marks.push(("Unipile client (reqwest, rustls)", Instant::now()));
        let ses = aws_sdk_sesv2::Client::new(&aws);
        marks.push(("SES client (deferred in functions)", Instant::now()));
        let follow_ups = status_webhook::StatusWebhook::from_env(env.clone())
            .await
            .expect("status-webhook's configuration");
        marks.push(("status-webhook's whole set-up, again", Instant::now()));
        drop((dynamodb, unipile, ses, follow_ups));
    });
    for pair in marks.windows(2) {
        let (_, before) = pair[0];
        let (name, after) = pair[1];
        println!("{name}\t{}", (after - before).as_micros());
    }
    let total = marks[marks.len() - 2].1 - marks[0].1;
    println!("total before the repeat\t{}", total.as_micros());
}

fn main() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let starts: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let me = std::env::current_exe().expect("this program");
    let mut phases: BTreeMap<usize, (String, Vec<u128>)> = BTreeMap::new();
    for _ in 0..starts {
        let output = Command::new(&me)
            .env_clear()
            .envs(environment())
            .env(CHILD, "1")
            .output()
            .expect("a cold start");
        let text = String::from_utf8_lossy(&output.stdout);
        for (i, line) in text.lines().enumerate() {
            if let Some((name, micros)) = line.split_once('\t')
                && let Ok(micros) = micros.parse()
            {
                let entry = phases
                    .entry(i)
                    .or_insert_with(|| (name.to_owned(), Vec::new()));
                entry.1.push(micros);
            }
        }
    }
    println!("{starts} cold starts of status-webhook's set-up, phase by phase (median, p90):");
    for (name, mut micros) in phases.into_values() {
        micros.sort_unstable();
        let at = |q: f64| micros[((micros.len() - 1) as f64 * q).round() as usize];
        println!(
            "  {name:<45} {:>7.3} ms {:>7.3} ms",
            at(0.5) as f64 / 1000.0,
            at(0.9) as f64 / 1000.0
        );
    }
}
