//! The answer to CloudFormation: an HTTPS PUT of the JSON response to the request's
//! ResponseURL, a presigned S3 URL. The URL is a credential for that one answer: it is never
//! logged, and errors are reported without it.

use std::time::Duration;
use unipile_connect::config::ConfigError;
use unipile_connect::deadline;
use unipile_connect::flows::webhook_setup::CustomResourceResponse;
use url::Url;

/// Tries in all: S3 rarely fails, but an unanswered request stalls the stack for an hour.
const ATTEMPTS: u32 = 3;
/// One try, when the invocation has that long left.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The least time given to one try, even when the invocation has less left.
const MIN_ATTEMPT: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer could not be encoded: {0}")]
    Encode(String),
    #[error("the answer was not accepted after {ATTEMPTS} tries; last: {0}")]
    NotDelivered(String),
}

/// Sends answers; built once at cold start (it owns a connection pool).
#[derive(Debug, Clone)]
pub struct Responder {
    http: reqwest::Client,
    retry_delay: Duration,
}

impl Responder {
    pub fn new() -> Result<Self, ConfigError> {
        let http = unipile_connect::adapters::tls::client_builder()
            .user_agent(concat!("unipile-connect/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Invalid {
                var: "the HTTPS client for ResponseURL",
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            retry_delay: Duration::from_millis(300),
        })
    }

    pub async fn send(
        &self,
        url: &Url,
        response: &CustomResourceResponse,
    ) -> Result<(), AnswerError> {
        let body = serde_json::to_vec(response).map_err(|e| AnswerError::Encode(e.to_string()))?;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(self.retry_delay * (attempt - 1)).await;
            }
            let outcome = self
                .http
                .put(url.clone())
                // The URL is presigned for an empty content type, as CloudFormation's own
                // cfn-response helper sends it; any other value breaks the signature.
                .header(reqwest::header::CONTENT_TYPE, "")
                .body(body.clone())
                .timeout(deadline::cap(ATTEMPT_TIMEOUT).max(MIN_ATTEMPT))
                .send()
                .await;
            match outcome {
                Ok(answer) if answer.status().is_success() => {
                    tracing::info!(
                        status = ?response.status,
                        physical_resource_id = %response.physical_resource_id,
                        attempt,
                        "CloudFormation answered"
                    );
                    return Ok(());
                }
                Ok(answer) => last = format!("the ResponseURL answered {}", answer.status()),
                Err(error) => last = error.without_url().to_string(),
            }
            tracing::warn!(attempt, error = %last, "the answer to CloudFormation failed");
        }
        Err(AnswerError::NotDelivered(last))
    }
}
