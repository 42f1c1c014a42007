//! `POST /extension/cookies`: the extension's newest LinkedIn cookie for the signed-in user.
//! Stored encrypted; used at once to connect an account when there is none yet, or to
//! reconnect one that is waiting for its hourly attempts.
//!
//! No account is lost or made twice: a user syncs at most `max_linkedin_identities` LinkedIn
//! identities; before connecting, an account of the same identity already in the table is
//! reused; a connect is marked on the cookie record before it is sent and its answer (the new
//! account's id) is the first thing written after; and while a connect's outcome is unknown
//! (no answer), no other connect is sent until Unipile shows it created nothing.

use super::FlowError;
use super::cookie_login::{login_result, record_login_result};
use crate::domain::Caller;
use crate::domain::checkpoint::WaitingCheckpoint;
use crate::domain::cookies::{CookieDigest, CookieSync};
use crate::domain::events::How;
use crate::domain::transitions::{TransitionPolicy, plan};
use crate::domain::{
    AccountId, AccountStatus, CookieRecord, LinkedinIdentities, LinkedinMemberId, Outage, Provider,
    UserId,
};
use crate::ports::{
    AccountStore, COOKIE_LOGIN_TIME, Cipher, Clock, ConnectedAccount, CookieAuthOutcome,
    CookieLogin, CookieResult, CookieUpdate, MAX_ACCOUNT_PAGE, RetryScheduler, StoreError, Unipile,
    UnipileAccount, UnipileError, UserProfile,
};
use chrono::{DateTime, Duration, Utc};
use std::ops::RangeInclusive;

#[derive(Clone, Copy)]
pub struct CookieSyncPorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    pub scheduler: &'a dyn RetryScheduler,
    pub cipher: &'a dyn Cipher,
    pub clock: &'a dyn Clock,
}

#[derive(Debug, Clone)]
pub struct CookieSettings {
    /// At most one connect (or immediate reconnect) per cookie record in this time.
    pub connect_throttle: Duration,
    /// Most LinkedIn identities (member ids) one user's extension may sync: each may become a
    /// billed Unipile account.
    pub max_linkedin_identities: u32,
    /// A cookie record the extension has not refreshed for this long is deleted by the table
    /// (its TTL): cookies do not outlive their use.
    pub cookie_ttl: Duration,
}

/// `COOKIE_TTL_DAYS` when unset, and the values it may take (the template's parameter has the
/// same bounds).
pub const DEFAULT_COOKIE_TTL_DAYS: i64 = 30;

/// How long the same cookie, sent again, is answered from the record alone: the record's dates
/// (the extension's last sign of life, and the TTL) move on at most this often.
pub const COOKIE_HEARTBEAT: Duration = Duration::hours(1);
pub const COOKIE_TTL_DAYS_RANGE: RangeInclusive<i64> = 1..=365;

/// `MAX_LINKEDIN_IDENTITIES` when unset, and the values it may take (the template's
/// parameter has the same bounds).
pub const DEFAULT_MAX_LINKEDIN_IDENTITIES: u32 = 3;
pub const MAX_LINKEDIN_IDENTITIES_RANGE: RangeInclusive<u32> = 1..=20;

/// How far Unipile's clock (its `created_at`) may be from ours when looking for the account
/// a connect of unknown outcome may have created.
const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(120);

/// How long a connect of unknown outcome holds back new connects of its identity while an
/// account it may have created is unclaimed. After that, the hourly reconciliation has
/// reported that account for a day (an operator adopts or deletes it) and connecting again is
/// better than never.
const SETTLE_PATIENCE: Duration = Duration::hours(24);

/// Most pages of `GET /api/v1/accounts` a sync reads looking for that account.
const SETTLE_MAX_PAGES: usize = 20;

/// Writes of a connect's answer: tried this many times, since losing it loses the account.
const RESULT_WRITE_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A new Unipile account was connected with the cookie.
    Connected(AccountId),
    /// LinkedIn wants a verification before the account connects (or reconnects): solved
    /// through [`super::checkpoint::solve_checkpoint`].
    Checkpoint {
        account_id: Option<AccountId>,
        checkpoint: WaitingCheckpoint,
    },
    /// The user disconnected this identity's account: nothing was stored or connected.
    Paused,
    /// An account waiting for its reconnect was reconnected with this fresh cookie.
    Reconnected(AccountId),
    /// Stored; nothing else to do now.
    Stored,
    /// Stored; a connect was tried too recently to try again.
    Throttled,
    /// Stored and tied to the account of this LinkedIn identity the user already has.
    Linked(AccountId),
    /// Stored; an earlier connect's outcome is unknown and Unipile has an unclaimed LinkedIn
    /// account from that time: no new connect until that one is settled.
    Settling,
}

