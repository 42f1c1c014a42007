//! Unipile's webhooks carry no signature (contract §5c): the only proof a delivery is
//! Unipile's is the secret header we registered with the webhook.

use lambda_http::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const DEFAULT_WEBHOOK_HEADER: &str = "Unipile-Auth";

/// The expected header; without a configured secret every delivery is refused (fail closed).
#[derive(Clone)]
pub struct WebhookSecret {
    header: http::HeaderName,
    /// SHA-256 of the secret: comparing digests in constant time hides the secret's length too.
    expected: Option<[u8; 32]>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("header", &self.header)
            .field("configured", &self.expected.is_some())
            .finish()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl WebhookSecret {
    pub fn new(header: &str, secret: Option<&str>) -> Result<Self, String> {
        let header = http::HeaderName::from_bytes(header.as_bytes())
            .map_err(|_| format!("{header:?} is not a header name"))?;
        Ok(Self {
            header,
            expected: secret
                .filter(|s| !s.is_empty())
                .map(|s| digest(s.as_bytes())),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.expected.is_some()
    }

    pub fn header_name(&self) -> &str {
        self.header.as_str()
    }

    /// Whether the request carries the secret header with the right value.
    pub fn admits(&self, request: &Request) -> bool {
        let Some(expected) = &self.expected else {
            return false;
        };
        let Some(given) = request.headers().get(&self.header) else {
            return false;
        };
        bool::from(digest(given.as_bytes()).ct_eq(expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn request(header: Option<(&str, &str)>) -> Request {
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("/unipile/webhook");
        if let Some((name, value)) = header {
            builder = builder.header(name, value);
        }
        builder.body(Body::Empty).expect("request")
    }

    #[test]
    fn only_the_right_secret_in_the_right_header_is_admitted() {
        let secret =
            WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some("s3cret-value")).expect("valid");
        assert!(secret.admits(&request(Some(("Unipile-Auth", "s3cret-value")))));
        assert!(secret.admits(&request(Some(("unipile-auth", "s3cret-value")))));
        assert!(!secret.admits(&request(Some(("Unipile-Auth", "s3cret-valuE")))));
        assert!(!secret.admits(&request(Some(("X-Other", "s3cret-value")))));
        assert!(!secret.admits(&request(None)));
    }

    #[test]
    fn without_a_configured_secret_nothing_is_admitted() {
        let secret = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, None).expect("valid");
        assert!(!secret.is_configured());
        assert!(!secret.admits(&request(Some(("Unipile-Auth", "")))));
        assert!(!secret.admits(&request(Some(("Unipile-Auth", "anything")))));
    }

    #[test]
    fn the_secret_never_prints() {
        let secret =
            WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some("s3cret-value")).expect("valid");
        assert!(!format!("{secret:?}").contains("s3cret"));
    }
}
