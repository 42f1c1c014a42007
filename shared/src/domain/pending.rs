use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Work a status change calls for, recorded on the account item in the same write as the
/// status (an outbox), so that if the side effect fails, Unipile's retry of the webhook finds
/// it and finishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAction {
    /// Unique per recorded action: completing it is conditional on this id, so a stale
    /// delivery can never clear newer work.
    pub id: String,
    pub kind: PendingKind,
    pub created_at: DateTime<Utc>,
    /// While set and in the future, one delivery is carrying the action out; others wait.
    /// Kept as epoch milliseconds so the store can compare it in a condition.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "chrono::serde::ts_milliseconds_option"
    )]
    pub claimed_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PendingKind {
    /// The account needs new credentials: a cookie reconnect when the extension gave us a
    /// cookie for it, otherwise an email to the owner.
    CredentialsLost,
    /// One `POST /api/v1/accounts/{id}/restart` for a stopped or failed account.
    RestartAccount,
    /// Every cookie reconnect failed: email the owner (mentioning a silent extension).
    CookieReconnectFailed,
    /// A cookie reconnect hit a checkpoint only the owner can pass: email them.
    CookieCheckpoint,
}

impl PendingKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CredentialsLost => "CREDENTIALS_LOST",
            Self::RestartAccount => "RESTART_ACCOUNT",
            Self::CookieReconnectFailed => "COOKIE_RECONNECT_FAILED",
            Self::CookieCheckpoint => "COOKIE_CHECKPOINT",
        }
    }
}

impl PendingAction {
    /// A new action, claimed by the delivery that records it until `claimed_until`.
    pub fn new(
        kind: PendingKind,
        now: DateTime<Utc>,
        claimed_until: DateTime<Utc>,
    ) -> Result<Self, String> {
        let mut bytes = [0u8; 12];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for an action id: {e}"))?;
        let id = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            id,
            kind,
            created_at: now,
            claimed_until: Some(claimed_until),
        })
    }

    /// Whether another delivery holds it right now.
    pub fn is_claimed_at(&self, now: DateTime<Utc>) -> bool {
        self.claimed_until.is_some_and(|until| until > now)
    }
}
