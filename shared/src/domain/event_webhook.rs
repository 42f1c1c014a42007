//! Lifecycle events sent to the team's own endpoint as signed webhooks, per the Standard
//! Webhooks specification: `webhook-id` (the event's id, the same on every try),
//! `webhook-timestamp` (seconds, the time of this try), `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret during a rotation).
//! Retried with back-off for more than a day, then kept for the operator.

use super::events::EventId;
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::Value;
use sha2::Sha256;
use std::fmt;
use std::time::Duration;

/// What every secret of the specification starts with; the rest is the key in base64.
pub const SECRET_PREFIX: &str = "whsec_";

/// The specification's bounds on a key: shorter is guessable, longer is refused by some
/// receivers' libraries.
pub const MIN_KEY_BYTES: usize = 24;
pub const MAX_KEY_BYTES: usize = 64;

/// Secrets are read with or without their `=` padding, as the reference implementations read
/// them.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How long one try waits for the endpoint's answer: a receiver that needs longer should
/// queue the event and answer at once.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The waits after each failed try: quick at first (a redeploy, a blip), then hours apart, so
/// that an endpoint down for a whole day still gets every event. None is over 12 hours (the
/// most an SQS message can be held back).
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Tries in all, the first one included: the queue's `maxReceiveCount`.
pub const ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;

/// How long to wait after try number `attempt` (1 for the first) failed; `None` after the last.
pub fn retry_delay(attempt: u32) -> Option<Duration> {
    let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
    RETRY_DELAYS.get(index).copied()
}

/// The webhook secrets, current first: one, or two while the team rotates (space-separated
/// in `EVENTS_WEBHOOK_SECRET`). Never printed.
#[derive(Clone)]
pub struct SigningSecrets {
    keys: Vec<SecretSlice<u8>>,
}

impl fmt::Debug for SigningSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningSecrets({} keys, [redacted])", self.keys.len())
    }
}

/// Why a secret was refused; the reason never quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("no secret given")]
    Empty,
    #[error("at most two secrets (the current and the next), separated by a space; {0} given")]
    TooMany(usize),
    #[error("secret {0} does not start with `whsec_`")]
    NoPrefix(usize),
    #[error("secret {0} is not base64 after `whsec_`")]
    NotBase64(usize),
    #[error("secret {index} is {bytes} bytes once decoded: it must be 24 to 64")]
    Length { index: usize, bytes: usize },
}

impl SigningSecrets {
    pub fn parse(value: &str) -> Result<Self, SecretError> {
        let parts: Vec<&str> = value.split_whitespace().collect();
        match parts.len() {
            0 => return Err(SecretError::Empty),
            1 | 2 => {}
            n => return Err(SecretError::TooMany(n)),
        }
        let keys = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let index = i + 1;
                let encoded = part
                    .strip_prefix(SECRET_PREFIX)
                    .ok_or(SecretError::NoPrefix(index))?;
                let key = SECRET_BASE64
                    .decode(encoded)
                    .map_err(|_| SecretError::NotBase64(index))?;
                if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&key.len()) {
                    return Err(SecretError::Length {
                        index,
                        bytes: key.len(),
                    });
                }
                Ok(SecretSlice::from(key))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { keys })
    }

    /// The `webhook-signature` header: `v1,<signature>` for each secret, space-separated.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        self.keys
            .iter()
            .map(|key| {
                let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret())
                    .expect("HMAC takes a key of any length");
                mac.update(id.as_bytes());
                mac.update(b".");
                mac.update(timestamp.to_string().as_bytes());
                mac.update(b".");
                mac.update(body);
                format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One event ready to send: its id and type (read from it) and the body as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub id: EventId,
    pub kind: String,
    pub account_id: Option<String>,
    pub body: String,
}

/// Why a queued message cannot be sent: it is kept for the operator, never sent half-read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a lifecycle event: {0}")]
pub struct UnreadableEvent(pub String);

