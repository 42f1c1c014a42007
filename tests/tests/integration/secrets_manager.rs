//! Cold start in AWS: the secrets come from Secrets Manager (moto), named by SECRETS_ARN.

use harness::world::aws_env;
use unipile_connect::config::{self, ConfigError};

async fn secret(
    env: &std::collections::HashMap<String, String>,
    name: &str,
    value: &str,
) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&config::aws_sdk_config(env).await);
    let created = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("secret created");
    created.arn().expect("an ARN").to_owned()
}

#[tokio::test]
async fn given_a_secrets_arn_when_a_function_starts_then_its_secrets_come_from_secrets_manager() {
    let mut env = aws_env(&harness::moto::endpoint(), "unused-table");
    let arn = secret(
        &env,
        &format!("unipile-connect-{}", std::process::id()),
        r#"{"UNIPILE_API_KEY":"from-the-secret","STATE_SIGNING_KEY":"0123456789abcdef0123456789abcdef-from-secret"}"#,
    )
    .await;
    env.insert("SECRETS_ARN".into(), arn);
    env.insert("UNIPILE_DSN".into(), "api8.unipile.com:13443".into());
    env.insert("PUBLIC_BASE_URL".into(), "https://cb.example.com".into());
    env.insert("EVENT_BUS_NAME".into(), "account-events".into());

    let env = config::with_secrets(env).await.expect("secret read");
    assert_eq!(
        env.get("UNIPILE_API_KEY").map(String::as_str),
        Some("from-the-secret")
    );
    let app = hosted_link::HostedLink::from_env(env)
        .await
        .expect("the function starts");
    assert_eq!(app.settings.link_ttl, chrono::Duration::minutes(30));
}