pub async fn sync_cookies(
    ports: CookieSyncPorts<'_>,
    settings: &CookieSettings,
    caller: &Caller,
    sync: CookieSync,
) -> Result<SyncOutcome, FlowError> {
    let f = ports;
    let now = f.clock.now();
    let (user, member) = (&caller.user_id, &sync.member_id);
    let identities = f.store.identities_of(user).await?;
    if identities.is_paused(member) {
        tracing::info!(user_id = %user, linkedin_member_id = %member, "sync of a paused identity: nothing stored");
        return Ok(SyncOutcome::Paused);
    }
    // Before anything is sealed or stored: a new identity beyond the cap stores nothing.
    admit_identity(f, settings, &identities, user, member).await?;
    let digest = f
        .cipher
        .digest(&sync.digest_material(user))
        .await
        .map_err(|e| FlowError::Internal(e.to_string()))?;
    let unchanged = identities
        .syncing
        .iter()
        .find(|r| r.member_id == *member)
        // An expired record holds no usable cookie, even before the table's TTL sweep
        // removes it: the sync seals and stores this one as new.
        .filter(|r| r.is_live(now) && digest.is_some() && r.cookie_digest == digest);
    let record = match unchanged {
        // The cookie the record holds, sent again within the heartbeat: nothing to seal or
        // store. With its account known and nothing in flight, nothing else to do either (an
        // unchanged cookie cannot mend an account it failed for; the hourly attempts read the
        // newest cookie): one read in all.
        Some(same) if now - same.date_last_cookie < COOKIE_HEARTBEAT => {
            if same.unipile_account_id.is_some()
                && same.connect_started_at.is_none()
                && same.checkpoint.is_none()
            {
                return Ok(SyncOutcome::Stored);
            }
            same.clone()
        }
        // Unchanged, but the record's dates are an hour old: they move on (the extension is
        // alive; the cookie's TTL restarts), without sealing anything.
        Some(same) => {
            let expires_at = now + settings.cookie_ttl;
            if f.store.touch_cookie(user, member, now, expires_at).await? {
                CookieRecord {
                    date_last_cookie: now,
                    expires_at: Some(expires_at),
                    ..same.clone()
                }
            } else {
                // Gone since the read (deleted, expired or paused): as a new cookie.
                match seal_and_store(f, settings, user, &sync, digest, now).await? {
                    Some(record) => record,
                    None => return Ok(SyncOutcome::Paused),
                }
            }
        }
        None => match seal_and_store(f, settings, user, &sync, digest, now).await? {
            Some(record) => record,
            // Paused since the read above (a disconnect in between): the write says so.
            None => return Ok(SyncOutcome::Paused),
        },
    };
    tracing::info!(user_id = %user, linkedin_member_id = %member, "extension cookie stored");
    // A login waiting at a checkpoint is the user's to finish: a new one would cancel it.
    let waiting = record.waiting_checkpoint().filter(|w| !w.is_expired(now));
    let still_waiting = |checkpoint: WaitingCheckpoint| SyncOutcome::Checkpoint {
        account_id: record.unipile_account_id.clone(),
        checkpoint,
    };

    let account = match &record.unipile_account_id {
        Some(id) => f.store.get_account(id).await?,
        None => None,
    };
    // An account Unipile deleted, or one that is not this user's, counts as none: the
    // identity connects anew (within the throttle) rather than answering "stored" for good.
    let gone = account
        .as_ref()
        .is_some_and(|a| a.status == AccountStatus::Deleted || !a.is_owned_by(user));
    if gone {
        tracing::info!(user_id = %user, linkedin_member_id = %member, account_id = ?record.unipile_account_id.as_ref().map(AccountId::as_str), "the record's account is deleted or not this user's: connecting anew");
    }
    let named = record.unipile_account_id.as_ref().filter(|_| !gone);
    let step = match (named, account) {
        (None, _) => match before_connect(f, settings, caller, &record, now).await? {
            Ok(step) => step,
            Err(outcome) => return Ok(outcome),
        },
        // The record names an account we do not store: a connect that stopped at a checkpoint,
        // or failed between its two writes. Unipile says what became of it.
        (Some(id), None) => match f.unipile.account(id).await {
            Ok(found)
                if found
                    .source_statuses
                    .iter()
                    .all(|s| *s == AccountStatus::Ok) =>
            {
                let connected = Ok(CookieAuthOutcome::Connected(id.clone()));
                record_login_result(f.store, &record, None, &connected, now).await?;
                record_account(f, caller, &record, id, now).await?;
                return Ok(SyncOutcome::Connected(id.clone()));
            }
            Ok(_) => match waiting {
                Some(waiting) => return Ok(still_waiting(waiting)),
                // A login whose checkpoint expired unsolved is over: start a new one.
                None if record.checkpoint.is_some() => {
                    match before_connect(f, settings, caller, &record, now).await? {
                        Ok(step) => step,
                        Err(outcome) => return Ok(outcome),
                    }
                }
                None => return Ok(SyncOutcome::Stored),
            },
            // Gone: connect anew, unless a connect since may have made one already.
            Err(error) if error.is_not_found() => {
                match before_connect(f, settings, caller, &record, now).await? {
                    Ok(step) => step,
                    Err(outcome) => return Ok(outcome),
                }
            }
            Err(error) => return Err(FlowError::Unipile(error)),
        },
        (Some(_), Some(account)) if account.status == AccountStatus::Credentials => {
            if let Some(waiting) = waiting {
                return Ok(still_waiting(waiting));
            }
            let id = &account.account_id;
            Step::Reconnect(id.clone(), account.outage_id().map(str::to_owned))
        }
        (Some(_), Some(_)) => return Ok(SyncOutcome::Stored),
    };
    // A login the invocation could not wait for would leave its outcome unknown: refuse
    // before taking the throttle, so the extension's retry may try at once.
    if !crate::deadline::allows(COOKIE_LOGIN_TIME) {
        return Err(FlowError::Unipile(UnipileError::OutOfTime("cookie_login")));
    }
    // One try per record per throttle window, decided by a conditional write: of parallel
    // syncs, one calls Unipile.
    if !f
        .store
        .claim_connect_attempt(user, member, now, now - settings.connect_throttle)
        .await?
    {
        tracing::info!(user_id = %user, linkedin_member_id = %member, "connect throttled");
        return Ok(SyncOutcome::Throttled);
    }
    // The cookie just received, still in memory: no need to decrypt what was just sealed.
    let login = CookieLogin {
        cookies: sync.cookies,
        user_agent: sync.user_agent,
        country: sync.country,
        ip: sync.ip,
    };
    match step {
        Step::Connect => {
            // The marker first: if the answer never comes back, the next sync knows an account
            // may exist and looks for it instead of making another.
            f.store.mark_connect_started(user, member, now).await?;
            let outcome = f.unipile.connect_linkedin(&login).await;
            // Unipile may answer with an account another user of ours holds (the same
            // LinkedIn member signed in to both): the write refuses to name it here.
            match record_connect_result(f, &record, &outcome, now).await {
                Err(FlowError::Store(StoreError::OwnedByAnotherUser)) => {
                    return Err(refuse_foreign(f, &record, now).await);
                }
                written => written?,
            }
            match outcome? {
                CookieAuthOutcome::Connected(account_id) => {
                    record_account(f, caller, &record, &account_id, now).await?;
                    Ok(SyncOutcome::Connected(account_id))
                }
                CookieAuthOutcome::Checkpoint {
                    account_id,
                    checkpoint_type,
                } => {
                    tracing::info!(user_id = %user, linkedin_member_id = %member, checkpoint = %checkpoint_type, "connect needs a checkpoint");
                    Ok(SyncOutcome::Checkpoint {
                        account_id,
                        checkpoint: WaitingCheckpoint::opened(checkpoint_type.into(), now),
                    })
                }
            }
        }
        Step::Reconnect(account_id, outage) => {
            let outcome = f.unipile.reconnect_linkedin(&account_id, &login).await;
            record_login_result(f.store, &record, Some(&account_id), &outcome, now).await?;
            match outcome {
                Ok(CookieAuthOutcome::Connected(_)) => {
                    record_reconnected(f, &account_id, outage.as_deref(), now).await?;
                    tracing::info!(account_id = %account_id, user_id = %user, "account reconnected with a fresh cookie");
                    Ok(SyncOutcome::Reconnected(account_id))
                }
                Ok(CookieAuthOutcome::Checkpoint {
                    checkpoint_type, ..
                }) => Ok(SyncOutcome::Checkpoint {
                    account_id: Some(account_id),
                    checkpoint: WaitingCheckpoint::opened(checkpoint_type.into(), now),
                }),
                // Any hourly attempts go on; the cookie is stored for them.
                Err(error) => {
                    tracing::warn!(account_id = %account_id, %error, "reconnect with a fresh cookie failed");
                    Ok(SyncOutcome::Stored)
                }
            }
        }
    }
}

