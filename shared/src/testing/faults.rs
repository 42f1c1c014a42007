//! Ports that fail on purpose: each wraps a port and asks one shared [`FaultPlan`] before
//! every call, so that a test can make the Nth outside call of a flow fail, whichever port it
//! goes to. A call either goes through, is refused (nothing done, an error), is lost (done,
//! then an error: the answer of a write that took effect, or an email sent, never arrived), or
//! hangs (done, but so slowly that the function's time runs out: it ends there).

use crate::domain::checkpoint::CheckpointCode;
use crate::domain::cookies::{CookieDigest, LinkedinCookies};
use crate::domain::custom_login::LoginTarget;
use crate::domain::events::{EventId, EventSubject, How, LifecycleEvent, Outbox, RecordedFact};
use crate::domain::feed::{FeedBounds, FeedEntry, FeedPosition, FeedScope};
use crate::domain::login_attempt::{LoginAttempt, LoginSlot};
use crate::domain::notification::OutgoingEmail;
use crate::domain::reconnect::ReconnectAttempt;
use crate::domain::transitions::StatusPlan;
use crate::domain::{
    Account, AccountId, AccountStatus, CookieRecord, LinkedinIdentities, LinkedinMemberId,
    LinkedinProfileId, Outage, PendingAction, Provider, UserId,
};
use crate::ports::{
    AccountPage, AccountStore, Cipher, CipherError, Completion, ConnectedAccount,
    CookieAuthOutcome, CookieLogin, CookieResult, CookieUpdate, CustomLogin, DeliveryError,
    DeliveryQueue, Disconnection, EventFeed, EventPublisher, HostedLinkRequest, InventoryPage,
    LoginAttempts, LoginOutcome, MailError, Mailer, OutboxKey, PublishError, QueueError,
    ReconnectStep, ReportRecord, RestartOutcome, RetryScheduler, SchedulerError, SealedCookies,
    SettleBasis, Settled, StateUse, StatusRecord, StoreError, StoredAccountPage, Unipile,
    UnipileAccount, UnipileError, UserProfile, WebhookEndpoint,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use url::Url;

/// What happens to the armed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answered with an error; nothing was done.
    Refused,
    /// Done, but its answer was lost: the caller sees an error (a timeout).
    Lost,
    /// Done, but so slow that the invocation reached its timeout while waiting: Lambda ends
    /// the function right there, nothing after the call runs, and whoever invoked it sees a
    /// timeout. The call never returns: only a runner that asks [`FaultPlan::take_hung`]
    /// while it polls the flow (the fault matrix's `invoke`) may arm it, or the test waits
    /// for ever.
    Hung,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail(Fault),
}

#[derive(Debug, Default)]
struct PlanState {
    calls: Vec<&'static str>,
    armed: Option<(usize, Fault)>,
    fired: Option<&'static str>,
    hung: bool,
}

/// Counts every outside call the wrapped ports make and fails the armed one.
#[derive(Debug, Default)]
pub struct FaultPlan(Mutex<PlanState>);

impl FaultPlan {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The call with index `n` (from 0, counted from now on) fails with `fault`.
    pub fn arm(&self, n: usize, fault: Fault) {
        let mut state = self.lock();
        let at = state.calls.len() + n;
        state.armed = Some((at, fault));
        state.fired = None;
    }

    /// Every call so far, by port and operation (`store.get_account`, `unipile.account`...).
    pub fn calls(&self) -> Vec<&'static str> {
        self.lock().calls.clone()
    }

    /// The call the armed fault hit, once it has.
    pub fn fired(&self) -> Option<&'static str> {
        self.lock().fired
    }

    /// Whether a call has hung since the last ask: the invocation that made it is over.
    pub fn take_hung(&self) -> bool {
        std::mem::take(&mut self.lock().hung)
    }

    fn hang(&self) {
        self.lock().hung = true;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PlanState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn call(&self, name: &'static str) -> Verdict {
        let mut state = self.lock();
        let index = state.calls.len();
        state.calls.push(name);
        match state.armed {
            Some((at, fault)) if at == index => {
                state.fired = Some(name);
                Verdict::Fail(fault)
            }
            _ => Verdict::Pass,
        }
    }
}

