//! The `account_status` webhook we keep registered with Unipile (contract §5a), and the
//! webhooks Unipile lists. Unipile signs nothing (§5c): the secret header registered with
//! the webhook is the only proof a delivery is Unipile's, so its value is held as a secret
//! here and never printed, whoever's it is.

use super::WebhookId;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;
use url::Url;

/// The `source` of the webhook that reports account statuses.
pub const ACCOUNT_STATUS_SOURCE: &str = "account_status";

/// The name given to the webhook when none is asked for.
pub const DEFAULT_WEBHOOK_NAME: &str = "unipile-connect account status";

/// What stands in for a secret in any text that could have quoted it.
const REDACTED: &str = "[redacted]";

/// The secret header Unipile sends with every delivery, the one `status-webhook` checks.
#[derive(Clone)]
pub struct WebhookAuth {
    header: String,
    value: SecretString,
}

impl fmt::Debug for WebhookAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookAuth")
            .field("header", &self.header)
            .field("value", &REDACTED)
            .finish()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl WebhookAuth {
    /// The reason given for a refused value never quotes it.
    pub fn new(header: &str, value: SecretString) -> Result<Self, String> {
        let header = header.trim();
        http::HeaderName::from_bytes(header.as_bytes())
            .map_err(|_| format!("{header:?} is not a header name"))?;
        let secret = value.expose_secret();
        if secret.is_empty() {
            return Err("the secret is empty".into());
        }
        // Unipile replays it as an HTTP header value: printable ASCII only.
        if !secret.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err("the secret must be printable ASCII (it travels as a header value)".into());
        }
        Ok(Self {
            header: header.to_owned(),
            value,
        })
    }

    pub fn header(&self) -> &str {
        &self.header
    }

    pub fn value(&self) -> &SecretString {
        &self.value
    }

    /// Whether `headers` carry this header (name in any case) with this value. Digests are
    /// compared in constant time, as `status-webhook` compares deliveries.
    pub fn is_carried_by(&self, headers: &[WebhookHeader]) -> bool {
        let expected = digest(self.value.expose_secret().as_bytes());
        headers
            .iter()
            .filter(|h| h.key.trim().eq_ignore_ascii_case(&self.header))
            .any(|h| bool::from(digest(h.value.expose_secret().as_bytes()).ct_eq(&expected)))
    }

    /// `text` with the secret replaced wherever it appears: for messages that quote what
    /// Unipile answered, before they go to a log or to CloudFormation.
    pub fn redact(&self, text: &str) -> String {
        text.replace(self.value.expose_secret(), REDACTED)
    }
}

/// One header of a webhook. Values may be secrets (ours or another application's): only
/// the key prints.
#[derive(Clone)]
pub struct WebhookHeader {
    pub key: String,
    pub value: SecretString,
}

impl fmt::Debug for WebhookHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookHeader")
            .field("key", &self.key)
            .field("value", &REDACTED)
            .finish()
    }
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("the webhook URL {0:?} is not an http(s) URL")]
    BadUrl(String),
    #[error("the webhook name must be 1 to 128 characters without control characters")]
    BadName,
}

/// The `account_status` webhook we want Unipile to have: deliveries in JSON to `request_url`
/// with our secret header.
#[derive(Debug, Clone)]
pub struct WebhookRegistration {
    pub request_url: Url,
    pub name: String,
    pub auth: WebhookAuth,
}

impl WebhookRegistration {
    pub fn new(
        request_url: &str,
        name: Option<&str>,
        auth: WebhookAuth,
    ) -> Result<Self, RegistrationError> {
        let raw = request_url.trim();
        let request_url = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| RegistrationError::BadUrl(raw.to_owned()))?;
        let name = name.map(str::trim).unwrap_or(DEFAULT_WEBHOOK_NAME);
        if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(RegistrationError::BadName);
        }
        Ok(Self {
            request_url,
            name: name.to_owned(),
            auth,
        })
    }

    /// The headers Unipile is to send. A webhook created through the API gets no JSON
    /// content type by default (contract §5a, D-wh), so it is asked for explicitly.
    pub fn headers(&self) -> Vec<WebhookHeader> {
        vec![
            WebhookHeader {
                key: "Content-Type".into(),
                value: SecretString::from("application/json"),
            },
            WebhookHeader {
                key: self.auth.header.clone(),
                value: self.auth.value.clone(),
            },
        ]
    }
}

