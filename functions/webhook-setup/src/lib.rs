//! `webhook-setup` keeps Unipile's `account_status` webhook pointed at `status-webhook`, with
//! the secret header it checks. In Lambda it is a CloudFormation custom resource (properties
//! `RequestUrl`, which must be the stack's own status-webhook URL, and `Name`): Create and
//! Update register the webhook unless an identical one is there, Delete deletes it, and
//! CloudFormation always gets an answer. Given arguments, the same binary is a CLI ([`cli`])
//! for teams that wire it by hand.

pub mod cli;
mod response_url;

pub use response_url::{AnswerError, Responder};

use lambda_http::Error;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deadline;
use unipile_connect::flows::webhook_registration::{self, CustomResourceRequest, StackWebhook};
use unipile_connect::ports::WebhookRegistry;

/// Time kept back from Unipile work to PUT the answer (with its retries) before the
/// invocation ends: on top of [`deadline::RESERVE`], which `deadline::remaining` keeps.
pub const ANSWER_RESERVE: Duration = Duration::from_secs(3);

/// Unipile, and the stack's webhook: where it must point and the secret header.
pub struct Registrar {
    pub registry: Arc<dyn WebhookRegistry>,
    pub webhook: StackWebhook,
}

impl Registrar {
    /// `UNIPILE_DSN`, `UNIPILE_API_KEY` (and the optional `UNIPILE_TIMEOUT_SECONDS`, ...),
    /// `STATUS_WEBHOOK_URL`, `UNIPILE_WEBHOOK_SECRET`, `UNIPILE_WEBHOOK_HEADER`.
    pub fn from_env(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            registry: Arc::new(unipile_connect::deps::http_unipile(env)?),
            webhook: StackWebhook {
                url: config::status_webhook_url(env)?,
                auth: config::webhook_auth(env)?,
            },
        })
    }
}

pub struct WebhookSetup {
    /// A configuration error does not stop the cold start: it is answered to CloudFormation
    /// as FAILED, naming the variable. A function that never starts never answers, and the
    /// stack would wait for an answer until the custom resource times out (an hour by
    /// default).
    pub registrar: Result<Registrar, ConfigError>,
    pub responder: Responder,
}

impl WebhookSetup {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let registrar = Registrar::from_env(&env);
        if let Err(error) = &registrar {
            tracing::error!(%error, "configuration error: every request will be answered FAILED");
        }
        Ok(Self {
            registrar,
            responder: Responder::new()?,
        })
    }
}

/// One custom-resource request: decide, then PUT the answer to its ResponseURL. An event
/// that cannot be answered (no ResponseURL), or an answer that could not be delivered, fails
/// the invocation so that it shows in the function's errors.
pub async fn handler(app: &WebhookSetup, event: Value) -> Result<Value, Error> {
    let request = CustomResourceRequest::parse(&event).inspect_err(|error| {
        tracing::error!(%error, "event dropped: there is nowhere to answer it");
    })?;
    let response = match &app.registrar {
        Ok(registrar) => {
            let budget = deadline::remaining().map(|left| left.saturating_sub(ANSWER_RESERVE));
            webhook_registration::answer(
                registrar.registry.as_ref(),
                &registrar.webhook,
                &request,
                budget,
            )
            .await
        }
        Err(error) => request.unconfigured(error),
    };
    app.responder
        .send(&request.response_url, &response)
        .await
        .inspect_err(|error| tracing::error!(%error, "CloudFormation was not answered"))?;
    Ok(json!({
        "Status": response.status,
        "PhysicalResourceId": response.physical_resource_id,
    }))
}