impl WebhookEvent {
    /// An event as published: the bare event, or an EventBridge envelope (what a rule puts
    /// in an SQS queue) whose `detail` is the event.
    pub fn read(text: &str) -> Result<Self, UnreadableEvent> {
        let json: Value = serde_json::from_str(text).map_err(|e| {
            UnreadableEvent(format!(
                "not JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let event = match json.get("detail") {
            Some(detail) if json.get("detail-type").is_some() => detail.clone(),
            _ => json,
        };
        Self::from_value(event)
    }

    pub fn from_value(event: Value) -> Result<Self, UnreadableEvent> {
        let text = |field: &str| event.get(field).and_then(Value::as_str).map(str::to_owned);
        let id = text("id").ok_or_else(|| UnreadableEvent("no `id`".into()))?;
        let id =
            EventId::parse(&id).map_err(|_| UnreadableEvent("an `id` of another form".into()))?;
        let kind = text("type").ok_or_else(|| UnreadableEvent("no `type`".into()))?;
        if event.get("data").is_none_or(|d| !d.is_object()) {
            return Err(UnreadableEvent("no `data`".into()));
        }
        let account_id = event
            .pointer("/data/account_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Self {
            id,
            kind,
            account_id,
            body: event.to_string(),
        })
    }

    /// The three headers of one try at `timestamp` (seconds since the epoch).
    pub fn headers(&self, secrets: &SigningSecrets, timestamp: i64) -> [(&'static str, String); 3] {
        [
            ("webhook-id", self.id.as_str().to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                secrets.sign(self.id.as_str(), timestamp, self.body.as_bytes()),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const KEY_B: &str = "whsec_bmV2ZXItbG9nZ2VkLXNlY29uZC1zZWNyZXQtMDEyMw==";

    #[test]
    fn retries_last_more_than_a_day_and_each_wait_fits_an_sqs_hold() {
        let total: Duration = RETRY_DELAYS.iter().sum();
        assert!(total >= Duration::from_secs(24 * 3600), "{total:?}");
        assert!(
            RETRY_DELAYS
                .iter()
                .all(|d| *d <= Duration::from_secs(12 * 3600))
        );
        assert!(
            RETRY_DELAYS.windows(2).all(|w| w[0] <= w[1]),
            "waits only grow"
        );
        assert_eq!(retry_delay(0), None);
        assert_eq!(retry_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(ATTEMPTS - 1), Some(Duration::from_secs(36_000)));
        assert_eq!(
            retry_delay(ATTEMPTS),
            None,
            "the last try is followed by no wait"
        );
    }

    #[test]
    fn the_reference_implementation_verifies_each_of_two_signatures() {
        let event = WebhookEvent::read(
            r#"{"id":"evt_0000000001000_abcdef012345","type":"account.connected","timestamp":"2026-12-07T10:00:00Z","data":{"account_id":"acc1","sequence":1}}"#,
        )
        .expect("event");
        let secrets = SigningSecrets::parse(&format!("{KEY_A}  {KEY_B}")).expect("secrets");
        let now = chrono::Utc::now().timestamp();
        let mut headers = http::HeaderMap::new();
        for (name, value) in event.headers(&secrets, now) {
            headers.insert(name, value.parse().expect("header"));
        }
        let signatures = headers["webhook-signature"].to_str().expect("ascii");
        assert_eq!(signatures.split(' ').count(), 2);
        for key in [KEY_A, KEY_B] {
            standardwebhooks::Webhook::new(key)
                .expect("key")
                .verify(event.body.as_bytes(), &headers)
                .expect("the reference implementation accepts it");
        }
        let stranger = "whsec_c3RyYW5nZXItbmV2ZXItbG9nZ2VkLWtleS0wMDAw";
        assert!(
            standardwebhooks::Webhook::new(stranger)
                .expect("key")
                .verify(event.body.as_bytes(), &headers)
                .is_err()
        );
        // A body changed on the way is refused.
        let tampered = event.body.replace("acc1", "acc2");
        assert!(
            standardwebhooks::Webhook::new(KEY_A)
                .expect("key")
                .verify(tampered.as_bytes(), &headers)
                .is_err()
        );
    }

    #[test]
    fn secrets_are_refused_in_words_that_never_quote_them() {
        for (value, expected) in [
            ("", SecretError::Empty),
            ("   ", SecretError::Empty),
            (
                &format!("{KEY_A} {KEY_A} {KEY_A}")[..],
                SecretError::TooMany(3),
            ),
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SecretError::NoPrefix(1)),
            (
                &format!("{KEY_A} whsec_%%%never-logged")[..],
                SecretError::NotBase64(2),
            ),
            ("whsec_c2hvcnQ=", SecretError::Length { index: 1, bytes: 5 }),
            // Unpadded base64 is read (as the reference implementations read it).
            (
                "whsec_bm90LWxvbmctZW5vdWdo",
                SecretError::Length {
                    index: 1,
                    bytes: 15,
                },
            ),
        ] {
            let error = SigningSecrets::parse(value).expect_err(value);
            assert_eq!(error, expected, "{value}");
            assert!(!error.to_string().contains("never-logged"));
        }
        let secrets = SigningSecrets::parse(KEY_A).expect("one secret");
        assert!(!format!("{secrets:?}").contains("MfKQ"));
    }

    #[test]
    fn an_event_is_read_bare_or_in_its_eventbridge_envelope_and_signed_as_sent() {
        let bare = r#"{"id":"evt_0000000001000_abcdef012345","type":"account.deleted","timestamp":"t","data":{"account_id":"acc1"}}"#;
        let envelope = format!(
            r#"{{"version":"0","id":"eb-1","detail-type":"account.deleted","source":"unipile-connect","detail":{bare}}}"#
        );
        let a = WebhookEvent::read(bare).expect("bare");
        let b = WebhookEvent::read(&envelope).expect("envelope");
        assert_eq!(a, b);
        assert_eq!(a.kind, "account.deleted");
        assert_eq!(a.account_id.as_deref(), Some("acc1"));
        assert_eq!(
            serde_json::from_str::<Value>(&a.body).expect("body"),
            serde_json::from_str::<Value>(bare).expect("json")
        );
        for bad in [
            "nope",
            "{}",
            r#"{"id":"evt_1","type":"x","data":{}}"#,
            r#"{"id":"evt_0000000001000_abcdef012345","type":"x"}"#,
            r#"{"id":"evt_0000000001000_abcdef012345","data":{}}"#,
        ] {
            assert!(WebhookEvent::read(bad).is_err(), "{bad}");
        }
    }
}