/// Seals the sync's cookies (one data key) and stores them as the record's newest; `None` when
/// the identity is paused (nothing written).
async fn seal_and_store(
    f: CookieSyncPorts<'_>,
    settings: &CookieSettings,
    user: &UserId,
    sync: &CookieSync,
    digest: Option<CookieDigest>,
    now: DateTime<Utc>,
) -> Result<Option<CookieRecord>, FlowError> {
    let member = &sync.member_id;
    let sealed = f
        .cipher
        .seal_cookies(&sync.cookies, user, member)
        .await
        .map_err(|e| FlowError::Internal(e.to_string()))?;
    let update = CookieUpdate {
        user_id: user.clone(),
        member_id: member.clone(),
        li_at: sealed.li_at,
        li_a: sealed.li_a,
        user_agent: sync.user_agent.clone(),
        ip: sync.ip,
        country: sync.country.clone(),
        expires_at: now + settings.cookie_ttl,
        digest,
        profile_id: sync.profile_id.clone(),
    };
    Ok(f.store.save_cookie(&update, now).await?)
}

/// An account a cookie login reconnected is healthy again: the same write the webhook makes
/// for OK (Unipile's own answer, no need to ask it), which also ends any reconnect in progress
/// and its schedules.
pub(super) async fn record_reconnected(
    f: CookieSyncPorts<'_>,
    account_id: &AccountId,
    outage: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let healthy = plan(&AccountStatus::Ok, &TransitionPolicy::default());
    let unused = Outage::begin(now).map_err(FlowError::Internal)?;
    f.store
        .record_status(account_id, &healthy, &unused, How::Cookie, now)
        .await?;
    super::follow_ups::cancel_schedules(f.scheduler, account_id, outage, 0).await;
    Ok(())
}

