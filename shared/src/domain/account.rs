use super::reconnect::ReconnectState;
use super::transitions::StatusPlan;
use super::{AccountId, AccountStatus, LinkedinMemberId, PendingAction, Provider, UserId};
use chrono::{DateTime, Utc};

/// A Unipile account connected by one of our users, as we keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub account_type: Provider,
    /// The person or mailbox behind the account, as Unipile names it.
    pub display_name: Option<String>,
    pub status: AccountStatus,
    pub last_update: DateTime<Utc>,
    pub created_on: DateTime<Utc>,
    /// Follow-up work recorded with the last status change and not yet done.
    pub pending: Option<PendingAction>,
    /// When the one automatic restart of the current outage was made.
    pub restart_attempted_at: Option<DateTime<Utc>>,
    /// The LinkedIn member whose extension cookies connected it, if they did.
    pub linkedin_member_id: Option<LinkedinMemberId>,
    /// The cookie reconnect in progress, if any.
    pub cookie_reconnect: Option<ReconnectState>,
}

impl Account {
    pub fn is_owned_by(&self, user: &UserId) -> bool {
        &self.user_id == user
    }

    /// The account after a reported status is recorded: the same change the store's
    /// conditional write makes, so adapters and tests agree on it.
    pub fn with_status(
        mut self,
        plan: &StatusPlan,
        pending: Option<PendingAction>,
        now: DateTime<Utc>,
    ) -> Self {
        self.status = plan.stored.clone();
        self.last_update = now;
        self.pending = pending;
        if plan.healthy {
            self.restart_attempted_at = None;
            self.cookie_reconnect = None;
        }
        self
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
