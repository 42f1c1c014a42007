//! A custom-authentication attempt, from the start to its end, and the per-user, per-provider
//! slot that admits starts: at most `limit` starts in a window (the user's own account is
//! protected from the provider's lockouts), one attempt waiting at a time, and no new start
//! while an earlier one's answer was lost (it may have made an account).

use super::checkpoint::CheckpointKind;
use super::{AccountId, Provider, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long a login may wait at a checkpoint: Unipile's intent lasts 5 minutes (contract
/// §0.2); a little less is kept so that a code sent at the very end is not refused as late.
pub const LOGIN_WINDOW: Duration = Duration::seconds(270);

/// How long a QR code is offered before the page asks for a new one. v1 documents no
/// rotation (contract §3, [?]); WhatsApp's own codes rotate about every 20 s, and a minute
/// lets a user find the phone's menu.
pub const QR_CODE_LIFETIME: Duration = Duration::seconds(60);

/// How many "new code"s one attempt may ask for: enough for a user who keeps missing the
/// scan, bounded so that one attempt cannot start logins endlessly.
pub const MAX_RENEWALS: u32 = 10;

/// How long a start whose answer was lost holds back the next: long enough for Unipile to
/// have finished that login (and made its account, if it did).
pub const LOST_ANSWER_HOLD: Duration = Duration::seconds(90);

/// Starts a user may make per provider in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit {
    pub max: u32,
    pub window: Duration,
}

impl Default for AttemptLimit {
    fn default() -> Self {
        Self {
            max: 5,
            window: Duration::minutes(15),
        }
    }
}

impl AttemptLimit {
    /// `5/15m`: starts, then the window in seconds, minutes or hours.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (max, window) = raw
            .trim()
            .split_once('/')
            .ok_or("write it as <starts>/<window>, such as 5/15m")?;
        let max: u32 = max
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=100).contains(m))
            .ok_or("the number of starts must be 1 to 100")?;
        let window = window.trim();
        let (amount, unit) = window.split_at(window.len().saturating_sub(1));
        let amount: i64 = amount
            .parse()
            .ok()
            .filter(|a| *a > 0)
            .ok_or("the window must be a positive number with s, m or h")?;
        let window = match unit {
            "s" => Duration::seconds(amount),
            "m" => Duration::minutes(amount),
            "h" => Duration::hours(amount),
            _ => return Err("the window must end in s, m or h".into()),
        };
        if window > Duration::days(1) {
            return Err("the window may be a day at most".into());
        }
        Ok(Self { max, window })
    }
}

/// One attempt that reached Unipile and got an account id: whose it is, from the first
/// answer on. Keyed by the account id, so the status webhook and the reconciliation find its
/// user; kept a week after it ends ([`Self::kept_until`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAttempt {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub provider: Provider,
    /// A reconnect of the user's account (the same id), not a new one.
    pub reconnect: bool,
    pub started_at: DateTime<Utc>,
    /// Until when the waiting checkpoint can be solved (or the code scanned).
    pub expires_at: DateTime<Utc>,
    /// The account was recorded for its user, or the attempt was given up (and its account
    /// deleted at Unipile).
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl LoginAttempt {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// When the table may drop it: long enough for hourly reconciliations to attribute (or
    /// clean up) its account through a day of outages.
    pub fn kept_until(&self) -> DateTime<Utc> {
        self.expires_at + Duration::days(7)
    }
}

/// The attempt a slot holds open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingLogin {
    pub account_id: AccountId,
    pub expires_at: DateTime<Utc>,
    pub reconnect: bool,
    /// The method's code is shown on the phone (QR, pairing): "new code" may renew it.
    pub on_phone: bool,
    #[serde(default)]
    pub renewals: u32,
}

/// One user's custom-auth starts with one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSlot {
    pub user_id: UserId,
    pub provider: Provider,
    /// Starts within the limit's window, oldest first.
    #[serde(default)]
    pub starts: Vec<DateTime<Utc>>,
    /// A start was sent at this time and its answer is not known yet (or was lost).
    #[serde(default)]
    pub in_flight_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub waiting: Option<WaitingLogin>,
    /// Written only if still the version read: two starts at once cannot both pass.
    #[serde(default)]
    pub version: u64,
}

/// Why a start is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    /// The limit is reached; the oldest start leaves the window after `retry_after`.
    TooManyAttempts { retry_after: Duration },
    /// Another attempt waits for its checkpoint: finish it (or let it expire) first.
    AttemptWaiting {
        account_id: AccountId,
        expires_at: DateTime<Utc>,
    },
    /// The last start's answer is not known yet: it may still make an account.
    AnswerPending { retry_after: Duration },
    /// `renew` names no waiting attempt of this user and provider, or renewed too often.
    CannotRenew,
}