enum Step {
    Connect,
    /// The account, and the outage whose schedules a success ends.
    Reconnect(AccountId, Option<String>),
}

/// Refuses a LinkedIn identity the user does not sync yet when they sync the most allowed.
/// An identity they sync already always passes (also when a lowered cap leaves them above it).
async fn admit_identity(
    f: CookieSyncPorts<'_>,
    settings: &CookieSettings,
    identities: &LinkedinIdentities,
    user: &UserId,
    member: &LinkedinMemberId,
) -> Result<(), FlowError> {
    let known = identities.member_ids();
    if known.contains(member) {
        return Ok(());
    }
    let cap = settings.max_linkedin_identities;
    // The count read here turns most refusals away without a write; the conditional write
    // decides between parallel syncs of new identities.
    let admitted = known.len() < cap as usize
        && f.store
            .claim_linkedin_identity(user, member, &known, cap)
            .await?;
    if !admitted {
        tracing::warn!(user_id = %user, linkedin_member_id = %member, cap, synced = known.len(), "LinkedIn identity refused: the user is at the cap");
        return Err(FlowError::LimitReached(format!(
            "this user already syncs the most LinkedIn identities allowed ({cap}); \
             linkedin_member_id {member} is not one of them"
        )));
    }
    Ok(())
}

