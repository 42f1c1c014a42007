//! Secrets Manager: the secrets a function reads at cold start (one JSON object of name to
//! value per secret), and the status webhook's secret read again during a rotation, current
//! and previous versions.

use super::lazy_client::LazyClient;
use crate::ports::{WebhookSecretSource, WebhookSecrets};
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use secrecy::SecretString;
use std::collections::HashMap;

/// The name the webhook's secret has inside its secret's JSON object.
pub const WEBHOOK_SECRET_NAME: &str = "UNIPILE_WEBHOOK_SECRET";

/// One secret's JSON object of name to value, at `stage` (`AWSCURRENT` when `None`); `Ok(None)`
/// when the secret has no version at that stage (it was never rotated). Errors name the ARN,
/// never a value: serde's message could quote part of the secret, so only the expected shape
/// is said.
pub async fn read_secret(
    client: &Client,
    arn: &str,
    stage: Option<&str>,
) -> Result<Option<HashMap<String, String>>, String> {
    let output = match client
        .get_secret_value()
        .secret_id(arn)
        .set_version_stage(stage.map(str::to_owned))
        .send()
        .await
    {
        Ok(output) => output,
        Err(error)
            if stage.is_some()
                && error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(format!("{arn}: {}", DisplayErrorContext(&error))),
    };
    let text = output
        .secret_string()
        .ok_or_else(|| format!("{arn}: the secret has no string value"))?;
    serde_json::from_str(text)
        .map(Some)
        .map_err(|_| format!("{arn}: the secret is not a JSON object of string values"))
}

/// The webhook's secret in Secrets Manager: whichever of `arns` holds
/// [`WEBHOOK_SECRET_NAME`], at its `AWSCURRENT` and `AWSPREVIOUS` stages. Read only during a
/// rotation, so its client is built on first use, not at every cold start.
pub struct SecretsManagerWebhookSecrets {
    client: LazyClient<Client>,
    arns: Vec<String>,
}

impl SecretsManagerWebhookSecrets {
    pub fn new(client: impl Into<LazyClient<Client>>, arns: Vec<String>) -> Self {
        Self {
            client: client.into(),
            arns,
        }
    }
}

#[async_trait]
impl WebhookSecretSource for SecretsManagerWebhookSecrets {
    async fn webhook_secrets(&self) -> Result<WebhookSecrets, String> {
        let client = self.client.get();
        for arn in &self.arns {
            let Some(current) = read_secret(client, arn, None)
                .await?
                .and_then(|mut values| values.remove(WEBHOOK_SECRET_NAME))
            else {
                continue;
            };
            let previous = read_secret(client, arn, Some("AWSPREVIOUS"))
                .await?
                .and_then(|mut values| values.remove(WEBHOOK_SECRET_NAME))
                .filter(|previous| *previous != current);
            return Ok(WebhookSecrets {
                current: Some(SecretString::from(current)),
                previous: previous.map(SecretString::from),
            });
        }
        Err(format!(
            "no secret of SECRETS_ARN holds {WEBHOOK_SECRET_NAME}"
        ))
    }
}