/// A start the slot admits: the slot as it must be written before Unipile is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub slot: LoginSlot,
    /// The waiting attempt this start renews (the same attempt, another code).
    pub renews: Option<WaitingLogin>,
    /// An earlier start's answer was lost: the caller looks for what it made first.
    pub lost_since: Option<DateTime<Utc>>,
}

impl LoginSlot {
    pub fn new(user_id: UserId, provider: Provider) -> Self {
        Self {
            user_id,
            provider,
            starts: Vec::new(),
            in_flight_since: None,
            waiting: None,
            version: 0,
        }
    }

    /// Whether a start (or the renewal of `renew`) may go to Unipile now.
    pub fn admit(
        &self,
        now: DateTime<Utc>,
        limit: &AttemptLimit,
        renew: Option<&AccountId>,
    ) -> Result<Admitted, StartRefusal> {
        let mut slot = self.clone();
        slot.starts.retain(|at| now - *at < limit.window);
        let mut lost_since = None;
        if let Some(since) = slot.in_flight_since {
            if now - since < LOST_ANSWER_HOLD {
                return Err(StartRefusal::AnswerPending {
                    retry_after: LOST_ANSWER_HOLD - (now - since),
                });
            }
            lost_since = Some(since);
        }
        let waiting = slot
            .waiting
            .clone()
            .filter(|w| now < w.expires_at || renew == Some(&w.account_id));
        let renews = match (renew, waiting) {
            (Some(renew), Some(w)) if w.account_id == *renew && w.on_phone => {
                if w.renewals >= MAX_RENEWALS {
                    return Err(StartRefusal::CannotRenew);
                }
                Some(w)
            }
            (Some(_), _) => return Err(StartRefusal::CannotRenew),
            (None, Some(w)) => {
                return Err(StartRefusal::AttemptWaiting {
                    account_id: w.account_id,
                    expires_at: w.expires_at,
                });
            }
            (None, None) => None,
        };
        if renews.is_none() && slot.starts.len() >= limit.max as usize {
            let oldest = slot.starts.first().copied().unwrap_or(now);
            return Err(StartRefusal::TooManyAttempts {
                retry_after: (oldest + limit.window - now).max(Duration::seconds(1)),
            });
        }
        if renews.is_none() {
            slot.starts.push(now);
        }
        slot.in_flight_since = Some(now);
        Ok(Admitted {
            slot,
            renews,
            lost_since,
        })
    }

    /// Unipile answered: nothing in flight; the attempt waiting at a checkpoint, if any.
    pub fn answered(mut self, waiting: Option<WaitingLogin>) -> Self {
        self.in_flight_since = None;
        self.waiting = waiting;
        self
    }

    /// The attempt on `account_id` ended (connected, expired, given up): a new one may start.
    pub fn ended(mut self, account_id: &AccountId) -> Self {
        if self
            .waiting
            .as_ref()
            .is_some_and(|w| w.account_id == *account_id)
        {
            self.waiting = None;
        }
        self
    }
}

/// A recruiter contract LinkedIn asks the user to pick (contract §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractOption {
    pub id: String,
    pub name: String,
}

/// A checkpoint Unipile answered a custom-auth login with, as the page needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginCheckpoint {
    pub kind: Option<CheckpointKind>,
    /// `2FA`: where the code comes from (`SMS`, `APP`), when Unipile says.
    pub source: Option<String>,
    /// The QR code's text (not an image: contract §3).
    pub qrcode: Option<String>,
    /// WhatsApp's pairing code; where Unipile puts it is not confirmed (contract §3).
    pub pairing_code: Option<String>,
    pub contract_options: Vec<ContractOption>,
}

impl LoginCheckpoint {
    pub fn kind(&self) -> CheckpointKind {
        self.kind
            .clone()
            .unwrap_or_else(|| CheckpointKind::Unknown("UNKNOWN".into()))
    }

    /// Completed on the phone (a scan, a typed pairing code): the page waits, polling.
    pub fn waits_for_phone(&self) -> bool {
        self.qrcode.is_some() || self.pairing_code.is_some()
    }