/// What to do for a cookie record that names no account, before connecting one: `Ok(step)`
/// to go on, `Err(outcome)` to answer now.
async fn before_connect(
    f: CookieSyncPorts<'_>,
    settings: &CookieSettings,
    caller: &Caller,
    record: &CookieRecord,
    now: DateTime<Utc>,
) -> Result<Result<Step, SyncOutcome>, FlowError> {
    let (user, member) = (&record.user_id, &record.member_id);
    // The user may have an account of this identity already: recorded by the reconciliation
    // or an operator, by a connect whose answer reached the account but not this record, or
    // through hosted auth. The member id (`plainId`) is ours alone; the profile id
    // (`ACoAA…`), when the extension sends it, is what Unipile's account shows too.
    if let Some(account) = same_identity(f, record).await? {
        let id = &account.account_id;
        if account.linkedin_member_id.as_ref() != Some(member)
            && !f
                .store
                .tie_linkedin_identity(id, user, member, record.profile_id.as_ref())
                .await?
        {
            // Gone or another user's since the read: nothing to link to this time.
            return Ok(Err(SyncOutcome::Stored));
        }
        let linked = CookieResult {
            unipile_account_id: Some(id.clone()),
            connect_settled: true,
            ..CookieResult::default()
        };
        f.store
            .record_cookie_result(user, member, &linked, now)
            .await?;
        tracing::info!(account_id = %id, user_id = %user, linkedin_member_id = %member, "cookie record tied to the identity's existing account");
        return Ok(if account.status == AccountStatus::Credentials {
            let outage = account.outage_id().map(str::to_owned);
            Ok(Step::Reconnect(account.account_id, outage))
        } else {
            Err(SyncOutcome::Linked(account.account_id))
        });
    }
    let Some(started) = record.connect_started_at else {
        return Ok(Ok(Step::Connect));
    };
    // An earlier connect's outcome is unknown. Looking at Unipile costs a few calls: at most
    // once per throttle window, like the connect itself.
    if record
        .date_last_try_connect
        .is_some_and(|last| last >= now - settings.connect_throttle)
    {
        return Ok(Err(SyncOutcome::Throttled));
    }
    match unclaimed_linkedin_accounts(f, started, record.profile_id.as_ref()).await? {
        // Unipile shows this member's account, recorded for nobody: the earlier connect made
        // it. Taken as that connect's answer, so no second (billed) account is made.
        Some(Unclaimed {
            this_member: Some(found),
            ..
        }) => {
            let id = found.account_id.clone();
            let answered = CookieResult {
                unipile_account_id: Some(id.clone()),
                unipile_status: Some(found.status()),
                connect_settled: true,
                ..CookieResult::default()
            };
            match f
                .store
                .record_cookie_result(user, member, &answered, now)
                .await
            {
                Err(StoreError::OwnedByAnotherUser) => {
                    return Err(refuse_foreign(f, record, now).await);
                }
                written => written?,
            }
            record_account_as(f, caller, record, &id, found.status(), now).await?;
            tracing::info!(account_id = %id, user_id = %user, linkedin_member_id = %member, %started, "the earlier connect's account found by its profile id: recorded, not connected again");
            Ok(Err(SyncOutcome::Connected(id)))
        }
        Some(Unclaimed { others, .. }) if others.is_empty() => {
            tracing::info!(user_id = %user, linkedin_member_id = %member, %started, "the earlier connect created no account: connecting");
            Ok(Ok(Step::Connect))
        }
        _ if now - started >= SETTLE_PATIENCE => {
            tracing::warn!(user_id = %user, linkedin_member_id = %member, %started, "an earlier connect's account is still unsettled after a day: connecting anew (the reconciliation reports the other)");
            Ok(Ok(Step::Connect))
        }
        Some(Unclaimed { others, .. }) => {
            let ids: Vec<_> = others.iter().map(AccountId::as_str).collect();
            tracing::warn!(user_id = %user, linkedin_member_id = %member, %started, candidates = ?ids, "an earlier connect may have created an account: settling, not connecting");
            Ok(Err(SyncOutcome::Settling))
        }
        None => {
            tracing::warn!(user_id = %user, linkedin_member_id = %member, %started, "Unipile's account list is too long to look through: settling, not connecting");
            Ok(Err(SyncOutcome::Settling))
        }
    }
}

/// Most of a user's LinkedIn accounts whose profile id is looked up at Unipile in one sync
/// (accounts recorded before profile ids were kept).
const PROFILE_LOOKUPS: usize = 10;

