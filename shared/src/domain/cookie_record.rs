use super::checkpoint::{CheckpointKind, WaitingCheckpoint};
use super::cookies::{CookieDigest, Sealed};
use super::{AccountId, AccountStatus, Country, LinkedinMemberId, LinkedinProfileId, UserId};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// The newest cookie the extension sent for one (user, LinkedIn member), encrypted, and what
/// became of it at Unipile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieRecord {
    pub user_id: UserId,
    pub member_id: LinkedinMemberId,
    /// The member's profile id, when the extension sent one: how Unipile's accounts of this
    /// member are told from others'.
    pub profile_id: Option<LinkedinProfileId>,
    pub unipile_account_id: Option<AccountId>,
    pub unipile_status: Option<AccountStatus>,
    pub date_last_cookie: DateTime<Utc>,
    pub date_last_status_unipile: Option<DateTime<Utc>>,
    pub li_at: Sealed,
    pub li_a: Option<Sealed>,
    /// The keyed digest of what the sync that stored these cookies sent: a sync with the same
    /// digest changes nothing.
    pub cookie_digest: Option<CookieDigest>,
    pub user_agent: String,
    pub ip: Option<IpAddr>,
    pub country: Option<Country>,
    pub date_last_try_connect: Option<DateTime<Utc>>,
    /// The checkpoint Unipile asked for on the last connect, if any (`2FA`, `OTP`, ...).
    pub checkpoint: Option<String>,
    /// Until when that checkpoint can be solved (absent on records written before it was kept:
    /// such a checkpoint is taken as expired).
    pub checkpoint_expires_at: Option<DateTime<Utc>>,
    /// Why the last connect or reconnect failed, in Unipile's words (its error `type`).
    pub last_error: Option<String>,
    /// A connect (`POST /api/v1/accounts`) was sent at this time and its outcome is not
    /// known yet: Unipile may have created an account we never heard of. Set before the call,
    /// cleared by the write that records the answer; while it stands, a sync looks for that
    /// account instead of creating another.
    pub connect_started_at: Option<DateTime<Utc>>,
    /// When the table deletes the record on its own (DynamoDB TTL): the extension's silence
    /// past the configured time. Every sync moves it on.
    pub expires_at: Option<DateTime<Utc>>,
}

impl CookieRecord {
    /// The record's cookie may still be used at `now`: the table deletes an expired record
    /// only some time after `expires_at` (DynamoDB's TTL sweep may take days), and until
    /// then it counts as no cookie at all.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }

    /// The checkpoint the last login stopped at, while one is recorded.
    pub fn waiting_checkpoint(&self) -> Option<WaitingCheckpoint> {
        let kind = CheckpointKind::from(self.checkpoint.as_deref()?);
        Some(WaitingCheckpoint {
            kind,
            expires_at: self.checkpoint_expires_at.unwrap_or(self.date_last_cookie),
        })
    }
}

/// A LinkedIn identity whose user disconnected the account the extension connected: no cookie
/// is kept for it and nothing is connected with it until the user turns syncing back on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedIdentity {
    pub user_id: UserId,
    pub member_id: LinkedinMemberId,
    pub paused_at: DateTime<Utc>,
}

/// Every LinkedIn identity a user's extension synced: the ones syncing (with their cookie
/// records) and the paused ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkedinIdentities {
    pub syncing: Vec<CookieRecord>,
    pub paused: Vec<PausedIdentity>,
}

impl LinkedinIdentities {
    pub fn is_paused(&self, member: &LinkedinMemberId) -> bool {
        self.paused.iter().any(|p| p.member_id == *member)
    }

    /// Every member id, syncing or paused: the identities the user's cap counts.
    pub fn member_ids(&self) -> Vec<LinkedinMemberId> {
        let syncing = self.syncing.iter().map(|r| r.member_id.clone());
        let paused = self.paused.iter().map(|p| p.member_id.clone());
        syncing.chain(paused).collect()
    }
}
