use super::AccountStatus;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long one caller holds a follow-up before another may take it over.
///
/// The rule: a lease always outlives the function holding it, so a holder that is still
/// running is never overtaken. The longest function timeout in `infra/template.yaml` is 60 s
/// (reconnect-retry, follow-up-sweeper); five minutes leaves room for a cold start, clock
/// skew between executions, and a timeout raised later without thinking of this constant.
pub const CLAIM_LEASE: Duration = Duration::minutes(5);

/// Claims a follow-up may take before it is given up (and an alarm raised): with the back-off
/// of [`retry_at`], about four hours of an outage of SES, Unipile or the user directory.
pub const MAX_FOLLOW_UP_ATTEMPTS: u32 = 8;

/// Work a status change calls for, recorded on the account item in the same write as the
/// status (an outbox). Whoever finds it due (the webhook, a reconnect attempt, the sweeper)
/// claims it, confirms the account's status with Unipile, does it and clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAction {
    /// Unique per recorded action: a stale caller can never claim newer work.
    pub id: String,
    pub kind: PendingKind,
    pub created_at: DateTime<Utc>,
    /// While `claim` is set and this is in the future, its holder is carrying the action out;
    /// without a `claim` it is when the action is next due (a retry's back-off). Epoch
    /// milliseconds so the store can compare it in a condition.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "chrono::serde::ts_milliseconds_option"
    )]
    pub claimed_until: Option<DateTime<Utc>>,
    /// The holder's claim id, written with each claim: every write of the holder is
    /// conditional on it, so a holder whose lease ran out cannot clear work someone else took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// Claims taken so far; bounded by [`MAX_FOLLOW_UP_ATTEMPTS`].
    #[serde(default)]
    pub attempts: u32,
    /// What Unipile's delivery said, for [`PendingKind::ConfirmStatus`]: used only when
    /// Unipile's account shows no status of its own (no sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<AccountStatus>,
    /// Given up after [`MAX_FOLLOW_UP_ATTEMPTS`]: kept on the item for an operator to see, no
    /// longer swept; newer work replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PendingKind {
    /// Unipile reported a status change: ask Unipile for the account's status, record that,
    /// and do what it calls for. A v1 delivery carries no timestamp, so it may be late.
    ConfirmStatus,
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
            Self::ConfirmStatus => "CONFIRM_STATUS",
            Self::CredentialsLost => "CREDENTIALS_LOST",
            Self::RestartAccount => "RESTART_ACCOUNT",
            Self::CookieReconnectFailed => "COOKIE_RECONNECT_FAILED",
            Self::CookieCheckpoint => "COOKIE_CHECKPOINT",
        }
    }
}

/// 24 random hex characters: action and claim ids.
pub fn random_id() -> Result<String, String> {
    random_hex::<12>()
}

pub(crate) fn random_hex<const N: usize>() -> Result<String, String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for an id: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl PendingAction {
    /// A new action, claimed by the caller that records it until `claimed_until`: it carries
    /// it out at once, and the sweeper finds it if that caller fails.
    pub fn claimed(
        kind: PendingKind,
        now: DateTime<Utc>,
        claimed_until: DateTime<Utc>,
    ) -> Result<Self, String> {
        Ok(Self {
            claimed_until: Some(claimed_until),
            claim: Some(random_id()?),
            attempts: 1,
            ..Self::due(kind, now)?
        })
    }

    /// A new action nobody holds, due now: recorded by a caller that does not carry it out
    /// itself (the connect callback), for the sweeper.
    pub fn due(kind: PendingKind, now: DateTime<Utc>) -> Result<Self, String> {
        Ok(Self {
            id: random_id()?,
            kind,
            created_at: now,
            claimed_until: Some(now),
            claim: None,
            attempts: 0,
            reported: None,
            abandoned_at: None,
        })
    }

    /// Whether another caller holds it right now.
    pub fn is_held_at(&self, now: DateTime<Utc>) -> bool {
        self.claim.is_some() && self.claimed_until.is_some_and(|until| until > now)
    }

    /// When it may be claimed: the end of its lease, or of its back-off.
    pub fn due_at(&self) -> DateTime<Utc> {
        self.claimed_until.unwrap_or(self.created_at)
    }

    pub fn is_abandoned(&self) -> bool {
        self.abandoned_at.is_some()
    }

    /// Whether a caller may take it now (its own attempt count allowing).
    /// Once its lease or its back-off is over, for whoever comes (a delivery, an attempt,
    /// the sweeper): a burst of deliveries must not spend a failing follow-up's attempts in
    /// seconds, which would give it up long before the outside service is back.
    pub fn is_claimable_at(&self, now: DateTime<Utc>) -> bool {
        !self.is_abandoned() && self.due_at() <= now
    }
}

/// When a follow-up that failed its `attempts`-th try is due again: 5 minutes, doubling, at
/// most an hour apart (the sweeper runs every 5 minutes, so that is its resolution).
pub fn retry_at(attempts: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    let doublings = attempts.saturating_sub(1).min(4);
    let delay = (Duration::minutes(5) * 2i32.pow(doublings)).min(Duration::hours(1));
    now + delay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_outlives_the_longest_function_timeout() {
        assert!(CLAIM_LEASE > Duration::seconds(60));
    }

    #[test]
    fn retries_back_off_to_an_hour_and_stop_after_about_four_hours() {
        let now = Utc::now();
        let delays: Vec<i64> = (1..MAX_FOLLOW_UP_ATTEMPTS)
            .map(|n| (retry_at(n, now) - now).num_minutes())
            .collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 60, 60, 60]);
        assert!(delays.iter().sum::<i64>() >= 4 * 60);
    }

    #[test]
    fn a_claimed_action_is_held_until_its_lease_ends_and_a_due_one_by_nobody() {
        let now = Utc::now();
        let held = PendingAction::claimed(PendingKind::CredentialsLost, now, now + CLAIM_LEASE)
            .expect("id");
        assert!(held.is_held_at(now) && !held.is_claimable_at(now));
        assert!(held.is_claimable_at(now + CLAIM_LEASE));
        let due = PendingAction::due(PendingKind::CredentialsLost, now).expect("id");
        assert!(!due.is_held_at(now) && due.is_claimable_at(now));
        assert_eq!(due.due_at(), now);
        // Let go after a failure: nobody takes it before its back-off is over, however many
        // deliveries come meanwhile.
        let mut released = held.clone();
        released.claim = None;
        released.claimed_until = Some(retry_at(1, now));
        assert!(!released.is_held_at(now) && !released.is_claimable_at(now));
        assert!(released.is_claimable_at(retry_at(1, now)));
    }

    #[test]
    fn an_action_stored_before_claims_were_counted_still_reads() {
        let old = r#"{"id":"a1","kind":"CREDENTIALS_LOST","created_at":"2026-03-01T12:00:00Z","claimed_until":1772366460000}"#;
        let action: PendingAction = serde_json::from_str(old).expect("reads");
        assert_eq!((action.attempts, action.claim), (0, None));
    }
}
