//! Unipile's webhooks carry no signature (contract §5c): the only proof a delivery is
//! Unipile's is the secret header we registered with the webhook. During a rotation two
//! secrets are good: the new one, and the previous one Unipile may still send.

use crate::ports::{WebhookSecretSource, WebhookSecrets};
use lambda_http::Request;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

pub const DEFAULT_WEBHOOK_HEADER: &str = "Unipile-Auth";

/// The expected header; without a configured secret every delivery is refused (fail closed).
#[derive(Clone)]
pub struct WebhookSecret {
    header: http::HeaderName,
    /// SHA-256 of the secret: comparing digests in constant time hides the secret's length too.
    expected: Option<[u8; 32]>,
    /// The secret before the last rotation, while Unipile may still send it.
    previous: Option<[u8; 32]>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("header", &self.header)
            .field("configured", &self.expected.is_some())
            .field("previous", &self.previous.is_some())
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
            previous: None,
        })
    }

    /// Also admits `previous` (the secret before a rotation), while there is a current one.
    pub fn with_previous(mut self, previous: Option<&str>) -> Self {
        self.previous = previous
            .filter(|s| !s.is_empty())
            .map(|s| digest(s.as_bytes()));
        self
    }

    pub fn is_configured(&self) -> bool {
        self.expected.is_some()
    }

    pub fn header_name(&self) -> &str {
        self.header.as_str()
    }

    /// Whether the request carries the secret header with the right value (the current
    /// secret's, or the previous one's). Both are compared, so the time taken does not tell
    /// which matched.
    pub fn admits(&self, request: &Request) -> bool {
        let Some(expected) = &self.expected else {
            return false;
        };
        let Some(given) = request.headers().get(&self.header) else {
            return false;
        };
        let given = digest(given.as_bytes());
        let previous = self.previous.unwrap_or(*expected);
        bool::from(given.ct_eq(expected) | given.ct_eq(&previous))
    }
}

/// How often one execution environment may read the secret again for a delivery it refused:
/// a rotation is seen within a minute, and a flood of forged deliveries costs at most one
/// read a minute.
pub const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// The webhook's secret as a running function holds it: read at cold start, and read again
/// from its store when a delivery carries a header it does not admit (the secret was rotated
/// since the function started), at most every [`REFRESH_AT_MOST_EVERY`].
pub struct RotatingWebhookSecret {
    secret: RwLock<WebhookSecret>,
    source: Option<Arc<dyn WebhookSecretSource>>,
    last_read: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RotatingWebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingWebhookSecret")
            .field("secret", &self.current())
            .field("reread", &self.source.is_some())
            .finish()
    }
}

impl From<WebhookSecret> for RotatingWebhookSecret {
    /// Never read again (the local stack, tests: the environment is all there is).
    fn from(secret: WebhookSecret) -> Self {
        Self {
            secret: RwLock::new(secret),
            source: None,
            last_read: tokio::sync::Mutex::new(None),
        }
    }
}

impl RotatingWebhookSecret {
    /// `secret` as read at cold start, read again from `source` when a delivery needs it.
    pub fn reread_from(secret: WebhookSecret, source: Arc<dyn WebhookSecretSource>) -> Self {
        Self {
            source: Some(source),
            ..Self::from(secret)
        }
    }

    fn held(&self) -> std::sync::RwLockReadGuard<'_, WebhookSecret> {
        self.secret.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn current(&self) -> WebhookSecret {
        self.held().clone()
    }

    pub fn header_name(&self) -> String {
        self.held().header_name().to_owned()
    }

    pub fn is_configured(&self) -> bool {
        self.held().is_configured()
    }

