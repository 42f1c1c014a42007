//! The outside world as the domain sees it. Each port has an AWS or HTTP adapter and an
//! in-memory one (`adapters::memory`) so the same flows run in Lambda, locally and in tests.

use crate::domain::checkpoint::CheckpointCode;
use crate::domain::cookies::{CookieDigest, LinkedinCookies, Sealed};
use crate::domain::custom_login::{LoginHints, LoginMethod, LoginTarget};
use crate::domain::events::{EventId, EventSubject, How, LifecycleEvent, Outbox, RecordedFact};
use crate::domain::feed::{FeedBounds, FeedEntry, FeedPosition, FeedScope};
use crate::domain::login_attempt::{LoginAttempt, LoginCheckpoint, LoginSlot};
use crate::domain::notification::OutgoingEmail;
use crate::domain::reconnect::{ReconnectAttempt, ReconnectState};
use crate::domain::transitions::StatusPlan;
use crate::domain::webhook::{RegisteredWebhook, WebhookRegistration};
use crate::domain::{
    Account, AccountId, AccountStatus, CookieRecord, Country, Email, LinkKind, LinkNonce,
    LinkedinIdentities, LinkedinMemberId, LinkedinProfileId, Outage, PendingAction, Provider,
    UserId, WebhookId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::net::IpAddr;
use url::Url;

pub use crate::domain::unipile_error::{UnipileError, UnipileErrorType};

/// A connection Unipile confirmed, ready to be recorded for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub account_type: Provider,
    pub status: AccountStatus,
    /// The name Unipile shows for the account (the person or mailbox), when it gives one.
    pub display_name: Option<String>,
    /// The LinkedIn member whose cookies connected it, for accounts the extension connected.
    pub linkedin_member_id: Option<LinkedinMemberId>,
    /// The LinkedIn member's profile id, as Unipile or the extension named it.
    pub linkedin_profile_id: Option<LinkedinProfileId>,
}

/// The one use of a hosted-auth link's state token: the account its callback recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateUse {
    pub nonce: LinkNonce,
    pub account_id: AccountId,
    pub user_id: UserId,
    /// When the record may go (the table's TTL): the token is refused after its own expiry
    /// anyway, and the record is kept [`STATE_KEPT_AFTER_EXPIRY`] longer so that the
    /// reconciliation can still tell whose the account is if recording it failed.
    pub expires_at: DateTime<Utc>,
}

/// How long a spent state token's record outlives the token: long enough for hourly
/// reconciliations to attribute the account through a day of outages.
pub const STATE_KEPT_AFTER_EXPIRY: chrono::Duration = chrono::Duration::days(7);

/// What completing a follow-up leaves on the account besides clearing it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// The one restart of this outage was made.
    pub restart_attempted_at: Option<DateTime<Utc>>,
    /// A cookie reconnect starts.
    pub reconnect: Option<ReconnectState>,
    /// The marked email was accepted by the mail service at this time.
    pub email_sent_at: Option<DateTime<Utc>>,
    /// The mail service did not say whether it sent the marked email (asked at this time).
    pub email_uncertain_at: Option<DateTime<Utc>>,
    /// A fact for the team's backend that doing the follow-up established (the account needs
    /// its user, and what was done about it), recorded in the same write.
    pub fact: Option<RecordedFact>,
}

/// How a cookie reconnect moves on from the attempt it expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconnectStep {
    /// The next attempt is scheduled.
    Next(u32),
    /// The reconnect is over: the account is OK again (`reconnected`), and/or a follow-up is
    /// owed (the "please reconnect" email).
    Finished {
        reconnected: bool,
        pending: Option<PendingAction>,
        /// The fact the end is (the account back to health, or every attempt failed),
        /// recorded in the same write.
        fact: Option<Box<RecordedFact>>,
    },
}

/// The newest cookie from the extension, sealed, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieUpdate {
    pub user_id: UserId,
    pub member_id: LinkedinMemberId,
    pub li_at: Sealed,
    pub li_a: Option<Sealed>,
    pub user_agent: String,
    pub ip: Option<IpAddr>,
    pub country: Option<Country>,
    /// When the record expires if the extension falls silent (the table's TTL).
    pub expires_at: DateTime<Utc>,
    pub digest: Option<CookieDigest>,
    /// The member's profile id, when the extension sent it (kept when it sends none).
    pub profile_id: Option<LinkedinProfileId>,
}