/// The user's account of this LinkedIn identity, if any (not DELETED): the one of this member,
/// else the one whose profile id is the record's and that no other member holds. An account
/// whose profile id was never recorded is looked up at Unipile.
async fn same_identity(
    f: CookieSyncPorts<'_>,
    record: &CookieRecord,
) -> Result<Option<crate::domain::Account>, FlowError> {
    let member = &record.member_id;
    let live: Vec<_> = f
        .store
        .accounts_of(&record.user_id)
        .await?
        .into_iter()
        .filter(|a| a.status != AccountStatus::Deleted)
        .collect();
    // The newest of those that pass `test`, if any.
    let newest = |accounts: &[crate::domain::Account],
                  test: &dyn Fn(&crate::domain::Account) -> bool| {
        accounts
            .iter()
            .filter(|a| test(a))
            .max_by_key(|a| a.created_on)
            .cloned()
    };
    if let Some(account) = newest(&live, &|a| a.linkedin_member_id.as_ref() == Some(member)) {
        return Ok(Some(account));
    }
    let Some(profile) = &record.profile_id else {
        return Ok(None);
    };
    let unclaimed_linkedin: Vec<_> = live
        .into_iter()
        .filter(|a| a.account_type == Provider::Linkedin && a.linkedin_member_id.is_none())
        .collect();
    if let Some(account) = newest(&unclaimed_linkedin, &|a| {
        a.linkedin_profile_id.as_ref() == Some(profile)
    }) {
        return Ok(Some(account));
    }
    // Recorded before profile ids were kept: Unipile says whose each is.
    let mut found = Vec::new();
    for account in unclaimed_linkedin
        .into_iter()
        .filter(|a| a.linkedin_profile_id.is_none())
        .take(PROFILE_LOOKUPS)
    {
        match f.unipile.account(&account.account_id).await {
            Ok(at_unipile) if at_unipile.linkedin_profile_id.as_ref() == Some(profile) => {
                found.push(account);
            }
            Ok(_) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(FlowError::Unipile(error)),
        }
    }
    Ok(newest(&found, &|_| true))
}

/// What Unipile's list holds that a connect sent at some time may have created.
struct Unclaimed {
    /// A LinkedIn account showing the record's profile id that the table does not hold.
    this_member: Option<UnipileAccount>,
    /// LinkedIn accounts created around the connect (or with no `created_at`) that the table
    /// does not hold and whose profile id is unknown: perhaps the connect's, perhaps not.
    others: Vec<AccountId>,
}

/// Unipile's LinkedIn accounts the table does not record that the connect sent at `started`
/// may have created: the member's own by its profile id (any time), and those of unknown
/// member created around then; an account showing another member's profile id is not this
/// connect's. `None` when the list is longer than a sync may read.
async fn unclaimed_linkedin_accounts(
    f: CookieSyncPorts<'_>,
    started: DateTime<Utc>,
    profile: Option<&crate::domain::LinkedinProfileId>,
) -> Result<Option<Unclaimed>, FlowError> {
    let skew = Duration::from_std(CLOCK_SKEW).unwrap_or_else(|_| Duration::minutes(2));
    let login = Duration::from_std(COOKIE_LOGIN_TIME).unwrap_or_else(|_| Duration::seconds(30));
    let window = (started - skew)..=(started + login + skew);
    let mut mine = Vec::new();
    let mut others = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..SETTLE_MAX_PAGES {
        let page = f
            .unipile
            .list_accounts(cursor.as_deref(), MAX_ACCOUNT_PAGE)
            .await?;
        for account in page.accounts {
            if account.account_type != Provider::Linkedin {
                continue;
            }
            match (&account.linkedin_profile_id, profile) {
                (Some(shown), Some(ours)) if shown == ours => mine.push(account),
                // Another member's account, whoever created it.
                (Some(_), Some(_)) => {}
                _ if account.created_at.is_none_or(|at| window.contains(&at)) => {
                    others.push(account.account_id)
                }
                _ => {}
            }
        }
        cursor = page.cursor;
        if cursor.is_none() {
            let mut unclaimed = Unclaimed {
                this_member: None,
                others: Vec::new(),
            };
            for account in mine {
                if unclaimed.this_member.is_none()
                    && f.store.get_account(&account.account_id).await?.is_none()
                {
                    unclaimed.this_member = Some(account);
                }
            }
            for id in others {
                if f.store.get_account(&id).await?.is_none() {
                    unclaimed.others.push(id);
                }
            }
            return Ok(Some(unclaimed));
        }
    }
    Ok(None)
}

