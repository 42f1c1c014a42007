//! What the hourly reconciliation finds before it writes anything (its settings, the evidence
//! and each kind of finding): below both the run ([`super::account_reconciler`]) and the
//! ledger that weighs the evidence ([`super::reconciliation_ledger`]).

use crate::domain::events::How;
use crate::domain::{AccountId, AccountStatus, LinkedinMemberId, LinkedinProfileId, UserId};
use crate::ports::UnipileAccount;
use chrono::{DateTime, Duration, SecondsFormat, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// Most pages of `GET /api/v1/accounts` (of [`MAX_ACCOUNT_PAGE`] accounts) one run reads.
    /// A longer list is read in part: attributable accounts on the pages read are settled,
    /// and nothing is marked DELETED (absence from a partial list proves nothing).
    pub max_pages: usize,
    /// Most accounts one run confirms gone, one `GET /api/v1/accounts/{id}` each.
    pub max_gone_checks: usize,
    /// An account nobody claims is reported only once it is this old: a hosted-auth callback
    /// may still be on its way (Unipile retries it).
    pub report_grace: Duration,
    /// A cookie reconnect whose next attempt is this late is over: the attempt failed for good
    /// (Lambda's retries spent, the message in the dead-letter queue) and nothing else will
    /// move it on.
    pub reconnect_overdue: Duration,
}

/// `RECONCILE_MAX_PAGES` when unset (10,000 accounts), and the values it may take.
pub const DEFAULT_RECONCILE_MAX_PAGES: usize = 40;
pub const RECONCILE_MAX_PAGES_RANGE: std::ops::RangeInclusive<usize> = 1..=400;

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            max_pages: DEFAULT_RECONCILE_MAX_PAGES,
            max_gone_checks: 50,
            report_grace: Duration::minutes(15),
            reconnect_overdue: Duration::hours(2),
        }
    }
}

/// What ties an account to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The user's cookie record for this LinkedIn identity names the account.
    CookieRecord(LinkedinMemberId),
    /// The user's hosted-auth link was spent on the account.
    SpentLink,
    /// The account shows (`connection_params.im.id`) the LinkedIn profile id that this user,
    /// and no other, holds: on a cookie record, or on another of their accounts.
    LinkedinProfile {
        profile: LinkedinProfileId,
        /// The user's cookie record of that profile, when it names no account yet (a connect
        /// whose answer was lost): tied to the account when it is recorded.
        unanswered_record: Option<LinkedinMemberId>,
    },
    /// The user's custom sign-in got this account id from Unipile.
    LoginAttempt,
}

impl Evidence {
    /// How the account the evidence claims was connected: through a hosted link when one was
    /// spent on it, else with the extension's cookie.
    pub fn how_of(evidence: &[Self]) -> How {
        if evidence.contains(&Self::SpentLink) {
            How::Hosted
        } else if evidence.contains(&Self::LoginAttempt) {
            How::Custom
        } else {
            How::Cookie
        }
    }
}

/// An account at Unipile, missing from the table, that one user's records claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub account: UnipileAccount,
    pub user_id: UserId,
    pub evidence: Vec<Evidence>,
}

impl Settlement {
    pub(super) fn linkedin_member_id(&self) -> Option<LinkedinMemberId> {
        self.evidence
            .iter()
            .find_map(|e| match e {
                Evidence::CookieRecord(member) => Some(member.clone()),
                _ => None,
            })
            .or_else(|| self.unanswered_record())
    }

    /// The cookie record whose unanswered connect this account is, to tie to it.
    pub(super) fn unanswered_record(&self) -> Option<LinkedinMemberId> {
        self.evidence.iter().find_map(|e| match e {
            Evidence::LinkedinProfile {
                unanswered_record, ..
            } => unanswered_record.clone(),
            _ => None,
        })
    }
}

/// A cookie connect whose outcome is unknown, started around the account's creation: whose
/// the account may be. A hint for the operator, never acted on alone (another application on
/// the same tenant may have created a LinkedIn account at that moment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PossibleConnect {
    pub user_id: UserId,
    pub linkedin_member_id: LinkedinMemberId,
    pub started_at: DateTime<Utc>,
}

/// An account at Unipile the table does not hold and no single user claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unattributed {
    pub account: UnipileAccount,
    /// Users whose records claim it when several do (then none is chosen).
    pub claimed_by: Vec<UserId>,
    pub possible_connects: Vec<PossibleConnect>,
}

impl Unattributed {
    /// One line: id, type, created_at, and the hints. Nothing secret is in it.
    pub fn describe(&self) -> String {
        let created = self.account.created_at.map_or_else(
            || "-".to_owned(),
            |at| at.to_rfc3339_opts(SecondsFormat::Secs, true),
        );
        let mut line = format!(
            "{}\t{}\t{created}",
            self.account.account_id, self.account.account_type
        );
        if !self.claimed_by.is_empty() {
            let users: Vec<_> = self.claimed_by.iter().map(UserId::as_str).collect();
            line.push_str(&format!("\tclaimed by several users: {}", users.join(", ")));
        }
        for hint in &self.possible_connects {
            line.push_str(&format!(
                "\tmaybe user {} (linkedin member {}) connecting at {}",
                hint.user_id,
                hint.linkedin_member_id,
                hint.started_at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ));
        }
        line
    }
}

/// An account the table holds whose status Unipile's list shows otherwise: a status webhook
/// that never reached us (Unipile gave up after its retries, during a deploy, throttling or a
/// secret rotation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDrift {
    pub account_id: AccountId,
    pub stored: AccountStatus,
    pub listed: AccountStatus,
}

/// A cookie reconnect whose next attempt is overdue by more than
/// [`ReconcileSettings::reconnect_overdue`]: it is ended as when every attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueReconnect {
    pub account_id: AccountId,
    /// The attempt it expects (the one that never ran through).
    pub attempt: u32,
    pub due_at: DateTime<Utc>,
}

/// A custom sign-in that expired before its account connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbandonedLogin {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub expired_at: DateTime<Utc>,
}

/// What a run finds, before it writes anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    pub settle: Vec<Settlement>,
    /// Recorded accounts whose listed status differs from the stored one: each gets the
    /// "confirm with Unipile" follow-up a delivery would record.
    pub drifted: Vec<StatusDrift>,
    /// Cookie reconnects left hanging (their attempt failed for good).
    pub overdue_reconnects: Vec<OverdueReconnect>,
    pub unattributed: Vec<Unattributed>,
    /// Accounts of custom sign-ins that expired unfinished: deleted at Unipile, since nobody
    /// can finish them and each is billed.
    pub abandoned_logins: Vec<AbandonedLogin>,
    /// Accounts the table holds (not DELETED) that a complete list of Unipile's lacks.
    pub gone_candidates: Vec<AccountId>,
    /// Every page of Unipile's list was read.
    pub listing_complete: bool,
    pub unipile_accounts: usize,
    pub table_accounts: usize,
    /// Unclaimed accounts too young to report yet.
    pub too_recent: usize,
    /// Table items that could not be read.
    pub unreadable_items: usize,
}