/// A webhook as Unipile lists it (`GET /api/v1/webhooks`).
#[derive(Debug, Clone)]
pub struct RegisteredWebhook {
    pub id: WebhookId,
    /// The contract does not confirm that list items carry `source` [?]: `None` when absent.
    pub source: Option<String>,
    pub request_url: String,
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub headers: Vec<WebhookHeader>,
}

impl RegisteredWebhook {
    /// Whether this webhook already delivers what `wanted` asks for: account statuses (or no
    /// source given), to the same URL, with the same secret header, and not disabled. A
    /// different secret is not the same webhook: its deliveries would all be refused.
    pub fn is_same_as(&self, wanted: &WebhookRegistration) -> bool {
        self.source
            .as_deref()
            .is_none_or(|source| source == ACCOUNT_STATUS_SOURCE)
            && self.enabled != Some(false)
            && Url::parse(self.request_url.trim()).is_ok_and(|url| url == wanted.request_url)
            && wanted.auth.is_carried_by(&self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(value: &str) -> WebhookAuth {
        WebhookAuth::new("Unipile-Auth", SecretString::from(value)).expect("valid")
    }

    fn listed(url: &str, source: Option<&str>, headers: &[(&str, &str)]) -> RegisteredWebhook {
        RegisteredWebhook {
            id: WebhookId::parse("wh_1").expect("id"),
            source: source.map(str::to_owned),
            request_url: url.to_owned(),
            name: None,
            enabled: Some(true),
            headers: headers
                .iter()
                .map(|(k, v)| WebhookHeader {
                    key: k.to_string(),
                    value: SecretString::from(v.to_string()),
                })
                .collect(),
        }
    }

    #[test]
    fn the_same_url_source_and_secret_is_the_same_webhook() {
        let wanted = WebhookRegistration::new("https://hook.example.com/", None, auth("s3cret"))
            .expect("valid");
        let same = listed(
            "https://hook.example.com",
            Some("account_status"),
            &[("unipile-auth", "s3cret")],
        );
        assert!(
            same.is_same_as(&wanted),
            "URL spelling and header case aside"
        );
        let no_source = listed(
            "https://hook.example.com/",
            None,
            &[("Unipile-Auth", "s3cret")],
        );
        assert!(
            no_source.is_same_as(&wanted),
            "source missing from the list"
        );
    }

    #[test]
    fn another_secret_url_source_or_a_disabled_webhook_is_not_the_same() {
        let wanted = WebhookRegistration::new("https://hook.example.com/", None, auth("s3cret"))
            .expect("valid");
        let auth_ok = [("Unipile-Auth", "s3cret")];
        assert!(
            !listed(
                "https://hook.example.com/",
                None,
                &[("Unipile-Auth", "old")]
            )
            .is_same_as(&wanted)
        );
        assert!(
            !listed("https://hook.example.com/", None, &[("X-Other", "s3cret")])
                .is_same_as(&wanted)
        );
        assert!(!listed("https://hook.example.com/", None, &[]).is_same_as(&wanted));
        assert!(!listed("https://other.example.com/", None, &auth_ok).is_same_as(&wanted));
        assert!(
            !listed("https://hook.example.com/", Some("messaging"), &auth_ok).is_same_as(&wanted)
        );
        let mut disabled = listed("https://hook.example.com/", None, &auth_ok);
        disabled.enabled = Some(false);
        assert!(!disabled.is_same_as(&wanted));
    }

    #[test]
    fn secrets_never_print_and_are_redacted_from_text() {
        let wanted =
            WebhookRegistration::new("https://hook.example.com/", Some("n"), auth("s3cret-value"))
                .expect("valid");
        assert!(!format!("{wanted:?}").contains("s3cret"));
        assert!(!format!("{:?}", wanted.headers()).contains("s3cret"));
        assert_eq!(
            wanted.auth.redact("header value s3cret-value is invalid"),
            "header value [redacted] is invalid"
        );
    }

    #[test]
    fn bad_urls_names_headers_and_secrets_are_refused_without_quoting_the_secret() {
        assert!(WebhookRegistration::new("ftp://x", None, auth("s")).is_err());
        assert!(WebhookRegistration::new("not a url", None, auth("s")).is_err());
        assert_eq!(
            WebhookRegistration::new("https://x.example.com", Some(" "), auth("s")).err(),
            Some(RegistrationError::BadName)
        );
        assert!(WebhookAuth::new("bad header", SecretString::from("s")).is_err());
        assert!(WebhookAuth::new("Unipile-Auth", SecretString::from("")).is_err());
        let refused = WebhookAuth::new("Unipile-Auth", SecretString::from("line\nbreak"))
            .expect_err("control character");
        assert!(!refused.contains("line"), "{refused}");
    }
}