    /// Until when it can be answered, counted from `answered_at`.
    pub fn expires_at(&self, answered_at: DateTime<Utc>) -> DateTime<Utc> {
        if self.qrcode.is_some() {
            answered_at + QR_CODE_LIFETIME
        } else {
            answered_at + LOGIN_WINDOW
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("date")
            + Duration::seconds(seconds)
    }

    fn slot() -> LoginSlot {
        LoginSlot::new(UserId::parse("u1").expect("user"), Provider::Linkedin)
    }

    fn id(s: &str) -> AccountId {
        AccountId::parse(s).expect("id")
    }

    fn waiting(account: &str, expires_at: DateTime<Utc>, on_phone: bool) -> WaitingLogin {
        WaitingLogin {
            account_id: id(account),
            expires_at,
            reconnect: false,
            on_phone,
            renewals: 0,
        }
    }

    #[test]
    fn the_limit_is_parsed_from_starts_and_a_window() {
        assert_eq!(AttemptLimit::parse("5/15m"), Ok(AttemptLimit::default()));
        assert_eq!(
            AttemptLimit::parse(" 3 / 1h").map(|l| l.window),
            Ok(Duration::hours(1))
        );
        for bad in ["5", "0/15m", "5/15", "5/0m", "5/2d", "x/1m", "5/48h"] {
            assert!(AttemptLimit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_sixth_start_in_fifteen_minutes_waits_until_the_oldest_leaves_the_window() {
        let limit = AttemptLimit::default();
        let mut current = slot();
        for minute in 0..5 {
            current = current
                .admit(at(minute * 60), &limit, None)
                .expect("admitted")
                .slot
                .answered(None);
        }
        let refused = current.admit(at(5 * 60), &limit, None);
        assert_eq!(
            refused,
            Err(StartRefusal::TooManyAttempts {
                retry_after: Duration::minutes(10)
            })
        );
        assert!(current.admit(at(15 * 60), &limit, None).is_ok());
    }

    #[test]
    fn a_second_start_while_one_waits_is_refused_but_its_new_code_is_the_same_attempt() {
        let limit = AttemptLimit {
            max: 1,
            window: Duration::minutes(15),
        };
        let started = slot().admit(at(0), &limit, None).expect("first").slot;
        let waiting_slot = started.answered(Some(waiting("acc_qr", at(60), true)));
        assert_eq!(
            waiting_slot.admit(at(10), &limit, None),
            Err(StartRefusal::AttemptWaiting {
                account_id: id("acc_qr"),
                expires_at: at(60)
            })
        );
        // Expired, and over the limit of one: "new code" renews it all the same.
        let renewed = waiting_slot
            .admit(at(90), &limit, Some(&id("acc_qr")))
            .expect("renewal");
        assert_eq!(renewed.renews.map(|w| w.account_id), Some(id("acc_qr")));
        assert_eq!(renewed.slot.starts.len(), 1, "a renewal is not a start");
        assert_eq!(
            waiting_slot.admit(at(90), &limit, Some(&id("acc_other"))),
            Err(StartRefusal::CannotRenew)
        );
    }

    #[test]
    fn a_code_checkpoint_is_not_renewed_and_an_expired_one_frees_the_slot() {
        let limit = AttemptLimit::default();
        let waiting_slot = slot().answered(Some(waiting("acc_2fa", at(270), false)));
        assert_eq!(
            waiting_slot.admit(at(300), &limit, Some(&id("acc_2fa"))),
            Err(StartRefusal::CannotRenew)
        );
        assert!(waiting_slot.admit(at(300), &limit, None).is_ok());
    }

    #[test]
    fn a_lost_answer_holds_the_next_start_then_asks_for_a_look_first() {
        let limit = AttemptLimit::default();
        let lost = slot().admit(at(0), &limit, None).expect("first").slot;
        assert_eq!(
            lost.admit(at(30), &limit, None),
            Err(StartRefusal::AnswerPending {
                retry_after: Duration::seconds(60)
            })
        );
        let after = lost.admit(at(120), &limit, None).expect("after the hold");
        assert_eq!(after.lost_since, Some(at(0)));
    }

    #[test]
    fn qr_codes_live_a_minute_other_checkpoints_the_login_window() {
        let qr = LoginCheckpoint {
            qrcode: Some("2@abc".into()),
            ..LoginCheckpoint::default()
        };
        assert_eq!(qr.expires_at(at(0)), at(60));
        assert!(qr.waits_for_phone());
        let code = LoginCheckpoint {
            kind: Some(CheckpointKind::TwoFactor),
            ..LoginCheckpoint::default()
        };
        assert_eq!(code.expires_at(at(0)), at(270));
        assert!(!code.waits_for_phone());
    }
}