/// The error a port answers with when its call fails on purpose.
pub trait Injected {
    fn injected(fault: Fault) -> Self;
}

impl Injected for StoreError {
    fn injected(fault: Fault) -> Self {
        StoreError::Unavailable(format!("injected: {fault:?}"))
    }
}

impl Injected for UnipileError {
    fn injected(fault: Fault) -> Self {
        match fault {
            Fault::Refused => UnipileError::Api {
                status: 503,
                error_type: crate::ports::UnipileErrorType::from("errors/service_unavailable"),
                title: "injected".into(),
                detail: None,
            },
            Fault::Lost | Fault::Hung => {
                UnipileError::Transport("injected: the answer was lost".into())
            }
        }
    }
}

impl Injected for MailError {
    fn injected(fault: Fault) -> Self {
        match fault {
            Fault::Refused => MailError::Unavailable("injected".into()),
            // What the SES adapter answers when it cannot tell whether SES sent it.
            Fault::Lost | Fault::Hung => {
                MailError::Uncertain("injected: the answer was lost".into())
            }
        }
    }
}

impl Injected for SchedulerError {
    fn injected(fault: Fault) -> Self {
        SchedulerError(format!("injected: {fault:?}"))
    }
}

impl Injected for PublishError {
    fn injected(fault: Fault) -> Self {
        PublishError::Unavailable(format!("injected: {fault:?}"))
    }
}

impl Injected for DeliveryError {
    fn injected(fault: Fault) -> Self {
        match fault {
            Fault::Refused => DeliveryError::Status(503),
            // The endpoint took it; its answer never came back within the timeout.
            Fault::Lost | Fault::Hung => DeliveryError::Timeout,
        }
    }
}

impl Injected for QueueError {
    fn injected(fault: Fault) -> Self {
        QueueError(format!("injected: {fault:?}"))
    }
}

impl Injected for CipherError {
    fn injected(fault: Fault) -> Self {
        CipherError::Unavailable(format!("injected: {fault:?}"))
    }
}

/// A port `P` whose calls ask `plan` first.
pub struct Faulty<P: ?Sized> {
    pub inner: Arc<P>,
    pub plan: Arc<FaultPlan>,
}

impl<P: ?Sized> Faulty<P> {
    pub fn new(inner: Arc<P>, plan: Arc<FaultPlan>) -> Self {
        Self { inner, plan }
    }
}

/// Implements `$port` for `Faulty<dyn $port>`: every listed method asks the plan, then
/// refuses, passes on, or passes on and loses the answer.
macro_rules! faulty {
    ($port:ident, $prefix:literal, $(
        fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> Result<$ok:ty, $err:ty>;
    )*) => {
        #[async_trait]
        impl $port for Faulty<dyn $port> {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> Result<$ok, $err> {
                    match self.plan.call(concat!($prefix, ".", stringify!($name))) {
                        Verdict::Pass => self.inner.$name($($arg),*).await,
                        Verdict::Fail(Fault::Refused) => Err(<$err>::injected(Fault::Refused)),
                        Verdict::Fail(Fault::Lost) => {
                            let _ = self.inner.$name($($arg),*).await;
                            Err(<$err>::injected(Fault::Lost))
                        }
                        Verdict::Fail(Fault::Hung) => {
                            let _ = self.inner.$name($($arg),*).await;
                            self.plan.hang();
                            std::future::pending().await
                        }
                    }
                }
            )*
        }
    };
}

/// The attempts' calls of a faulty store ask the same plan, as `store.<call>`.
#[async_trait]
impl LoginAttempts for Faulty<dyn AccountStore> {
    async fn login_slot(
        &self,
        user: &UserId,
        provider: &Provider,
    ) -> Result<Option<LoginSlot>, StoreError> {
        let call = || self.inner.login_slot(user, provider);
        self.through("store.login_slot", call).await
    }

