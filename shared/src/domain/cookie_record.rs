use super::cookies::Sealed;
use super::{AccountId, AccountStatus, Country, LinkedinMemberId, UserId};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// The newest cookie the extension sent for one (user, LinkedIn member), encrypted, and what
/// became of it at Unipile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieRecord {
    pub user_id: UserId,
    pub member_id: LinkedinMemberId,
    pub unipile_account_id: Option<AccountId>,
    pub unipile_status: Option<AccountStatus>,
    pub date_last_cookie: DateTime<Utc>,
    pub date_last_status_unipile: Option<DateTime<Utc>>,
    pub li_at: Sealed,
    pub li_a: Option<Sealed>,
    pub user_agent: String,
    pub ip: Option<IpAddr>,
    pub country: Option<Country>,
    pub date_last_try_connect: Option<DateTime<Utc>>,
    /// The checkpoint Unipile asked for on the last connect, if any (`2FA`, `OTP`, ...).
    pub checkpoint: Option<String>,
    /// Why the last connect or reconnect failed, in Unipile's words (its error `type`).
    pub last_error: Option<String>,
    /// A connect (`POST /api/v1/accounts`) was sent at this time and its outcome is not
    /// known yet: Unipile may have created an account we never heard of. Set before the call,
    /// cleared by the write that records the answer; while it stands, a sync looks for that
    /// account instead of creating another.
    pub connect_started_at: Option<DateTime<Utc>>,
}