/// Unipile answered a login with an account another user holds: the record keeps no account
/// id (its connect settled), and the sync is refused. Nothing of the other user's is named.
pub(super) async fn refuse_foreign(
    f: CookieSyncPorts<'_>,
    record: &CookieRecord,
    now: DateTime<Utc>,
) -> FlowError {
    tracing::warn!(user_id = %record.user_id, linkedin_member_id = %record.member_id, "Unipile answered with an account another user holds: not stored for this one");
    let settled = CookieResult {
        last_error: Some("the account belongs to another user".into()),
        connect_settled: true,
        ..CookieResult::default()
    };
    if let Err(error) = f
        .store
        .record_cookie_result(&record.user_id, &record.member_id, &settled, now)
        .await
    {
        tracing::warn!(user_id = %record.user_id, linkedin_member_id = %record.member_id, %error, "could not record the refused login: the next sync settles it");
    }
    FlowError::Conflict("this LinkedIn account is connected for another user".into())
}

/// The first write after Unipile answers a connect: the new account's id (or why it failed)
/// on the cookie record, and the end of the in-flight marker when the outcome is known. It is
/// retried, since failing it would lose the account; if it still fails the marker stays, so
/// the next sync looks for the account rather than connecting another, and the id is logged.
async fn record_connect_result(
    f: CookieSyncPorts<'_>,
    record: &CookieRecord,
    outcome: &Result<CookieAuthOutcome, UnipileError>,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let result = CookieResult {
        connect_settled: match outcome {
            Ok(_) => true,
            Err(error) => !error.may_have_acted(),
        },
        ..login_result(None, outcome, now)
    };
    let mut attempt = 1;
    loop {
        match f
            .store
            .record_cookie_result(&record.user_id, &record.member_id, &result, now)
            .await
        {
            Ok(()) => return Ok(()),
            // Another user's account: refused, nothing written (the caller says so).
            Err(StoreError::OwnedByAnotherUser) => {
                return Err(StoreError::OwnedByAnotherUser.into());
            }
            Err(StoreError::Unavailable(reason)) if attempt < RESULT_WRITE_ATTEMPTS => {
                tracing::warn!(user_id = %record.user_id, linkedin_member_id = %record.member_id, attempt, %reason, "the connect's answer could not be written: retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::error!(user_id = %record.user_id, linkedin_member_id = %record.member_id, account_id = ?result.unipile_account_id.as_ref().map(AccountId::as_str), %error, "the connect's answer could not be written: the next sync and the reconciliation settle it");
                return Err(error.into());
            }
        }
    }
}

/// Stores an account the extension's cookie connected, for its user and LinkedIn member, and
/// the user's email for when the account needs them.
pub(super) async fn record_account(
    f: CookieSyncPorts<'_>,
    caller: &Caller,
    record: &CookieRecord,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    record_account_as(f, caller, record, account_id, AccountStatus::Ok, now).await
}

/// [`record_account`] with the status Unipile shows.
async fn record_account_as(
    f: CookieSyncPorts<'_>,
    caller: &Caller,
    record: &CookieRecord,
    account_id: &AccountId,
    status: AccountStatus,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let connection = ConnectedAccount {
        account_id: account_id.clone(),
        user_id: record.user_id.clone(),
        account_type: Provider::Linkedin,
        status,
        display_name: None,
        linkedin_member_id: Some(record.member_id.clone()),
        linkedin_profile_id: record.profile_id.clone(),
    };
    f.store
        .record_connection(&connection, How::Cookie, now)
        .await
        .map_err(|error| match error {
            StoreError::OwnedByAnotherUser => {
                FlowError::Conflict(format!("account {account_id} belongs to another user"))
            }
            other => FlowError::Store(other),
        })?;
    if let Some(email) = &caller.email {
        let profile = UserProfile {
            user_id: record.user_id.clone(),
            email: email.clone(),
            updated_at: now,
        };
        f.store.save_profile(&profile).await?;
    }
    tracing::info!(account_id = %account_id, user_id = %record.user_id, linkedin_member_id = %record.member_id, "account connected with the extension's cookie");
    crate::metrics::count("AccountsConnected");
    Ok(())
}
