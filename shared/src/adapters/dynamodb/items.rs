//! The items as stored, mapped with serde_dynamo, and their keys.

use crate::domain::cookies::{CookieDigest, Sealed};
use crate::domain::reconnect::ReconnectState;
use crate::domain::{
    Account, AccountId, AccountStatus, CookieRecord, Country, Email, LinkNonce, LinkedinMemberId,
    LinkedinProfileId, Outage, PausedIdentity, PendingAction, Provider, UserId,
};
use crate::ports::StoreError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

pub const GSI1: &str = "GSI1";
/// The sparse index of recorded follow-ups: an account item has `GSI2PK` = [`PENDING`] while it
/// holds a live follow-up, and `GSI2SK` = when that is due (epoch ms: its lease's or back-off's
/// end), so one Query (`GSI2SK <= now`) finds every follow-up to finish. Keys only: the sweeper
/// reads each account with a consistent GetItem anyway.
pub const GSI2: &str = "GSI2";
pub(super) const PENDING: &str = "PENDING";
/// The sparse index of outboxes holding facts: `GSI3PK` = [`OUTBOX`] while an item holds a
/// waiting fact, `GSI3SK` = when the oldest was recorded (epoch ms). Keys only.
pub const GSI3: &str = "GSI3";
pub(super) const OUTBOX: &str = "OUTBOX";
/// A disconnected account's outbox (`ACCOUNT#<id>` / `GONE`), until published.
pub(super) const GONE_SK: &str = "GONE";
pub(super) const ACCOUNT_SK: &str = "ACCOUNT";
pub(super) const PROFILE_SK: &str = "PROFILE";
pub(super) const STATE_SK: &str = "STATE";
/// The item listing a user's counted LinkedIn identities (`USER#<user>` / `IDENTITIES`).
pub(super) const IDENTITIES_SK: &str = "IDENTITIES";
pub(super) const COOKIE_SK_PREFIX: &str = "LINKEDIN#";
/// The table's TTL attribute (epoch seconds, as DynamoDB's TTL requires); only items that
/// should vanish on their own carry it.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// An item's key: its partition and sort values.
pub(super) fn table_key(
    pk: String,
    sk: String,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    std::collections::HashMap::from([
        ("PK".to_owned(), AttributeValue::S(pk)),
        ("SK".to_owned(), AttributeValue::S(sk)),
    ])
}

pub(super) fn account_pk(id: &AccountId) -> String {
    format!("ACCOUNT#{id}")
}

/// The account id in an account item's key.
pub(super) fn account_of_pk(pk: &str) -> Result<AccountId, StoreError> {
    pk.strip_prefix("ACCOUNT#")
        .and_then(|id| AccountId::parse(id).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{pk:?} is no account key")))
}

pub(super) fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub(super) fn state_pk(nonce: &LinkNonce) -> String {
    format!("STATE#{nonce}")
}

pub(super) fn cookie_sk(member: &LinkedinMemberId) -> String {
    format!("{COOKIE_SK_PREFIX}{member}")
}

/// The cookie record (DESIGN.md): ciphertexts as base64 text; the connect throttle's timestamp
/// as epoch milliseconds so that a condition can compare it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct CookieItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    pub(super) user_id: UserId,
    pub(super) member_id: LinkedinMemberId,
    #[serde(default)]
    pub(super) profile_id: Option<LinkedinProfileId>,
    #[serde(default)]
    pub(super) unipile_account_id: Option<AccountId>,
    #[serde(default)]
    pub(super) unipile_status: Option<AccountStatus>,
    /// Absent on a paused identity's item, like every attribute that came from a cookie.
    #[serde(default)]
    pub(super) date_last_cookie: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) date_last_status_unipile: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) li_at: Option<String>,
    #[serde(default)]
    pub(super) li_a: Option<String>,
    #[serde(default)]
    pub(super) cookie_digest: Option<CookieDigest>,
    #[serde(default)]
    pub(super) user_agent: Option<String>,
    #[serde(default)]
    pub(super) ip: Option<IpAddr>,
    #[serde(default)]
    pub(super) country: Option<Country>,
    #[serde(default, with = "chrono::serde::ts_milliseconds_option")]
    pub(super) date_last_try_connect: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) checkpoint: Option<String>,
    #[serde(default, with = "chrono::serde::ts_milliseconds_option")]
    pub(super) checkpoint_expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) last_error: Option<String>,
    /// Epoch milliseconds, like `date_last_try_connect`.
    #[serde(default, with = "chrono::serde::ts_milliseconds_option")]
    pub(super) connect_started_at: Option<DateTime<Utc>>,
    /// [`TTL_ATTRIBUTE`]: epoch seconds.
    #[serde(default, with = "chrono::serde::ts_seconds_option")]
    pub(super) expires_at: Option<DateTime<Utc>>,
    /// Set on a paused identity: the item then holds no cookie.
    #[serde(default, with = "chrono::serde::ts_milliseconds_option")]
    pub(super) paused_at: Option<DateTime<Utc>>,
}

