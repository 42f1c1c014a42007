//! The LinkedIn identities a user's extension syncs, as the user sees and controls them:
//! `GET /extension/identities`, `PUT /extension/identities/{member_id}` (pause, or turn syncing
//! back on) and `DELETE /extension/cookies` (every stored cookie, now).

use super::FlowError;
use crate::domain::checkpoint::WaitingCheckpoint;
use crate::domain::{
    AccountId, AccountStatus, CookieRecord, LinkedinMemberId, PausedIdentity, UserId,
};
use crate::ports::AccountStore;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// One identity in the API's words. No cookie, ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityView {
    pub linkedin_member_id: LinkedinMemberId,
    pub paused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<String>,
    /// The account the extension's cookie is tied to, and its status as the table knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointView>,
    /// When the extension last sent this identity's cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    /// When the stored cookie is deleted if the extension stays silent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_expires_at: Option<String>,
}

/// A verification waiting for the user, as the extension shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointView {
    #[serde(rename = "type")]
    pub kind: String,
    /// `false` for an approval in the LinkedIn app: nothing to type, the extension asks again.
    pub takes_code: bool,
    pub expires_at: String,
}

/// The API's timestamps: UTC, milliseconds, `Z`, as the accounts list writes them.
fn api_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<&WaitingCheckpoint> for CheckpointView {
    fn from(waiting: &WaitingCheckpoint) -> Self {
        Self {
            kind: waiting.kind.to_string(),
            takes_code: waiting.kind.takes_code(),
            expires_at: api_time(waiting.expires_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityList {
    pub identities: Vec<IdentityView>,
}

pub async fn list_identities(
    store: &dyn AccountStore,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<IdentityList, FlowError> {
    let identities = store.identities_of(user).await?;
    let accounts = if identities
        .syncing
        .iter()
        .any(|r| r.unipile_account_id.is_some())
    {
        store.accounts_of(user).await?
    } else {
        Vec::new()
    };
    let status_of = |id: &AccountId| {
        accounts
            .iter()
            .find(|a| a.account_id == *id)
            .map(|a| a.status.clone())
    };
    let mut views: Vec<_> = identities
        .syncing
        .iter()
        .map(|record| syncing_view(record, status_of, now))
        .chain(identities.paused.iter().map(paused_view))
        .collect();
    views.sort_by(|a, b| a.linkedin_member_id.cmp(&b.linkedin_member_id));
    Ok(IdentityList { identities: views })
}

fn syncing_view(
    record: &CookieRecord,
    status_of: impl Fn(&AccountId) -> Option<AccountStatus>,
    now: DateTime<Utc>,
) -> IdentityView {
    IdentityView {
        linkedin_member_id: record.member_id.clone(),
        paused: false,
        paused_at: None,
        account_id: record.unipile_account_id.clone(),
        status: record
            .unipile_account_id
            .as_ref()
            .and_then(status_of)
            .or_else(|| record.unipile_status.clone()),
        checkpoint: record
            .waiting_checkpoint()
            .filter(|w| !w.is_expired(now))
            .map(|w| CheckpointView::from(&w)),
        last_sync: Some(api_time(record.date_last_cookie)),
        cookie_expires_at: record.expires_at.map(api_time),
    }
}

fn paused_view(paused: &PausedIdentity) -> IdentityView {
    IdentityView {
        paused: true,
        paused_at: Some(api_time(paused.paused_at)),
        ..awaiting_sync(&paused.member_id)
    }
}

/// Pauses an identity (its cookie is deleted with it) or turns its syncing back on. Only an
/// identity the user's extension synced: another member id is not theirs to pause.
pub async fn set_paused(
    store: &dyn AccountStore,
    user: &UserId,
    member: &LinkedinMemberId,
    paused: bool,
    now: DateTime<Utc>,
) -> Result<IdentityView, FlowError> {
    let identities = store.identities_of(user).await?;
    if !identities.member_ids().contains(member) {
        return Err(FlowError::NotFound(format!(
            "the extension never synced LinkedIn member {member} for this user"
        )));
    }
    if paused {
        store.pause_identity(user, member, now).await?;
        tracing::info!(user_id = %user, linkedin_member_id = %member, "identity paused by its user: cookie deleted");
    } else if store.resume_identity(user, member).await? {
        tracing::info!(user_id = %user, linkedin_member_id = %member, "identity resumed by its user");
    }
    let list = list_identities(store, user, now).await?;
    // Resumed: no item until the extension's next sync.
    Ok(list
        .identities
        .into_iter()
        .find(|view| view.linkedin_member_id == *member)
        .unwrap_or_else(|| awaiting_sync(member)))
}

fn awaiting_sync(member: &LinkedinMemberId) -> IdentityView {
    IdentityView {
        linkedin_member_id: member.clone(),
        paused: false,
        paused_at: None,
        account_id: None,
        status: None,
        checkpoint: None,
        last_sync: None,
        cookie_expires_at: None,
    }
}

/// Deletes every cookie stored for the user, now; pauses stay.
pub async fn delete_cookies(store: &dyn AccountStore, user: &UserId) -> Result<usize, FlowError> {
    let deleted = store.delete_cookies(user).await?;
    tracing::info!(user_id = %user, deleted, "every stored cookie of the user deleted at their request");
    Ok(deleted)
}
