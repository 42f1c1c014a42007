//! The `account_status` webhook we keep registered with Unipile (contract §5a), and the
//! webhooks Unipile lists. Unipile signs nothing (§5c): the secret header registered with
//! the webhook is the only proof a delivery is Unipile's, so its value is held as a secret
//! here and never printed, whoever's it is.

use super::WebhookId;
use super::secure_url::is_loopback;
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

/// The fewest characters of a webhook secret we register. The header is the only proof a
/// delivery is Unipile's: a short one could be guessed, and every status forged.
pub const MIN_WEBHOOK_SECRET_CHARS: usize = 32;

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

/// Why a registration was refused. None quotes the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("the webhook URL {0:?} is not an http(s) URL")]
    BadUrl(String),
    #[error(
        "the webhook URL {0:?} is not https: Unipile would send the secret header in clear \
         (plain http is taken only to this machine: 127.0.0.0/8, ::1 and localhost)"
    )]
    NotHttps(String),
    #[error("the webhook name must be 1 to 128 characters without control characters")]
    BadName,
    #[error(
        "the webhook secret is shorter than {} characters: whoever guesses it can forge \
         status deliveries; set UNIPILE_WEBHOOK_SECRET to {} or more random characters \
         (openssl rand -hex 32 gives 64)",
        MIN_WEBHOOK_SECRET_CHARS,
        MIN_WEBHOOK_SECRET_CHARS
    )]
    WeakSecret,
}