/// What Unipile made of a cookie connect or reconnect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieResult {
    pub unipile_account_id: Option<AccountId>,
    pub unipile_status: Option<AccountStatus>,
    pub checkpoint: Option<String>,
    /// Until when `checkpoint` can be solved; written and removed with it.
    pub checkpoint_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The outcome of the connect in flight is known (an answer, or a refusal that created
    /// nothing): its marker ([`CookieRecord::connect_started_at`]) goes in the same write.
    pub connect_settled: bool,
}

/// A cookie record as the reconciliation sees it: whose it is, the account it names, and a
/// connect whose outcome is unknown. No cookie in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieClaim {
    pub user_id: UserId,
    pub member_id: LinkedinMemberId,
    /// The member's profile id, when the extension sent one.
    pub profile_id: Option<LinkedinProfileId>,
    pub account_id: Option<AccountId>,
    pub connect_started_at: Option<DateTime<Utc>>,
}

/// Everything in the table that ties a Unipile account to a user, read in one pass: the
/// recorded accounts, the cookie records and the spent state tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub accounts: Vec<Account>,
    pub cookie_claims: Vec<CookieClaim>,
    pub spent_states: Vec<StateUse>,
    /// Custom-auth attempts that got an account id.
    pub login_attempts: Vec<LoginAttempt>,
    /// Items that could not be read (logged by the store); the run goes on without them.
    pub unreadable: usize,
}

/// One page of [`AccountStore::inventory_page`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryPage {
    pub items: Inventory,
    /// Where the next page starts; `None` on the last.
    pub next: Option<String>,
}

/// One page of [`AccountStore::accounts_in_status`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredAccountPage {
    pub accounts: Vec<Account>,
    /// Where the next page starts, opaque to the caller; `None` on the last.
    pub next: Option<String>,
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
    /// A page cursor this store never gave (the caller's mistake, not the table's).
    #[error("the cursor is not valid: {0}")]
    BadCursor(String),
}

/// What recording a status did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRecord {
    /// No such account here (another application may share the Unipile tenant).
    UnknownAccount,
    /// Written; `account` is the account as it now is.
    Changed {
        previous: AccountStatus,
        /// A cookie reconnect the change ended (the account is healthy again or gone).
        ended_reconnect: Option<EndedReconnect>,
        account: Account,
    },
    /// Not written (same status, or DELETED and not revived); the account as stored.
    Unchanged(Account),
}

impl StatusRecord {
    /// What recording `plan` does to the account as it was: the same for every store.
    pub fn changed(
        before: Account,
        plan: &StatusPlan,
        outage: &Outage,
        now: DateTime<Utc>,
    ) -> Self {
        let previous = before.status.clone();
        let ended_reconnect =
            (before.cookie_reconnect.is_some() && plan.ends_outage()).then(|| EndedReconnect {
                outage: before.outage_id().map(str::to_owned),
            });
        let account = before.with_status(plan, outage, now);
        Self::Changed {
            previous,
            ended_reconnect,
            account,
        }
    }
}

/// A cookie reconnect that ended with its outage: the schedules of `outage` left are to be
/// deleted (`None`: a reconnect started before outages were kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedReconnect {
    pub outage: Option<String>,
}

/// What recording a webhook delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportRecord {
    /// No such account here (another application may share the Unipile tenant).
    UnknownAccount,
    /// The delivery's follow-up (confirm with Unipile) is recorded, held by the caller.
    Recorded(Account),
    /// Nothing written: the stored status is the delivery's already, the account is DELETED
    /// and the delivery is no new connection, or earlier work is still recorded. The account
    /// as stored.
    NotRecorded(Account),
}

/// What is written once Unipile confirmed the account's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The status to record, with its effects on the outage (see [`Account::with_status`]).
    pub status: Option<StatusPlan>,
    /// The outage opened when the account has none and the status does not end one.
    pub outage: Outage,
    /// The follow-up left to do, held by the writer: the one it held, moved on, or a new one
    /// it records and does at once. `None` removes any. A status that ends the outage ends
    /// it too.
    pub then: Option<PendingAction>,
    /// With `then` an email: "sending" recorded for this outage as `then`'s claim in the same
    /// write, refused (nothing written) when an email of it was started by another claim.
    pub mark: Option<String>,
    /// With `status`, the fact of the change (how it came about), recorded in the same write.
    pub fact: Option<RecordedFact>,
}

