//! The outside world as the domain sees it. Each port has an AWS or HTTP adapter and an
//! in-memory one (`adapters::memory`) so the same flows run in Lambda, locally and in tests.

use crate::domain::notification::OutgoingEmail;
use crate::domain::transitions::StatusPlan;
use crate::domain::{
    Account, AccountId, AccountStatus, Email, LinkKind, PendingAction, Provider, UserId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use url::Url;

pub use crate::adapters::unipile::error::{UnipileError, UnipileErrorType};

/// A connection Unipile confirmed, ready to be recorded for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub account_type: Provider,
    pub status: AccountStatus,
    /// The name Unipile shows for the account (the person or mailbox), when it gives one.
    pub display_name: Option<String>,
}

/// Where we write to a user about their accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub user_id: UserId,
    pub email: Email,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the account belongs to another user")]
    OwnedByAnotherUser,
    #[error("the account store is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored item could not be read: {0}")]
    Corrupt(String),
}

/// What recording a reported status did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRecord {
    /// No such account here (another application may share the Unipile tenant).
    UnknownAccount,
    /// Written; `account` is the account as it now is.
    Changed {
        previous: AccountStatus,
        account: Account,
    },
    /// Not written (same status, or DELETED and not revived); the account as stored.
    Unchanged(Account),
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn get_account(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError>;

    /// Upserts the account for its owner in one write: `created_on` is kept when the account
    /// exists already, `last_update` becomes `now`. Refuses (and writes nothing) when the
    /// account is stored for another user.
    async fn record_connection(
        &self,
        connection: &ConnectedAccount,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError>;

    async fn accounts_of(&self, user: &UserId) -> Result<Vec<Account>, StoreError>;

    /// Removes the account if it is still `owner`'s; removing an absent account is not an error.
    async fn delete_account(
        &self,
        account_id: &AccountId,
        owner: &UserId,
    ) -> Result<(), StoreError>;

    /// Records a reported status in one conditional write: only when the stored status
    /// differs and, unless the plan revives it, is not DELETED. The pending action (if any)
    /// is written with it, replacing any earlier one.
    async fn record_status(
        &self,
        account_id: &AccountId,
        plan: &StatusPlan,
        pending: Option<&PendingAction>,
        now: DateTime<Utc>,
    ) -> Result<StatusRecord, StoreError>;

    /// Takes the pending action `pending_id` for this delivery until `until`, if nobody holds
    /// it. `false`: gone, replaced, or held by another delivery.
    async fn claim_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Removes the pending action, only if it is still `pending_id`; records the restart
    /// marker with it when given. `false` when it was no longer there.
    async fn complete_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        restart_attempted_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError>;

    /// Lets go of a claim after a failed attempt, so the next delivery need not wait.
    async fn release_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
    ) -> Result<(), StoreError>;

    async fn save_profile(&self, profile: &UserProfile) -> Result<(), StoreError>;

    async fn profile_of(&self, user: &UserId) -> Result<Option<UserProfile>, StoreError>;
}

/// What we ask Unipile for when a user wants to connect or reconnect an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedLinkRequest {
    pub kind: LinkKind,
    pub expires_on: DateTime<Utc>,
    /// Echoed back by Unipile in the notify_url call: our user id.
    pub name: UserId,
    pub notify_url: Url,
    pub success_redirect_url: Option<Url>,
    pub failure_redirect_url: Option<Url>,
}

/// An account as Unipile describes it (`GET /api/v1/accounts/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnipileAccount {
    pub account_id: AccountId,
    pub account_type: Provider,
    pub display_name: Option<String>,
    /// The status of each source (`sources[].status`); empty when Unipile sent none.
    pub source_statuses: Vec<AccountStatus>,
}

#[async_trait]
pub trait Unipile: Send + Sync {
    /// `POST /api/v1/hosted/accounts/link`: the hosted-auth URL to send the user to.
    async fn create_hosted_link(&self, request: &HostedLinkRequest) -> Result<Url, UnipileError>;

    /// `GET /api/v1/accounts/{id}`.
    async fn account(&self, account_id: &AccountId) -> Result<UnipileAccount, UnipileError>;

    /// `DELETE /api/v1/accounts/{id}`; an account Unipile no longer has is a success.
    async fn delete_account(&self, account_id: &AccountId) -> Result<(), UnipileError>;

    /// `POST /api/v1/accounts/{id}/restart`, for a STOPPED or ERROR account.
    async fn restart_account(&self, account_id: &AccountId)
    -> Result<RestartOutcome, UnipileError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The mail service refused this message (unverified sender, bad address): retrying the
    /// same message will not help until someone fixes the cause.
    #[error("the email was rejected: {0}")]
    Rejected(String),
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}

/// The answer to `POST /api/v1/accounts/{id}/restart`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartOutcome {
    Restarted,
    FailedToRestart,
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}
