use super::{AccountId, AccountStatus, Provider, UserId};
use chrono::{DateTime, Utc};

/// A Unipile account connected by one of our users, as we keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub account_type: Provider,
    pub status: AccountStatus,
    pub last_update: DateTime<Utc>,
    pub created_on: DateTime<Utc>,
}

impl Account {
    pub fn is_owned_by(&self, user: &UserId) -> bool {
        &self.user_id == user
    }

    /// Newest first, the order the landing page shows; ties broken by id so the order is stable.
    pub fn sort_newest_first(accounts: &mut [Account]) {
        accounts.sort_by(|a, b| {
            b.created_on
                .cmp(&a.created_on)
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
    }
}