    async fn put_login_slot(&self, slot: &LoginSlot) -> Result<bool, StoreError> {
        self.through("store.put_login_slot", || self.inner.put_login_slot(slot))
            .await
    }

    async fn put_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        let call = || self.inner.put_login_attempt(attempt);
        self.through("store.put_login_attempt", call).await
    }

    async fn login_attempt(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<LoginAttempt>, StoreError> {
        let call = || self.inner.login_attempt(account_id);
        self.through("store.login_attempt", call).await
    }
}

impl<P: ?Sized> Faulty<P> {
    /// One call through the plan, as [`faulty!`] makes them, for impls written by hand.
    async fn through<T, E: Injected, F: std::future::Future<Output = Result<T, E>>>(
        &self,
        name: &'static str,
        call: impl Fn() -> F,
    ) -> Result<T, E> {
        match self.plan.call(name) {
            Verdict::Pass => call().await,
            Verdict::Fail(Fault::Refused) => Err(E::injected(Fault::Refused)),
            Verdict::Fail(Fault::Lost) => {
                let _ = call().await;
                Err(E::injected(Fault::Lost))
            }
            Verdict::Fail(Fault::Hung) => {
                let _ = call().await;
                self.plan.hang();
                std::future::pending().await
            }
        }
    }
}

faulty! {
    AccountStore,
    "store",
    fn get_account(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError>;
    fn record_confirmed_connection(
        &self,
        connection: &ConnectedAccount,
        outage: &Outage,
        follow_up: Option<&PendingAction>,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError>;
    fn consume_state(&self, state: &StateUse) -> Result<bool, StoreError>;
    fn accounts_of(&self, user: &UserId) -> Result<Vec<Account>, StoreError>;
    fn disconnect(&self, seen: &Account, fact: &RecordedFact) -> Result<Disconnection, StoreError>;
    fn record_status(
        &self,
        account_id: &AccountId,
        plan: &StatusPlan,
        outage: &Outage,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<StatusRecord, StoreError>;
    fn record_report(
        &self,
        account_id: &AccountId,
        reported: &StatusPlan,
        action: &PendingAction,
        now: DateTime<Utc>,
    ) -> Result<ReportRecord, StoreError>;
    fn settle_confirmed(
        &self,
        account_id: &AccountId,
        basis: SettleBasis<'_>,
        settled: &Settled,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;
    fn owe_email(
        &self,
        account_id: &AccountId,
        claim: &str,
        owed: &PendingAction,
    ) -> Result<bool, StoreError>;
    fn claim_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        claim: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<PendingAction>, StoreError>;
    fn complete_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        completion: &Completion,
    ) -> Result<Option<Account>, StoreError>;
    fn abandon_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    fn mark_emailing(
        &self,
        account_id: &AccountId,
        claim: &str,
        outage: &str,
    ) -> Result<bool, StoreError>;
    fn due_follow_ups(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AccountId>, StoreError>;
    fn advance_reconnect(
        &self,
        account_id: &AccountId,
        expected_attempt: u32,
        step: &ReconnectStep,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    fn save_cookie(
        &self,
        update: &CookieUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<CookieRecord>, StoreError>;
    fn touch_cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    fn pause_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    fn resume_identity(&self, user: &UserId, member: &LinkedinMemberId)
    -> Result<bool, StoreError>;
    fn delete_cookies(&self, user: &UserId) -> Result<usize, StoreError>;
    fn cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<Option<CookieRecord>, StoreError>;
    fn claim_connect_attempt(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    fn record_cookie_result(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        result: &CookieResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    fn release_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    fn save_profile(&self, profile: &UserProfile) -> Result<(), StoreError>;
    fn profile_of(&self, user: &UserId) -> Result<Option<UserProfile>, StoreError>;
    fn identities_of(&self, user: &UserId) -> Result<LinkedinIdentities, StoreError>;
    fn claim_linkedin_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        known: &[LinkedinMemberId],
        cap: u32,
    ) -> Result<bool, StoreError>;
    fn tie_linkedin_identity(
        &self,
        account_id: &AccountId,
        owner: &UserId,
        member: &LinkedinMemberId,
        profile: Option<&LinkedinProfileId>,
    ) -> Result<bool, StoreError>;
    fn mark_connect_started(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    fn inventory_page(&self, cursor: Option<&str>) -> Result<InventoryPage, StoreError>;
    fn accounts_in_status(
        &self,
        status: &AccountStatus,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<StoredAccountPage, StoreError>;
    fn waiting_outboxes(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxKey>, StoreError>;
    fn outbox(&self, key: &OutboxKey) -> Result<Option<(EventSubject, Outbox)>, StoreError>;
    fn clear_outbox(&self, key: &OutboxKey, published: &Outbox) -> Result<bool, StoreError>;
}

faulty! {
    EventPublisher,
    "events",
    fn publish(&self, events: &[LifecycleEvent]) -> Result<(), PublishError>;
}

faulty! {
    EventFeed,
    "feed",
    fn append(&self, entries: &[FeedEntry]) -> Result<(), StoreError>;
    fn first_positions(
        &self,
        ids: &[EventId],
    ) -> Result<std::collections::HashMap<EventId, FeedPosition>, StoreError>;
    fn page(
        &self,
        scope: &FeedScope,
        bounds: &FeedBounds,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError>;
}

faulty! {
    WebhookEndpoint,
    "webhook",
    fn post(&self, headers: &[(&'static str, String)], body: &str) -> Result<(), DeliveryError>;
}

faulty! {
    DeliveryQueue,
    "queue",
    fn postpone(&self, receipt: &str, delay: std::time::Duration) -> Result<(), QueueError>;
}

faulty! {
    Unipile,
    "unipile",
    fn create_hosted_link(&self, request: &HostedLinkRequest) -> Result<Url, UnipileError>;
    fn account(&self, account_id: &AccountId) -> Result<UnipileAccount, UnipileError>;
    fn list_accounts(&self, cursor: Option<&str>, limit: u32) -> Result<AccountPage, UnipileError>;
    fn delete_account(&self, account_id: &AccountId) -> Result<(), UnipileError>;
    fn restart_account(&self, account_id: &AccountId) -> Result<RestartOutcome, UnipileError>;
    fn connect_linkedin(&self, login: &CookieLogin) -> Result<CookieAuthOutcome, UnipileError>;
    fn solve_checkpoint(
        &self,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<CookieAuthOutcome, UnipileError>;
    fn reconnect_linkedin(
        &self,
        account_id: &AccountId,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError>;
    fn start_login(&self, target: &LoginTarget, login: &CustomLogin) -> Result<LoginOutcome, UnipileError>;
    fn solve_login_checkpoint(
        &self,
        provider: &Provider,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<LoginOutcome, UnipileError>;
    fn resend_login_checkpoint(&self, provider: &Provider, account_id: &AccountId) -> Result<(), UnipileError>;
}

faulty! {
    Mailer,
    "mail",
    fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}

faulty! {
    RetryScheduler,
    "scheduler",
    fn schedule(&self, attempt: &ReconnectAttempt, at: DateTime<Utc>)
    -> Result<(), SchedulerError>;
    fn cancel(
        &self,
        account_id: &AccountId,
        outage: Option<&str>,
        from_attempt: u32,
    ) -> Result<(), SchedulerError>;
}

faulty! {
    Cipher,
    "kms",
    fn seal_cookies(
        &self,
        cookies: &LinkedinCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SealedCookies, CipherError>;
    fn open_cookies(
        &self,
        sealed: &SealedCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<LinkedinCookies, CipherError>;
    fn digest(&self, material: &[u8]) -> Result<Option<CookieDigest>, CipherError>;
}
