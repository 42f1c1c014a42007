//! What the simulator's state holds beside accounts and links: the logins waiting at a
//! checkpoint and the webhooks registered, with their delivery attempts. Plain records, below
//! the state and the routes that use them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The code a scripted checkpoint takes when the script names none.
pub const DEFAULT_CODE: &str = "123456";

/// How long a login waits at a checkpoint (contract §4c: about 5 minutes).
const WINDOW: Duration = Duration::minutes(5);

/// A login waiting at a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SimCheckpoint {
    pub kind: String,
    /// What solves it: the digits of a code checkpoint, the pairing code WhatsApp shows.
    pub code: String,
    /// The login was a reconnect: success answers `AccountReconnected`.
    pub reconnect: bool,
    pub expires_at: DateTime<Utc>,
    /// A custom-auth login (not a cookie one): its completion answers a reconnect with 201
    /// and tells the `account_status` webhooks, as Unipile does for native logins.
    pub custom: bool,
    /// Where a `2FA` code comes from: `SMS` or `APP`.
    pub source: Option<String>,
    /// The text a `QRCODE` checkpoint carries.
    pub qrcode: Option<String>,
    /// The Arkose key a `CAPTCHA` checkpoint carries.
    pub public_key: Option<String>,
    /// The Recruiter contracts a `CONTRACT_CHOOSER` offers, as `(id, name)`.
    pub contract_options: Vec<(String, String)>,
    /// When the code was last sent: the opening, or the last resend.
    pub sent_at: DateTime<Utc>,
    pub resends: u32,
}

impl SimCheckpoint {
    /// A checkpoint of `kind` solved by `code`, opening now.
    pub(super) fn new(kind: &str, code: &str, reconnect: bool) -> Self {
        let now = Utc::now();
        Self {
            kind: kind.to_owned(),
            code: code.to_owned(),
            reconnect,
            expires_at: now + WINDOW,
            custom: false,
            source: None,
            qrcode: None,
            public_key: None,
            contract_options: Vec::new(),
            sent_at: now,
            resends: 0,
        }
    }

    /// From a script's `<TYPE>` or `<TYPE>:<CODE>`.
    pub(super) fn scripted(spec: &str, reconnect: bool) -> Self {
        let (kind, code) = spec.split_once(':').unwrap_or((spec, DEFAULT_CODE));
        Self::new(kind, code, reconnect)
    }

    pub(super) fn expired(&self) -> bool {
        Utc::now() >= self.expires_at
    }

    /// The `checkpoint` object of a `Checkpoint` answer: the type and what the user needs to
    /// get past it (never the code that solves it, except a pairing code the user types).
    pub(super) fn wire(&self) -> Value {
        let mut wire = json!({"type": self.kind});
        match self.kind.as_str() {
            "QRCODE" => wire["qrcode"] = json!(self.qrcode),
            "PAIRING_CODE" => wire["code"] = json!(self.code),
            "2FA" if self.source.is_some() => wire["source"] = json!(self.source),
            "CAPTCHA" => wire["public_key"] = json!(self.public_key),
            "CONTRACT_CHOOSER" => {
                wire["contract_options"] = self
                    .contract_options
                    .iter()
                    .map(|(id, name)| json!({"id": id, "name": name}))
                    .collect();
            }
            _ => {}
        }
        wire
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SimWebhook {
    pub id: String,
    pub source: String,
    pub request_url: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub headers: Vec<(String, String)>,
}

/// One attempt to deliver an event to a webhook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeliveryAttempt {
    pub webhook_id: String,
    pub status: Option<u16>,
    pub error: Option<String>,
}