    /// [`WebhookSecret::admits`], with the secret read again first when the request is not
    /// admitted and no read happened in the last [`REFRESH_AT_MOST_EVERY`].
    pub async fn admits(&self, request: &Request) -> bool {
        // Every delivery asks this: a read lock, no copy of the secret.
        if self.held().admits(request) {
            return true;
        }
        let Some(source) = &self.source else {
            return false;
        };
        let mut last_read = self.last_read.lock().await;
        // Another delivery may have read it while this one waited.
        if self.held().admits(request) {
            return true;
        }
        if last_read.is_some_and(|at| at.elapsed() < REFRESH_AT_MOST_EVERY) {
            return false;
        }
        *last_read = Some(Instant::now());
        match source.webhook_secrets().await {
            Ok(WebhookSecrets { current, previous }) => {
                let Some(current) = current else {
                    tracing::warn!(
                        "the webhook secret's store holds no secret: every delivery will be refused"
                    );
                    return false;
                };
                let mut held = self.secret.write().unwrap_or_else(|p| p.into_inner());
                let header = held.header_name().to_owned();
                if let Ok(read) = WebhookSecret::new(&header, Some(current.expose_secret())) {
                    *held = read.with_previous(previous.as_ref().map(|p| p.expose_secret()));
                    tracing::info!(
                        previous = previous.is_some(),
                        "webhook secret read again for a delivery it did not admit"
                    );
                }
                held.admits(request)
            }
            Err(error) => {
                tracing::warn!(%error, "the webhook secret could not be read again");
                false
            }
        }
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
    fn the_previous_secret_is_admitted_beside_the_current_one() {
        let secret = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some("new-secret"))
            .expect("valid")
            .with_previous(Some("old-secret"));
        assert!(secret.admits(&request(Some(("Unipile-Auth", "new-secret")))));
        assert!(secret.admits(&request(Some(("Unipile-Auth", "old-secret")))));
        assert!(!secret.admits(&request(Some(("Unipile-Auth", "other")))));
        // A previous secret alone admits nothing: no current one means fail closed.
        let closed = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, None)
            .expect("valid")
            .with_previous(Some("old-secret"));
        assert!(!closed.admits(&request(Some(("Unipile-Auth", "old-secret")))));
    }

    /// A store whose secrets a test rotates, counting its reads.
    struct Store {
        secrets: std::sync::Mutex<(String, Option<String>)>,
        reads: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl WebhookSecretSource for Store {
        async fn webhook_secrets(&self) -> Result<WebhookSecrets, String> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (current, previous) = self.secrets.lock().expect("lock").clone();
            Ok(WebhookSecrets {
                current: Some(current.into()),
                previous: previous.map(Into::into),
            })
        }
    }

    #[tokio::test]
    async fn a_rotated_secret_is_read_again_once_and_both_are_admitted() {
        let store = Arc::new(Store {
            secrets: std::sync::Mutex::new(("old-secret".into(), None)),
            reads: Default::default(),
        });
        let started =
            WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some("old-secret")).expect("valid");
        let secret = RotatingWebhookSecret::reread_from(started, store.clone());
        assert!(
            secret
                .admits(&request(Some(("Unipile-Auth", "old-secret"))))
                .await
        );
        assert_eq!(store.reads.load(std::sync::atomic::Ordering::SeqCst), 0);
        // The secret is rotated; Unipile's webhook is registered again with the new one.
        *store.secrets.lock().expect("lock") = ("new-secret".into(), Some("old-secret".into()));
        assert!(
            secret
                .admits(&request(Some(("Unipile-Auth", "new-secret"))))
                .await
        );
        assert!(
            secret
                .admits(&request(Some(("Unipile-Auth", "old-secret"))))
                .await
        );
        assert_eq!(store.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Forged deliveries: refused, and at most one read a minute.
        for _ in 0..20 {
            assert!(
                !secret
                    .admits(&request(Some(("Unipile-Auth", "forged"))))
                    .await
            );
        }
        assert_eq!(store.reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(!format!("{secret:?}").contains("secret\""));
        assert!(!format!("{secret:?}").contains("new-secret"));
    }

    #[test]
    fn the_secret_never_prints() {
        let secret =
            WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some("s3cret-value")).expect("valid");
        assert!(!format!("{secret:?}").contains("s3cret"));
    }
}
