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
use unipile_connect::flows::webhook_setup::{
    self, CustomResourceRequest, NotConfigured, StackWebhook,
};
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
    /// `UNIPILE_WEBHOOK_SECRET`, `UNIPILE_WEBHOOK_HEADER`; and `STATUS_WEBHOOK_URL`, which
    /// only registering needs: without it (or with a bad one) a Create or Update is answered
    /// FAILED naming it, and a Delete still deletes, so that the stack can always go.
    pub fn from_env(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            registry: Arc::new(unipile_connect::deps::http_unipile(env)?),
            webhook: StackWebhook {
                url: config::status_webhook_url(env).map_err(|e| NotConfigured(e.to_string())),
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
        match &registrar {
            Err(error) => {
                tracing::error!(%error, "configuration error: every request will be answered FAILED");
            }
            Ok(Registrar {
                webhook: StackWebhook {
                    url: Err(error), ..
                },
                ..
            }) => {
                tracing::error!(%error, "configuration error: Create and Update will be answered FAILED");
            }
            Ok(_) => {}
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
            webhook_setup::answer(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use unipile_connect::adapters::memory::MemoryWebhooks;
    use unipile_connect::domain::webhook::{WebhookRegistration, WebhookUrl};
    use unipile_connect::flows::webhook_setup::{ResponseStatus, ensure_registered};

    const URL: &str = "https://status.lambda-url.eu-west-1.on.aws/";

    /// The function's environment as the template gives it, without `STATUS_WEBHOOK_URL`.
    fn env_without_its_url() -> HashMap<String, String> {
        HashMap::from([
            ("UNIPILE_DSN".to_owned(), "http://127.0.0.1:9".to_owned()),
            (
                "UNIPILE_API_KEY".to_owned(),
                "setup-key-never-logged".to_owned(),
            ),
            (
                "UNIPILE_WEBHOOK_SECRET".to_owned(),
                "setup-webhook-secret-never-logged-0123456789".to_owned(),
            ),
        ])
    }

    fn request(request_type: &str, physical: Option<&str>) -> CustomResourceRequest {
        let mut event = json!({
            "RequestType": request_type,
            "ResponseURL": "https://cloudformation-custom-resource-response.s3.amazonaws.com/x",
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1",
            "RequestId": "req-1",
            "LogicalResourceId": "StatusWebhookRegistration",
            "ResourceProperties": {"ServiceToken": "arn", "RequestUrl": URL},
        });
        if let Some(physical) = physical {
            event["PhysicalResourceId"] = json!(physical);
        }
        CustomResourceRequest::parse(&event).expect("answerable")
    }

    /// A stack whose webhook-setup lost `STATUS_WEBHOOK_URL` (or has a bad one) must still be
    /// deletable: the Delete of its registered webhook deletes it; only registering fails.
    #[tokio::test]
    async fn given_no_status_webhook_url_then_a_delete_still_deletes_the_registered_webhook() {
        let env = env_without_its_url();
        let mut registrar = Registrar::from_env(&env).expect("a registrar that can delete");
        let memory = Arc::new(MemoryWebhooks::new());
        let registered = ensure_registered(
            memory.as_ref(),
            &WebhookRegistration::new(
                WebhookUrl::parse(URL).expect("valid"),
                None,
                registrar.webhook.auth.clone(),
            )
            .expect("valid"),
        )
        .await
        .expect("registered");
        registrar.registry = memory.clone() as Arc<dyn WebhookRegistry>;
        let id = registered.id().to_string();

        let create = webhook_setup::answer(
            registrar.registry.as_ref(),
            &registrar.webhook,
            &request("Create", None),
            None,
        )
        .await;
        assert_eq!(create.status, ResponseStatus::Failed);
        assert_eq!(
            create.reason,
            "webhook-setup is not configured: STATUS_WEBHOOK_URL is not set"
        );

        let delete = webhook_setup::answer(
            registrar.registry.as_ref(),
            &registrar.webhook,
            &request("Delete", Some(&id)),
            None,
        )
        .await;
        assert_eq!(delete.status, ResponseStatus::Success, "{}", delete.reason);
        assert!(
            memory.webhooks().is_empty(),
            "the webhook went with the stack"
        );

        let mut bad = env_without_its_url();
        bad.insert(
            "STATUS_WEBHOOK_URL".into(),
            "http://hook.example.com/".into(),
        );
        let registrar = Registrar::from_env(&bad).expect("a registrar that can delete");
        let reason = registrar.webhook.url.expect_err("plain http").to_string();
        assert!(
            reason.starts_with("STATUS_WEBHOOK_URL is not valid"),
            "{reason}"
        );
    }
}