/// What a disconnection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disconnection {
    /// The account is gone; its waiting facts, the disconnection last, are kept under
    /// `key` until published.
    Done(OutboxKey, Outbox),
    /// The account changed since it was read: nothing written (read it again).
    Changed,
    /// No such account (disconnected already).
    Absent,
}

/// Where an outbox is kept: on the account item, or, once the account is disconnected, on an
/// item of its own until its facts are published.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutboxKey {
    pub account_id: AccountId,
    pub disconnected: bool,
}

impl OutboxKey {
    pub fn account(account_id: &AccountId) -> Self {
        Self {
            account_id: account_id.clone(),
            disconnected: false,
        }
    }
}

/// What a confirmed status is written against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleBasis<'a> {
    /// The account as a delivery read it, with no follow-up recorded: written only if it is
    /// still so (the same status and outage, no follow-up).
    AsSeen(&'a Account),
    /// The follow-up this claim holds: written only while it does.
    Holding(&'a str),
}

/// The store of accounts and everything tied to them. Custom-auth attempts are a port of
/// their own ([`LoginAttempts`]) that every store also is: the status webhook and the
/// reconciliation find an attempt's user through the store they hold.
#[async_trait]
pub trait AccountStore: LoginAttempts + Send + Sync {
    async fn get_account(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError>;

    /// Upserts the account for its owner in one write: `created_on` is kept when the account
    /// exists already, `last_update` becomes `now`. Refuses (and writes nothing) when the
    /// account is stored for another user. A healthy `connection.status` ends any outage; any
    /// other keeps the outage's state (pending work, restart marker, cookie reconnect) and
    /// opens `outage` if none is open.
    ///
    /// The connection is recorded as a fact (`how` it came about) in the same write; it is an
    /// event only when it created the account or changed its status.
    async fn record_connection(
        &self,
        connection: &ConnectedAccount,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let outage = Outage::begin(now).map_err(StoreError::Unavailable)?;
        self.record_confirmed_connection(connection, &outage, None, how, now)
            .await
    }

    /// [`Self::record_connection`] with the outage to open and a follow-up (`follow_up`,
    /// replacing any recorded one) when the status calls for one.
    async fn record_confirmed_connection(
        &self,
        connection: &ConnectedAccount,
        outage: &Outage,
        follow_up: Option<&PendingAction>,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError>;

    /// Spends a link's state token on one account, in one conditional write that expires
    /// with the token. `true` when the nonce was unused, or already spent on this same account
    /// (Unipile retrying its delivery, or our retry after a failed recording); `false`, writing
    /// nothing, when it was spent on another account (a replayed notify URL).
    async fn consume_state(&self, state: &StateUse) -> Result<bool, StoreError>;

    async fn accounts_of(&self, user: &UserId) -> Result<Vec<Account>, StoreError>;

    /// Removes the account as the caller read it (`seen`), still its owner's and unchanged
    /// since (its outbox recorded nothing new), recording `fact` (the disconnection) in the
    /// same write: its waiting facts move to an item of their own until published.
    async fn disconnect(
        &self,
        seen: &Account,
        fact: &RecordedFact,
    ) -> Result<Disconnection, StoreError>;

    /// Records a status Unipile confirmed, in one conditional write: only when the stored
    /// status differs and, unless the plan revives it, is not DELETED. Healthy or gone ends the
    /// outage and everything of it (pending work included); any other status opens `outage`
    /// if none is open.
    ///
    /// The change is recorded as a fact (`how` it came about) in the same write.
    async fn record_status(
        &self,
        account_id: &AccountId,
        plan: &StatusPlan,
        outage: &Outage,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<StatusRecord, StoreError>;

    /// Records a webhook delivery as a follow-up to confirm (`action`, held by the caller), in
    /// one conditional write: only when the stored status differs from the delivery's
    /// (`reported.stored`), the account is not DELETED unless the delivery revives it, and no
    /// live follow-up is recorded (an abandoned one is replaced). The status itself is not
    /// written: a follow-up records what Unipile confirms.
    async fn record_report(
        &self,
        account_id: &AccountId,
        reported: &StatusPlan,
        action: &PendingAction,
        now: DateTime<Utc>,
    ) -> Result<ReportRecord, StoreError>;

    /// Records what Unipile confirmed (`settled`), in one conditional write against `basis`:
    /// the status and its outage, the follow-up left to do (held by the writer), and the
    /// email's "sending" mark when asked. `None`, writing nothing, when the basis no longer
    /// holds (the account changed, or the claim was taken over) or the mark is another
    /// claim's; else the account as now stored.
    async fn settle_confirmed(
        &self,
        account_id: &AccountId,
        basis: SettleBasis<'_>,
        settled: &Settled,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;

    /// An email whose "sending" mark `claim` recorded was not sent: the mark is taken back and
    /// the email owed as `owed`, in one write, if the mark is still `claim`'s (an outage that
    /// ended took it). `owed` replaces any follow-up a delivery recorded meanwhile: it
    /// confirms the status with Unipile as that one would have. `false`: it was not.
    async fn owe_email(
        &self,
        account_id: &AccountId,
        claim: &str,
        owed: &PendingAction,
    ) -> Result<bool, StoreError>;

    /// Takes the pending action `pending_id` with the claim id `claim` until `until`, if
    /// nobody holds it and it is not abandoned, counting the attempt. `None`: gone, replaced,
    /// abandoned or held by another caller; else the action as now held.
    async fn claim_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        claim: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<PendingAction>, StoreError>;

    /// Removes the pending action, only while `claim` holds it, and records what doing it
    /// left (`completion`) in the same write. The account as now stored; `None` when the claim
    /// no longer held it.
    async fn complete_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        completion: &Completion,
    ) -> Result<Option<Account>, StoreError>;

    /// Gives a follow-up up after too many attempts, if nobody holds it: it stays on the item
    /// marked abandoned, and is no longer swept. `false` when it was not there to give up.
    async fn abandon_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records that the email of `outage` is being sent, only while `claim` holds the
    /// follow-up, the outage is the account's, and no email of it was started. `false`: one
    /// was (or the claim or outage moved on): do not send.
    async fn mark_emailing(
        &self,
        account_id: &AccountId,
        claim: &str,
        outage: &str,
    ) -> Result<bool, StoreError>;

    /// The accounts whose follow-up is due at `now` (never claimed, or its lease or back-off
    /// over), at most `limit`, soonest first.
    async fn due_follow_ups(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AccountId>, StoreError>;

    /// Moves a cookie reconnect on, only if it still expects `expected_attempt` (so a repeated
    /// or late attempt changes nothing). `false` when it did not.
    async fn advance_reconnect(
        &self,
        account_id: &AccountId,
        expected_attempt: u32,
        step: &ReconnectStep,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores the newest cookie for (user, member), creating the record if needed; the
    /// Unipile side of the record is kept. `None`, writing nothing: the identity is paused
    /// (decided by the same write, so a pause is never undone by a sync in flight).
    async fn save_cookie(
        &self,
        update: &CookieUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<CookieRecord>, StoreError>;

    /// The extension sent again the cookie the record holds: only its dates move on (no
    /// ciphertext is written). `false`, writing nothing: there is no record, or it is paused.
    async fn touch_cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Pauses (user, member): its cookie record, cookies and all, gives way to a pause marker
    /// in one write. Pausing a paused identity changes nothing.
    async fn pause_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Ends a pause: the next sync stores and connects again. `false`: it was not paused.
    async fn resume_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<bool, StoreError>;

    /// Deletes every cookie record of `user` (pauses stay: they hold no cookie). The number
    /// deleted.
    async fn delete_cookies(&self, user: &UserId) -> Result<usize, StoreError>;

    async fn cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<Option<CookieRecord>, StoreError>;

    /// Takes the right to try a connect now: only if the last try is strictly older than
    /// `not_after` (the throttle), so parallel syncs do not both call Unipile.
    async fn claim_connect_attempt(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records a login's outcome on the cookie record (nothing when there is none, or the
    /// identity is paused). Naming an account another user holds is refused
    /// ([`StoreError::OwnedByAnotherUser`]), writing nothing, in the same write.
    async fn record_cookie_result(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        result: &CookieResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Lets go of a claim after a failed attempt, only while `claim` holds it: the follow-up
    /// is due again at `due` (a back-off), or at once for whoever comes first.
    async fn release_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    async fn save_profile(&self, profile: &UserProfile) -> Result<(), StoreError>;

    async fn profile_of(&self, user: &UserId) -> Result<Option<UserProfile>, StoreError>;

    /// Every LinkedIn identity of `user` the extension synced: cookie records and pauses, in
    /// one read.
    async fn identities_of(&self, user: &UserId) -> Result<LinkedinIdentities, StoreError>;

    /// Counts `member` among the user's LinkedIn identities, in one conditional write: only
    /// while they have fewer than `cap`, or when it is one already. `known` (the identities
    /// the user's cookie records show) seeds the list the first time. `false`, writing
    /// nothing: the user is at the cap. Parallel syncs of new identities cannot both pass.
    async fn claim_linkedin_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        known: &[LinkedinMemberId],
        cap: u32,
    ) -> Result<bool, StoreError>;

    /// Ties a LinkedIn identity (the extension's member, and its profile id when known) to an
    /// account `owner` holds, in one conditional write that changes nothing else (status,
    /// outage and follow-ups stay as they are). `false`, writing nothing: the account is gone
    /// or another user's.
    async fn tie_linkedin_identity(
        &self,
        account_id: &AccountId,
        owner: &UserId,
        member: &LinkedinMemberId,
        profile: Option<&LinkedinProfileId>,
    ) -> Result<bool, StoreError>;

    /// Marks a connect as sent at `at`, before it is sent (see
    /// [`CookieRecord::connect_started_at`]).
    async fn mark_connect_started(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// One page of the table's accounts and claims on accounts, for the reconciliation, from
    /// `cursor` (`None`: the first page). The reconciliation reads the table page by page and
    /// keeps only what concerns Unipile's list (a full read: see the adapter for its cost).
    async fn inventory_page(&self, cursor: Option<&str>) -> Result<InventoryPage, StoreError>;

    /// At most `limit` accounts in `status`, from `cursor` (a previous page's `next`; `None`:
    /// the first page), in the store's own order. A page may hold fewer, and still have a
    /// next one.
    async fn accounts_in_status(
        &self,
        status: &AccountStatus,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<StoredAccountPage, StoreError>;

    /// The outboxes holding a fact recorded before `before` (left by a writer that could not
    /// publish it), at most `limit`, oldest first.
    async fn waiting_outboxes(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxKey>, StoreError>;

    /// The outbox at `key`, with whose account it is; `None` when there is none.
    async fn outbox(&self, key: &OutboxKey) -> Result<Option<(EventSubject, Outbox)>, StoreError>;

    /// Removes the facts of `published` (the outbox as read, all of its waiting facts now
    /// published) from the outbox, if they still are its first. `false`, writing nothing:
    /// another publisher removed them.
    async fn clear_outbox(&self, key: &OutboxKey, published: &Outbox) -> Result<bool, StoreError>;
}

/// Where lifecycle events go: the EventBridge bus (and, with it, the team's webhook and the
/// event feed).
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes `events`, in order. `Ok`: each was accepted; an error: some may not have
    /// been, and the caller publishes them all again later (consumers drop repeated ids).
    async fn publish(&self, events: &[LifecycleEvent]) -> Result<(), PublishError>;
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the event bus is unavailable: {0}")]
    Unavailable(String),
    #[error("{failed} of {total} events were refused: {reason}")]
    Refused {
        failed: usize,
        total: usize,
        reason: String,
    },
}

/// The feed of published events the team's backend catches up from (`GET /service/events`).
/// Kept apart from [`AccountStore`]: only publishing writes it and only that route reads it.
#[async_trait]
pub trait EventFeed: Send + Sync {
    /// Writes each entry at its position, in the whole feed and in its account's, and records
    /// its position as its event's first unless the event has one already (a repeated
    /// publication adds an entry, and keeps the first position).
    async fn append(&self, entries: &[FeedEntry]) -> Result<(), StoreError>;

    /// The first position of each of `ids` the feed holds; an id never written (or whose
    /// record expired) is left out.
    async fn first_positions(
        &self,
        ids: &[EventId],
    ) -> Result<std::collections::HashMap<EventId, FeedPosition>, StoreError>;

    /// The first position of `id`, if the feed holds one.
    async fn position_of(&self, id: &EventId) -> Result<Option<FeedPosition>, StoreError> {
        Ok(self
            .first_positions(std::slice::from_ref(id))
            .await?
            .remove(id))
    }

    /// At most `limit` entries of `scope` whose positions lie within `bounds`, in order.
    async fn page(
        &self,
        scope: &FeedScope,
        bounds: &FeedBounds,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError>;
}

/// The team's endpoint for signed event webhooks (`EVENTS_WEBHOOK_URL`).
#[async_trait]
pub trait WebhookEndpoint: Send + Sync {
    /// One try: POSTs `body` (JSON) with `headers`, waiting at most
    /// [`crate::domain::event_webhook::DELIVERY_TIMEOUT`]. `Ok` only for a 2xx answer.
    async fn post(
        &self,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<(), DeliveryError>;
}

/// Why a try failed. The words never quote the endpoint's URL (it may carry a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("the endpoint answered {0}")]
    Status(u16),
    #[error("the endpoint did not answer within 10 s")]
    Timeout,
    #[error("the endpoint could not be reached: {0}")]
    Unreachable(String),
}

/// The queue the webhook deliveries wait in: a failed try is held back there for its
/// back-off before the next.
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Keeps the message taken with `receipt` hidden for `delay` from now.
    async fn postpone(&self, receipt: &str, delay: std::time::Duration) -> Result<(), QueueError>;
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
    /// A LinkedIn account's member, as `connection_params.im.id` names it (`ACoAA…`); `None`
    /// when Unipile shows none (the contract does not confirm it for this use).
    pub linkedin_profile_id: Option<LinkedinProfileId>,
    pub display_name: Option<String>,
    /// The status of each source (`sources[].status`); empty when Unipile sent none.
    pub source_statuses: Vec<AccountStatus>,
    /// `created_at`, when Unipile sent one we could read.
    pub created_at: Option<DateTime<Utc>>,
}

impl UnipileAccount {
    /// The account's status as one value: OK when every source is (or none is listed), else
    /// the first source that is not.
    pub fn status(&self) -> AccountStatus {
        self.source_statuses
            .iter()
            .find(|s| **s != AccountStatus::Ok)
            .cloned()
            .unwrap_or(AccountStatus::Ok)
    }
}

/// One page of `GET /api/v1/accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPage {
    pub accounts: Vec<UnipileAccount>,
    /// The next page's cursor; `None` on the last page.
    pub cursor: Option<String>,
}

/// Most accounts one `GET /api/v1/accounts` page may hold (contract §1).
pub const MAX_ACCOUNT_PAGE: u32 = 250;

#[async_trait]
pub trait Unipile: Send + Sync {
    /// `POST /api/v1/hosted/accounts/link`: the hosted-auth URL to send the user to.
    async fn create_hosted_link(&self, request: &HostedLinkRequest) -> Result<Url, UnipileError>;

    /// `GET /api/v1/accounts/{id}`.
    async fn account(&self, account_id: &AccountId) -> Result<UnipileAccount, UnipileError>;

    /// `GET /api/v1/accounts?limit=&cursor=`: one page (`limit` at most [`MAX_ACCOUNT_PAGE`]).
    async fn list_accounts(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AccountPage, UnipileError>;

    /// `DELETE /api/v1/accounts/{id}`; an account Unipile no longer has is a success.
    async fn delete_account(&self, account_id: &AccountId) -> Result<(), UnipileError>;

    /// `POST /api/v1/accounts/{id}/restart`, for a STOPPED or ERROR account.
    async fn restart_account(&self, account_id: &AccountId)
    -> Result<RestartOutcome, UnipileError>;

    /// `POST /api/v1/accounts` with LinkedIn cookies: a new account. Never retried blindly: a
    /// second try could create a second account.
    async fn connect_linkedin(
        &self,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError>;

    /// Answers the checkpoint a cookie login stopped at (`POST /api/v1/accounts/checkpoint`,
    /// contract §4c): the login goes on to an account, or to another checkpoint.
    async fn solve_checkpoint(
        &self,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<CookieAuthOutcome, UnipileError>;

    /// `POST /api/v1/accounts/{id}` with LinkedIn cookies: the same account, reconnected.
    async fn reconnect_linkedin(
        &self,
        account_id: &AccountId,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError>;

    /// Custom authentication (custom-auth contract §1): `POST /api/v1/accounts` for a new
    /// account, `POST /api/v1/accounts/{id}` to reconnect one, with what the provider needs.
    /// Sent once, like a cookie login: a second try could make a second account.
    async fn start_login(
        &self,
        target: &LoginTarget,
        login: &CustomLogin,
    ) -> Result<LoginOutcome, UnipileError>;

    /// `POST /api/v1/accounts/checkpoint` for a custom-auth login of `provider`.
    async fn solve_login_checkpoint(
        &self,
        provider: &Provider,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<LoginOutcome, UnipileError>;

    /// `POST /api/v1/accounts/checkpoint/resend`: the provider sends the code again.
    async fn resend_login_checkpoint(
        &self,
        provider: &Provider,
        account_id: &AccountId,
    ) -> Result<(), UnipileError>;
}

/// A custom-auth login as Unipile's body takes it.
#[derive(Debug, Clone)]
pub struct CustomLogin {
    pub provider: Provider,
    pub method: LoginMethod,
    pub hints: LoginHints,
}

/// What Unipile made of a custom-auth login or its checkpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// `AccountCreated` / `AccountReconnected`.
    Connected(AccountId),
    /// `Checkpoint`: the login waits for the user.
    Checkpoint {
        account_id: AccountId,
        checkpoint: LoginCheckpoint,
    },
}

/// Custom-auth attempts: the per-user, per-provider slot that admits starts, and each
/// attempt Unipile gave an account id, keyed by it.
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    async fn login_slot(
        &self,
        user: &UserId,
        provider: &Provider,
    ) -> Result<Option<LoginSlot>, StoreError>;

    /// Writes `slot` if the stored one is still at `slot.version` (absent counts as 0), with
    /// the version moved on; `false` when another write came first.
    async fn put_login_slot(&self, slot: &LoginSlot) -> Result<bool, StoreError>;

    /// Records the attempt, or rewrites it; [`StoreError::OwnedByAnotherUser`] when the
    /// account id is another user's attempt.
    async fn put_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError>;

    async fn login_attempt(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<LoginAttempt>, StoreError>;
}

/// What deleting a webhook found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookDeletion {
    Deleted,
    /// Unipile had no such webhook (404): deleted earlier, or by hand.
    AlreadyGone,
}

/// Unipile's webhook registrations (contract §5a), apart from [`Unipile`] because only
/// `webhook-setup` registers webhooks.
#[async_trait]
pub trait WebhookRegistry: Send + Sync {
    /// `GET /api/v1/webhooks`, every page.
    async fn list_webhooks(&self) -> Result<Vec<RegisteredWebhook>, UnipileError>;

    /// `POST /api/v1/webhooks`. Sent once, never retried blindly: a repeat could register a
    /// second webhook, and every status would then arrive twice.
    async fn create_webhook(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookId, UnipileError>;

    /// `DELETE /api/v1/webhooks/{id}`; a webhook Unipile no longer has is
    /// [`WebhookDeletion::AlreadyGone`], not an error.
    async fn delete_webhook(&self, id: &WebhookId) -> Result<WebhookDeletion, UnipileError>;
}

/// The status webhook's secret as its store holds it now: during a rotation, the new one and
/// the one Unipile may still send.
#[derive(Debug, Clone, Default)]
pub struct WebhookSecrets {
    pub current: Option<SecretString>,
    pub previous: Option<SecretString>,
}

/// Where the status webhook's secret is kept, read again when a delivery's header matches
/// none the function knows (the secret was rotated since it started).
#[async_trait]
pub trait WebhookSecretSource: Send + Sync {
    async fn webhook_secrets(&self) -> Result<WebhookSecrets, String>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The mail service refused this message (unverified sender, bad address): retrying the
    /// same message will not help until someone fixes the cause.
    #[error("the email was rejected: {0}")]
    Rejected(String),
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
    /// No answer (a timeout after the message went out): it may have been sent. Never retried,
    /// so that no one gets it twice.
    #[error("the mail service did not say whether it sent the email: {0}")]
    Uncertain(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}

/// How long Unipile may take over a LinkedIn cookie login (it drives a real browser session):
/// a login is only started with this much time left, so it is never cut off half-way.
pub const COOKIE_LOGIN_TIME: std::time::Duration = std::time::Duration::from_secs(25);

/// A user's address as an identity directory holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEmail {
    pub address: Email,
    /// The directory vouches that the user proved they receive mail there.
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the user directory is unavailable: {0}")]
pub struct DirectoryError(pub String);

/// Where a user's email can be looked up by their user id, for tokens that carry none (a
/// Cognito access token): the fallback when no email was recorded from the token.
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// `Ok(None)`: no such user, or no email for them.
    async fn email_of(&self, user: &UserId) -> Result<Option<DirectoryEmail>, DirectoryError>;
}

/// How to log in to LinkedIn with the extension's cookies (contract §4a).
#[derive(Debug, Clone)]
pub struct CookieLogin {
    pub cookies: LinkedinCookies,
    pub user_agent: String,
    pub country: Option<Country>,
    pub ip: Option<IpAddr>,
}

/// Unipile's answer to a cookie connect or reconnect, dispatched on `object` (contract §4c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieAuthOutcome {
    /// `AccountCreated` or `AccountReconnected`.
    Connected(AccountId),
    /// LinkedIn wants the user (2FA, OTP, captcha...).
    Checkpoint {
        account_id: Option<AccountId>,
        checkpoint_type: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the key service is unavailable: {0}")]
    Unavailable(String),
    /// The ciphertext does not open with this key and context (tampered, or another record's).
    #[error("the ciphertext could not be opened: {0}")]
    Rejected(String),
}

/// The cookies of one record, sealed together (in AWS: under one data key, so one KMS call
/// seals them and one opens them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCookies {
    pub li_at: Sealed,
    pub li_a: Option<Sealed>,
}

/// Seals the cookies of one (user, LinkedIn member): a ciphertext moved to another record does
/// not open.
#[async_trait]
pub trait Cipher: Send + Sync {
    async fn seal_cookies(
        &self,
        cookies: &LinkedinCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SealedCookies, CipherError>;

    async fn open_cookies(
        &self,
        sealed: &SealedCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<LinkedinCookies, CipherError>;

    /// The keyed digest of a sync's [`CookieSync::digest_material`]; `None` when this
    /// deployment has no digest key (every sync is then sealed and stored).
    ///
    /// [`CookieSync::digest_material`]: crate::domain::cookies::CookieSync::digest_material
    async fn digest(&self, material: &[u8]) -> Result<Option<CookieDigest>, CipherError>;

    /// One sealed value opened on its own (tests, and records' single cookies).
    async fn open(
        &self,
        sealed: &Sealed,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SecretString, CipherError> {
        let one = SealedCookies {
            li_at: sealed.clone(),
            li_a: None,
        };
        Ok(self.open_cookies(&one, user, member).await?.li_at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the scheduler is unavailable: {0}")]
pub struct SchedulerError(pub String);

/// One-time schedules that invoke `reconnect-retry` with a [`ReconnectAttempt`].
#[async_trait]
pub trait RetryScheduler: Send + Sync {
    /// Creates the schedule for `attempt` at `at`; creating one that exists is a success.
    async fn schedule(
        &self,
        attempt: &ReconnectAttempt,
        at: DateTime<Utc>,
    ) -> Result<(), SchedulerError>;

    /// Deletes the account's schedules of `outage` for attempts `from_attempt` and later;
    /// missing ones are fine.
    async fn cancel(
        &self,
        account_id: &AccountId,
        outage: Option<&str>,
        from_attempt: u32,
    ) -> Result<(), SchedulerError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the dead-letter queue is unavailable: {0}")]
pub struct QueueError(pub String);

/// A message taken from the dead-letter queue: hidden from other readers until it is deleted
/// or released (or its hold runs out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: String,
    /// What deletes or releases this take of the message.
    pub receipt: String,
    pub body: String,
    /// How many times it was taken, this take included.
    pub receive_count: u32,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A dead-letter queue: where failed reconnect attempts wait (`reconnect-retry`'s OnFailure
/// destination and the schedules' dead-letter queue), and the event webhooks that failed
/// every try.
#[async_trait]
pub trait DeadLetterQueue: Send + Sync {
    /// Takes up to 10 waiting messages, hidden from other readers for `hold`.
    async fn take(&self, hold: std::time::Duration) -> Result<Vec<QueuedMessage>, QueueError>;
    async fn delete(&self, message: &QueuedMessage) -> Result<(), QueueError>;
    /// Puts a taken message back at once.
    async fn release(&self, message: &QueuedMessage) -> Result<(), QueueError>;
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
