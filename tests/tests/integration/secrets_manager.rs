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
