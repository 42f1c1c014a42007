//! The store as every function holds it: each write that records a fact for the team's
//! backend is followed by the publication of its account's outbox, so a change is heard at
//! once; a publication that fails leaves the facts for the sweeper
//! ([`super::events::sweep`]). Every other call goes to the store as it is.
//!
//! Wrapping the store, rather than calling the publisher from each flow, keeps the flows as
//! they were and makes "a write's facts are published after it" hold for every caller, the
//! operator commands included.

use super::events::relay;
use crate::domain::events::{EventSubject, How, Outbox, RecordedFact};
use crate::domain::login_attempt::{LoginAttempt, LoginSlot};
use crate::domain::transitions::StatusPlan;
use crate::domain::{
    Account, AccountId, AccountStatus, CookieRecord, LinkedinIdentities, LinkedinMemberId,
    LinkedinProfileId, Outage, PendingAction, Provider, UserId,
};
use crate::ports::{
    AccountStore, Completion, ConnectedAccount, CookieResult, CookieUpdate, Disconnection,
    EventPublisher, InventoryPage, LoginAttempts, OutboxKey, ReconnectStep, ReportRecord,
    SettleBasis, Settled, StateUse, StatusRecord, StoreError, StoredAccountPage, UserProfile,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// An [`AccountStore`] that publishes the facts its writes record.
pub struct PublishingStore {
    inner: Arc<dyn AccountStore>,
    publisher: Arc<dyn EventPublisher>,
}

impl PublishingStore {
    pub fn new(inner: Arc<dyn AccountStore>, publisher: Arc<dyn EventPublisher>) -> Self {
        Self { inner, publisher }
    }

    /// Publishes what waits in the outbox the write left; a failure is the sweeper's to mend.
    async fn publish(&self, key: &OutboxKey, subject: &EventSubject, outbox: &Outbox) {
        if outbox.waiting.is_empty() {
            return;
        }
        let published = relay(
            self.inner.as_ref(),
            self.publisher.as_ref(),
            key,
            subject,
            outbox,
        )
        .await;
        if let Err(error) = published {
            crate::metrics::count("EventsDelayed");
            tracing::warn!(account_id = %key.account_id, %error, "events recorded but not published: the sweeper publishes them");
        }
    }

    async fn publish_account(&self, account: &Account) {
        self.publish(
            &OutboxKey::account(&account.account_id),
            &account.subject(),
            &account.outbox,
        )
        .await;
    }

    /// After a write that answers no account: read its outbox back (only writes that recorded
    /// a fact, which are rare: an outage's email, a reconnect's end).
    async fn publish_read(&self, account_id: &AccountId) {
        let key = OutboxKey::account(account_id);
        match self.inner.outbox(&key).await {
            Ok(Some((subject, outbox))) => self.publish(&key, &subject, &outbox).await,
            Ok(None) => {}
            Err(error) => {
                crate::metrics::count("EventsDelayed");
                tracing::warn!(account_id = %account_id, %error, "events recorded but their outbox could not be read: the sweeper publishes them");
            }
        }
    }
}

/// Attempts record no fact: every call goes to the inner store as it is.
#[async_trait]
impl LoginAttempts for PublishingStore {
    async fn login_slot(
        &self,
        user: &UserId,
        provider: &Provider,
    ) -> Result<Option<LoginSlot>, StoreError> {
        self.inner.login_slot(user, provider).await
    }

    async fn put_login_slot(&self, slot: &LoginSlot) -> Result<bool, StoreError> {
        self.inner.put_login_slot(slot).await
    }

    async fn put_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        self.inner.put_login_attempt(attempt).await
    }

    async fn login_attempt(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<LoginAttempt>, StoreError> {
        self.inner.login_attempt(account_id).await
    }
}

/// Implements [`AccountStore`] for [`PublishingStore`]: `$overrides` as written, every listed
/// method passed to the inner store as it is. One macro makes the whole impl, so that
/// `async_trait` sees every method.
macro_rules! publishing_store {
    ({ $($overrides:tt)* } $(
        fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> Result<$ok:ty, $err:ty>;
    )*) => {
        #[async_trait]
        impl AccountStore for PublishingStore {
            $($overrides)*
            $(
                async fn $name(&self $(, $arg: $ty)*) -> Result<$ok, $err> {
                    self.inner.$name($($arg),*).await
                }
            )*
        }
    };
}

publishing_store! {
    {
        async fn record_confirmed_connection(
            &self,
            connection: &ConnectedAccount,
            outage: &Outage,
            follow_up: Option<&PendingAction>,
            how: How,
            now: DateTime<Utc>,
        ) -> Result<Account, StoreError> {
            let account = self
                .inner
                .record_confirmed_connection(connection, outage, follow_up, how, now)
                .await?;
            self.publish_account(&account).await;
            Ok(account)
        }

        async fn record_status(
            &self,
            account_id: &AccountId,
            plan: &StatusPlan,
            outage: &Outage,
            how: How,
            now: DateTime<Utc>,
        ) -> Result<StatusRecord, StoreError> {
            let record = self.inner.record_status(account_id, plan, outage, how, now).await?;
            if let StatusRecord::Changed { account, .. } = &record {
                self.publish_account(account).await;
            }
            Ok(record)
        }

        async fn settle_confirmed(
            &self,
            account_id: &AccountId,
            basis: SettleBasis<'_>,
            settled: &Settled,
            now: DateTime<Utc>,
        ) -> Result<Option<Account>, StoreError> {
            let written = self.inner.settle_confirmed(account_id, basis, settled, now).await?;
            // A write that marked an email "sending" is followed at once by the email: nothing
            // may come between (a function ended there loses the email). Its completion, which
            // records what was done, publishes both facts.
            if let Some(account) = written.as_ref().filter(|_| settled.mark.is_none()) {
                self.publish_account(account).await;
            }
            Ok(written)
        }

        async fn complete_pending(
            &self,
            account_id: &AccountId,
            claim: &str,
            completion: &Completion,
        ) -> Result<Option<Account>, StoreError> {
            let completed = self.inner.complete_pending(account_id, claim, completion).await?;
            if let Some(account) = &completed {
                self.publish_account(account).await;
            }
            Ok(completed)
        }

        async fn advance_reconnect(
            &self,
            account_id: &AccountId,
            expected_attempt: u32,
            step: &ReconnectStep,
            now: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            let advanced = self
                .inner
                .advance_reconnect(account_id, expected_attempt, step, now)
                .await?;
            let recorded = matches!(step, ReconnectStep::Finished { fact: Some(_), .. });
            if advanced && recorded {
                self.publish_read(account_id).await;
            }
            Ok(advanced)
        }

        async fn disconnect(
            &self,
            seen: &Account,
            fact: &RecordedFact,
        ) -> Result<Disconnection, StoreError> {
            let done = self.inner.disconnect(seen, fact).await?;
            if let Disconnection::Done(key, outbox) = &done {
                self.publish(key, &seen.subject(), outbox).await;
            }
            Ok(done)
        }
    }
    fn get_account(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError>;
    fn consume_state(&self, state: &StateUse) -> Result<bool, StoreError>;
    fn accounts_of(&self, user: &UserId) -> Result<Vec<Account>, StoreError>;
    fn record_report(&self, account_id: &AccountId, reported: &StatusPlan, action: &PendingAction, now: DateTime<Utc>,) -> Result<ReportRecord, StoreError>;
    fn owe_email(&self, account_id: &AccountId, claim: &str, owed: &PendingAction,) -> Result<bool, StoreError>;
    fn claim_pending(&self, account_id: &AccountId, pending_id: &str, claim: &str, now: DateTime<Utc>, until: DateTime<Utc>,) -> Result<Option<PendingAction>, StoreError>;
    fn abandon_pending(&self, account_id: &AccountId, pending_id: &str, now: DateTime<Utc>,) -> Result<bool, StoreError>;
    fn mark_emailing(&self, account_id: &AccountId, claim: &str, outage: &str,) -> Result<bool, StoreError>;
    fn due_follow_ups(&self, now: DateTime<Utc>, limit: usize,) -> Result<Vec<AccountId>, StoreError>;
    fn save_cookie(&self, update: &CookieUpdate, now: DateTime<Utc>,) -> Result<Option<CookieRecord>, StoreError>;
    fn touch_cookie(&self, user: &UserId, member: &LinkedinMemberId, now: DateTime<Utc>, expires_at: DateTime<Utc>,) -> Result<bool, StoreError>;
    fn pause_identity(&self, user: &UserId, member: &LinkedinMemberId, now: DateTime<Utc>,) -> Result<(), StoreError>;
    fn resume_identity(&self, user: &UserId, member: &LinkedinMemberId) -> Result<bool, StoreError>; fn delete_cookies(&self, user: &UserId) -> Result<usize, StoreError>;
    fn cookie(&self, user: &UserId, member: &LinkedinMemberId,) -> Result<Option<CookieRecord>, StoreError>;
    fn claim_connect_attempt(&self, user: &UserId, member: &LinkedinMemberId, now: DateTime<Utc>, not_after: DateTime<Utc>,) -> Result<bool, StoreError>;
    fn record_cookie_result(&self, user: &UserId, member: &LinkedinMemberId, result: &CookieResult, now: DateTime<Utc>,) -> Result<(), StoreError>;
    fn release_pending(&self, account_id: &AccountId, claim: &str, due: DateTime<Utc>,) -> Result<(), StoreError>;
    fn save_profile(&self, profile: &UserProfile) -> Result<(), StoreError>;
    fn profile_of(&self, user: &UserId) -> Result<Option<UserProfile>, StoreError>;
    fn identities_of(&self, user: &UserId) -> Result<LinkedinIdentities, StoreError>;
    fn claim_linkedin_identity(&self, user: &UserId, member: &LinkedinMemberId, known: &[LinkedinMemberId], cap: u32,) -> Result<bool, StoreError>;
    fn tie_linkedin_identity(&self, account_id: &AccountId, owner: &UserId, member: &LinkedinMemberId, profile: Option<&LinkedinProfileId>,) -> Result<bool, StoreError>;
    fn mark_connect_started(&self, user: &UserId, member: &LinkedinMemberId, at: DateTime<Utc>,) -> Result<(), StoreError>;
    fn inventory_page(&self, cursor: Option<&str>) -> Result<InventoryPage, StoreError>;
    fn accounts_in_status(&self, status: &AccountStatus, cursor: Option<&str>, limit: usize,) -> Result<StoredAccountPage, StoreError>;
    fn waiting_outboxes(&self, before: DateTime<Utc>, limit: usize,) -> Result<Vec<OutboxKey>, StoreError>;
    fn outbox(&self, key: &OutboxKey) -> Result<Option<(EventSubject, Outbox)>, StoreError>;
    fn clear_outbox(&self, key: &OutboxKey, published: &Outbox) -> Result<bool, StoreError>;
}
