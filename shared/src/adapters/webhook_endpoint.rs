//! The team's endpoint for signed event webhooks, over HTTPS (or plain HTTP to a loopback
//! address, for a receiver on the same machine).

use super::tls;
use crate::domain::event_webhook::DELIVERY_TIMEOUT;
use crate::domain::secure_url::is_https_or_loopback;
use crate::ports::{DeliveryError, WebhookEndpoint};
use async_trait::async_trait;
use url::Url;

/// What the webhook's `User-Agent` says, so that a receiver's logs tell whose calls they are.
const USER_AGENT: &str = concat!("unipile-connect/", env!("CARGO_PKG_VERSION"));

pub struct HttpWebhookEndpoint {
    client: reqwest::Client,
    url: Url,
}

impl HttpWebhookEndpoint {
    /// The reason given for a refused URL never quotes it: it may carry a token.
    pub fn new(url: Url) -> Result<Self, String> {
        if !is_https_or_loopback(&url) {
            return Err("must be https:// (http:// only to a loopback address)".into());
        }
        let client = tls::client_builder()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(USER_AGENT)
            // A redirect would send the signed event somewhere the team did not configure.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("HTTP client: {}", e.without_url()))?;
        Ok(Self { client, url })
    }
}

#[async_trait]
impl WebhookEndpoint for HttpWebhookEndpoint {
    async fn post(
        &self,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<(), DeliveryError> {
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let answer = request.send().await.map_err(|e| {
            if e.is_timeout() {
                DeliveryError::Timeout
            } else {
                // Without the URL: the team's may carry a token.
                DeliveryError::Unreachable(e.without_url().to_string())
            }
        })?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Status(status.as_u16()))
        }
    }
}