#[tokio::test]
async fn given_a_secret_that_is_not_a_json_object_then_the_cold_start_fails_naming_secrets_arn() {
    let mut env = aws_env(&harness::moto::endpoint(), "unused-table");
    let arn = secret(
        &env,
        &format!("broken-{}", std::process::id()),
        "sk_live_plain_text_key",
    )
    .await;
    env.insert("SECRETS_ARN".into(), arn);
    let error = config::with_secrets(env).await.expect_err("not JSON");
    assert!(matches!(
        error,
        ConfigError::Invalid {
            var: "SECRETS_ARN",
            ..
        }
    ));
    assert!(!error.to_string().contains("sk_live_plain_text_key"));

    let mut missing = aws_env(&harness::moto::endpoint(), "unused-table");
    missing.insert(
        "SECRETS_ARN".into(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope".into(),
    );
    let error = config::with_secrets(missing)
        .await
        .expect_err("no such secret");
    assert!(
        error.to_string().starts_with("SECRETS_ARN is not valid"),
        "{error}"
    );
}

#[tokio::test]
async fn given_one_secret_per_purpose_then_a_function_reads_each_it_lists_and_only_those() {
    let mut env = aws_env(&harness::moto::endpoint(), "unused-table");
    let pid = std::process::id();
    let key = secret(
        &env,
        &format!("unipile-key-{pid}"),
        r#"{"UNIPILE_API_KEY":"from-the-key-secret"}"#,
    )
    .await;
    let state = secret(
        &env,
        &format!("state-key-{pid}"),
        r#"{"STATE_SIGNING_KEY":"0123456789abcdef0123456789abcdef-state"}"#,
    )
    .await;
    env.insert("SECRETS_ARN".into(), format!("{key}, {state}"));
    let read = config::with_secrets(env.clone()).await.expect("both read");
    assert_eq!(read["UNIPILE_API_KEY"], "from-the-key-secret");
    assert_eq!(
        read["STATE_SIGNING_KEY"],
        "0123456789abcdef0123456789abcdef-state"
    );
    assert!(!read.contains_key("UNIPILE_WEBHOOK_SECRET"));

    // Two secrets that both name a variable: which one wins would be an accident.
    let twice = secret(
        &env,
        &format!("unipile-key-again-{pid}"),
        r#"{"UNIPILE_API_KEY":"another-key"}"#,
    )
    .await;
    env.insert("SECRETS_ARN".into(), format!("{key},{twice}"));
    let error = config::with_secrets(env).await.expect_err("ambiguous");
    assert!(
        error
            .to_string()
            .contains("UNIPILE_API_KEY is in more than one secret"),
        "{error}"
    );
    assert!(!error.to_string().contains("another-key"));
}

#[tokio::test]
async fn given_secrets_manager_unreachable_at_cold_start_then_the_start_fails_cleanly_and_the_next_one_reads_the_secret()
 {
    let env = {
        let mut env = aws_env(&harness::moto::endpoint(), "unused-table");
        let arn = secret(
            &env,
            &format!("unreachable-{}", std::process::id()),
            r#"{"UNIPILE_API_KEY":"sk-while-unreachable-42"}"#,
        )
        .await;
        env.insert("SECRETS_ARN".into(), arn);
        env
    };
    // A port nothing listens on: every call is refused, as when the endpoint is unreachable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = closed.local_addr().expect("bound").port();
    drop(closed);
    let mut down = env.clone();
    down.insert(
        "AWS_ENDPOINT_URL".into(),
        format!("http://127.0.0.1:{port}"),
    );

    let error = config::with_secrets(down)
        .await
        .expect_err("no secret without Secrets Manager");
    assert!(
        matches!(
            error,
            ConfigError::Invalid {
                var: "SECRETS_ARN",
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.to_string().contains("sk-while-unreachable-42"));

    // Lambda runs a failed initialisation again at the next invocation: with Secrets Manager
    // back, that one starts with the secret.
    let env = config::with_secrets(env).await.expect("the secret read");
    assert_eq!(
        env.get("UNIPILE_API_KEY").map(String::as_str),
        Some("sk-while-unreachable-42")
    );
}

/// What status-webhook answers a delivery for `account` carrying `secret`.
async fn answer(
    app: &status_webhook::StatusWebhook,
    account: &unipile_connect::domain::AccountId,
    secret: &str,
) -> u16 {
    status_webhook::handler(app, delivery(account.as_str(), secret))
        .await
        .expect("handled")
        .status()
        .as_u16()
}

/// A status delivery for `account` carrying `secret` in the secret header.
fn delivery(account: &str, secret: &str) -> lambda_http::Request {
    http::Request::builder()
        .method("POST")
        .uri("https://webhook.example.com/unipile/webhook")
        .header("content-type", "application/json")
        .header("Unipile-Auth", secret)
        .body(lambda_http::Body::from(format!(
            r#"{{"AccountStatus":{{"account_id":"{account}","account_type":"WHATSAPP","message":"OK"}}}}"#
        )))
        .expect("request")
}

#[tokio::test]
async fn given_the_webhook_secret_rotated_in_secrets_manager_then_no_delivery_is_refused() {
    let mut world = harness::world::World::new().await;
    let account = world
        .connected_account(&harness::world::unique("rotation"), "WHATSAPP")
        .await;
    let mut env = aws_env(&world.moto_endpoint, &world.table);
    let (old, new) = (
        "old-webhook-secret-never-logged-0123",
        "new-webhook-secret-never-logged-fedc",
    );
    let arn = secret(
        &env,
        &harness::world::unique("webhook-secret"),
        &format!(r#"{{"UNIPILE_WEBHOOK_SECRET":"{old}"}}"#),
    )
    .await;
    env.insert("SECRETS_ARN".into(), arn.clone());
    // The function as it starts in AWS: the secret read once, at cold start.
    let cold_start = |env: std::collections::HashMap<String, String>| async move {
        let env = config::with_secrets(env).await.expect("secrets read");
        let aws = config::aws_sdk_config(&env).await;
        config::rotating_webhook_secret(&env, &aws).expect("the secret")
    };
    world.status_webhook.secret = cold_start(env.clone()).await;
    assert_eq!(answer(&world.status_webhook, &account, old).await, 200);

    // The operator rotates it: the new value is current, the old one previous.
    let client = aws_sdk_secretsmanager::Client::new(&config::aws_sdk_config(&env).await);
    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(format!(r#"{{"UNIPILE_WEBHOOK_SECRET":"{new}"}}"#))
        .send()
        .await
        .expect("rotated");
    // Unipile may send either while the webhook is registered again: both are admitted by
    // the warm function (it reads the secret again once) and by a new cold start.
    assert_eq!(answer(&world.status_webhook, &account, new).await, 200);
    assert_eq!(answer(&world.status_webhook, &account, old).await, 200);
    world.status_webhook.secret = cold_start(env.clone()).await;
    assert_eq!(answer(&world.status_webhook, &account, old).await, 200);
    assert_eq!(answer(&world.status_webhook, &account, new).await, 200);
    // Anything else is still refused.
    assert_eq!(
        answer(
            &world.status_webhook,
            &account,
            "forged-secret-never-logged-0000"
        )
        .await,
        401
    );
}