/// Where Unipile is to deliver: an https URL, or plain http to this machine only (a loopback
/// host as [`is_loopback`] has it: the local stack and tests). Every delivery carries the
/// secret header, so anywhere else it would cross the network in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, RegistrationError> {
        let raw = raw.trim();
        let url = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| RegistrationError::BadUrl(raw.to_owned()))?;
        if url.scheme() == "http" && !is_loopback(&url) {
            return Err(RegistrationError::NotHttps(raw.to_owned()));
        }
        Ok(Self(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A text still to be judged, for the one caller that hands [`WebhookRegistration::new`]
/// one (the local stack's registration with its simulator): parsed once, there. Everything
/// else parses first and hands a [`WebhookUrl`].
/// The `account_status` webhook we want Unipile to have: deliveries in JSON to `request_url`
/// with our secret header.
#[derive(Debug, Clone)]
pub struct WebhookRegistration {
    pub request_url: WebhookUrl,
    pub name: String,
    pub auth: WebhookAuth,
}

impl WebhookRegistration {
    /// Refuses a bad name and a secret shorter than [`MIN_WEBHOOK_SECRET_CHARS`]; the URL was
    /// judged when it was parsed ([`WebhookUrl::parse`]).
    pub fn new(
        request_url: WebhookUrl,
        name: Option<&str>,
        auth: WebhookAuth,
    ) -> Result<Self, RegistrationError> {
        let name = name.map(str::trim).unwrap_or(DEFAULT_WEBHOOK_NAME);
        if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(RegistrationError::BadName);
        }
        if auth.value.expose_secret().chars().count() < MIN_WEBHOOK_SECRET_CHARS {
            return Err(RegistrationError::WeakSecret);
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
            && Url::parse(self.request_url.trim())
                .is_ok_and(|url| url == *wanted.request_url.as_url())
            && wanted.auth.is_carried_by(&self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret as long as a registered one must be.
    const SECRET: &str = "s3cret-s3cret-s3cret-s3cret-s3cret";

    fn auth(value: &str) -> WebhookAuth {
        WebhookAuth::new("Unipile-Auth", SecretString::from(value)).expect("valid")
    }

    fn url(text: &str) -> WebhookUrl {
        WebhookUrl::parse(text).expect("a webhook URL")
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
        let wanted = WebhookRegistration::new(url("https://hook.example.com/"), None, auth(SECRET))
            .expect("valid");
        let same = listed(
            "https://hook.example.com",
            Some("account_status"),
            &[("unipile-auth", SECRET)],
        );
        assert!(
            same.is_same_as(&wanted),
            "URL spelling and header case aside"
        );
        let no_source = listed(
            "https://hook.example.com/",
            None,
            &[("Unipile-Auth", SECRET)],
        );
        assert!(
            no_source.is_same_as(&wanted),
            "source missing from the list"
        );
    }

    #[test]
    fn another_secret_url_source_or_a_disabled_webhook_is_not_the_same() {
        let wanted = WebhookRegistration::new(url("https://hook.example.com/"), None, auth(SECRET))
            .expect("valid");
        let auth_ok = [("Unipile-Auth", SECRET)];
        assert!(
            !listed(
                "https://hook.example.com/",
                None,
                &[("Unipile-Auth", "old")]
            )
            .is_same_as(&wanted)
        );
        assert!(
            !listed("https://hook.example.com/", None, &[("X-Other", SECRET)]).is_same_as(&wanted)
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
            WebhookRegistration::new(url("https://hook.example.com/"), Some("n"), auth(SECRET))
                .expect("valid");
        assert!(!format!("{wanted:?}").contains("s3cret"));
        assert!(!format!("{:?}", wanted.headers()).contains("s3cret"));
        assert_eq!(
            wanted
                .auth
                .redact(&format!("header value {SECRET} is invalid")),
            "header value [redacted] is invalid"
        );
    }

    #[test]
    fn bad_urls_names_headers_and_secrets_are_refused_without_quoting_the_secret() {
        assert_eq!(
            WebhookUrl::parse("ftp://x").err(),
            Some(RegistrationError::BadUrl("ftp://x".into()))
        );
        assert_eq!(
            WebhookUrl::parse("not a url").err(),
            Some(RegistrationError::BadUrl("not a url".into()))
        );
        assert_eq!(
            WebhookRegistration::new(url("https://x.example.com"), Some(" "), auth(SECRET)).err(),
            Some(RegistrationError::BadName)
        );
        assert!(WebhookAuth::new("bad header", SecretString::from("s")).is_err());
        assert!(WebhookAuth::new("Unipile-Auth", SecretString::from("")).is_err());
        let refused = WebhookAuth::new("Unipile-Auth", SecretString::from("line\nbreak"))
            .expect_err("control character");
        assert!(!refused.contains("line"), "{refused}");
    }

    /// This machine is what [`super::super::secure_url`] says it is (all of 127.0.0.0/8,
    /// `::1`, `localhost`), for a webhook as for every other URL we send to.
    #[test]
    fn a_webhook_is_registered_on_https_and_on_plain_http_only_to_this_machine() {
        for text in [
            "https://hook.example.com/unipile/webhook",
            "http://127.0.0.1:8787/unipile/webhook",
            "http://127.0.0.2/",
            "http://127.9.9.9:8787/",
            "http://[::1]:8787/",
            "http://localhost:8787/",
            "http://LOCALHOST/",
        ] {
            let parsed = WebhookUrl::parse(text);
            assert!(parsed.is_ok(), "{text}");
            assert!(
                WebhookRegistration::new(url(text), None, auth(SECRET)).is_ok(),
                "{text}"
            );
            assert!(
                super::super::secure_url::is_https_or_loopback(&Url::parse(text).expect("URL")),
                "{text}"
            );
        }
        for text in [
            "http://hook.example.com/unipile/webhook",
            "http://10.0.0.8/",
            "http://128.0.0.1/",
            "http://127.0.0.1.nip.io/",
            "http://localhost.example.com/",
            "http://[::2]/",
        ] {
            assert_eq!(
                WebhookUrl::parse(text).err(),
                Some(RegistrationError::NotHttps(text.to_owned())),
                "{text}"
            );
            assert!(
                !super::super::secure_url::is_https_or_loopback(&Url::parse(text).expect("URL")),
                "{text}"
            );
        }
        let refused = RegistrationError::NotHttps("http://hook.example.com/".into()).to_string();
        assert!(refused.contains("is not https"), "{refused}");
        assert!(
            refused.contains("127.0.0.0/8, ::1 and localhost"),
            "{refused}"
        );
    }

    #[test]
    fn a_secret_shorter_than_32_characters_is_refused_and_never_quoted() {
        let short = "s3cret-s3cret-s3cret-s3cret-s3c";
        assert_eq!(short.len(), MIN_WEBHOOK_SECRET_CHARS - 1);
        let refused = WebhookRegistration::new(url("https://hook.example.com/"), None, auth(short))
            .expect_err("too short");
        assert_eq!(refused, RegistrationError::WeakSecret);
        let reason = refused.to_string();
        assert!(reason.contains("shorter than 32 characters"), "{reason}");
        assert!(!reason.contains("s3cret"), "{reason}");
        let exactly = &SECRET[..MIN_WEBHOOK_SECRET_CHARS];
        assert!(
            WebhookRegistration::new(url("https://hook.example.com/"), None, auth(exactly)).is_ok()
        );
    }
}
