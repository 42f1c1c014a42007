//! The outside world as the domain sees it. Each port has an AWS or HTTP adapter and an
//! in-memory one (`adapters::memory`) so the same flows run in Lambda, locally and in tests.

use crate::domain::{Account, AccountId, AccountStatus, Email, LinkKind, Provider, UserId};
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
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}