/// A cookie record as the reconciliation reads it: without its ciphertexts.
#[derive(Debug, Deserialize)]
pub(super) struct CookieClaimItem {
    pub(super) user_id: UserId,
    pub(super) member_id: LinkedinMemberId,
    #[serde(default)]
    pub(super) profile_id: Option<LinkedinProfileId>,
    #[serde(default)]
    pub(super) unipile_account_id: Option<AccountId>,
    #[serde(default, with = "chrono::serde::ts_milliseconds_option")]
    pub(super) connect_started_at: Option<DateTime<Utc>>,
}

pub(super) fn unseal_text(text: &str) -> Result<Sealed, StoreError> {
    B64.decode(text)
        .map(Sealed)
        .map_err(|_| StoreError::Corrupt("a stored ciphertext is not base64".into()))
}

/// What one `LINKEDIN#<member>` item holds: a cookie record, or a paused identity.
pub(super) enum StoredIdentity {
    Syncing(Box<CookieRecord>),
    Paused(PausedIdentity),
}

impl StoredIdentity {
    pub(super) fn syncing(self) -> Option<CookieRecord> {
        match self {
            Self::Syncing(record) => Some(*record),
            Self::Paused(_) => None,
        }
    }
}

impl TryFrom<CookieItem> for StoredIdentity {
    type Error = StoreError;
    fn try_from(item: CookieItem) -> Result<Self, StoreError> {
        if let Some(paused_at) = item.paused_at {
            return Ok(Self::Paused(PausedIdentity {
                user_id: item.user_id,
                member_id: item.member_id,
                paused_at,
            }));
        }
        let missing = |what: &str| StoreError::Corrupt(format!("a cookie record has no {what}"));
        Ok(Self::Syncing(Box::new(CookieRecord {
            user_id: item.user_id,
            member_id: item.member_id,
            profile_id: item.profile_id,
            unipile_account_id: item.unipile_account_id,
            unipile_status: item.unipile_status,
            date_last_cookie: item
                .date_last_cookie
                .ok_or_else(|| missing("date_last_cookie"))?,
            date_last_status_unipile: item.date_last_status_unipile,
            li_at: unseal_text(item.li_at.as_deref().ok_or_else(|| missing("li_at"))?)?,
            li_a: item.li_a.as_deref().map(unseal_text).transpose()?,
            cookie_digest: item.cookie_digest,
            user_agent: item.user_agent.ok_or_else(|| missing("user_agent"))?,
            ip: item.ip,
            country: item.country,
            date_last_try_connect: item.date_last_try_connect,
            checkpoint: item.checkpoint,
            checkpoint_expires_at: item.checkpoint_expires_at,
            last_error: item.last_error,
            connect_started_at: item.connect_started_at,
            expires_at: item.expires_at,
        })))
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct AccountItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    #[serde(rename = "GSI1PK")]
    pub(super) gsi1pk: String,
    pub(super) account_id: AccountId,
    pub(super) user_id: UserId,
    pub(super) account_type: Provider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) display_name: Option<String>,
    pub(super) status: AccountStatus,
    pub(super) last_update: DateTime<Utc>,
    pub(super) created_on: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<PendingAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) restart_attempted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) linkedin_member_id: Option<LinkedinMemberId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) linkedin_profile_id: Option<LinkedinProfileId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) cookie_reconnect: Option<ReconnectState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) outage: Option<Outage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) emailed_outage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) emailed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) email_sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) email_uncertain_at: Option<DateTime<Utc>>,
}

impl From<AccountItem> for Account {
    fn from(item: AccountItem) -> Self {
        Self {
            account_id: item.account_id,
            user_id: item.user_id,
            account_type: item.account_type,
            display_name: item.display_name,
            status: item.status,
            last_update: item.last_update,
            created_on: item.created_on,
            pending: item.pending,
            restart_attempted_at: item.restart_attempted_at,
            linkedin_member_id: item.linkedin_member_id,
            linkedin_profile_id: item.linkedin_profile_id,
            cookie_reconnect: item.cookie_reconnect,
            outage: item.outage,
            emailed_outage: item.emailed_outage,
            emailed_by: item.emailed_by,
            email_sent_at: item.email_sent_at,
            email_uncertain_at: item.email_uncertain_at,
            // Read from the item by the store (see `outbox.rs`).
            outbox: Default::default(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ProfileItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    pub(super) user_id: UserId,
    pub(super) email: Email,
    pub(super) updated_at: DateTime<Utc>,
}

/// A spent state token: which account its link's callback recorded, until the token expires.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StateItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    pub(super) account_id: AccountId,
    pub(super) user_id: UserId,
    /// [`TTL_ATTRIBUTE`]: DynamoDB deletes the item some time after this.
    #[serde(with = "chrono::serde::ts_seconds")]
    pub(super) expires_at: DateTime<Utc>,
}
