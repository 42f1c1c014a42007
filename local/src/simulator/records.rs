//! What the simulator's state holds beside accounts and links: the logins waiting at a
//! checkpoint and the webhooks registered, with their delivery attempts. Plain records, below
//! the state and the routes that use them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The code a scripted checkpoint takes when the script names none.
pub const DEFAULT_CODE: &str = "123456";

/// How long a login waits at a checkpoint (contract §4c: about 5 minutes).
const WINDOW: Duration = Duration::minutes(5);

/// A login waiting at a checkpoint.
#[derive(Debug, Clone)]
pub(super) struct SimCheckpoint {
    pub kind: String,
    pub code: String,
    /// The login was a reconnect: success answers `AccountReconnected`.
    pub reconnect: bool,
    pub expires_at: DateTime<Utc>,
}

impl SimCheckpoint {
    /// From a script's `<TYPE>` or `<TYPE>:<CODE>`.
    pub(super) fn scripted(spec: &str, reconnect: bool) -> Self {
        let (kind, code) = spec.split_once(':').unwrap_or((spec, DEFAULT_CODE));
        Self {
            kind: kind.to_owned(),
            code: code.to_owned(),
            reconnect,
            expires_at: Utc::now() + WINDOW,
        }
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
