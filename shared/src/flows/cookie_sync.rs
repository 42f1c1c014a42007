//! `POST /extension/cookies`: the extension's newest LinkedIn cookie for the signed-in user.
//! Stored encrypted; used at once to connect an account when there is none yet, or to
//! reconnect one that is waiting for its hourly attempts.

use super::FlowError;
use super::cookie_login::record_login_result;
use crate::domain::cookies::CookieSync;
use crate::domain::transitions::{TransitionPolicy, plan};
use crate::domain::{AccountId, AccountStatus, CookieRecord, Outage, Provider};
use crate::http::Caller;
use crate::ports::{
    AccountStore, COOKIE_LOGIN_TIME, Cipher, Clock, ConnectedAccount, CookieAuthOutcome,
    CookieLogin, CookieUpdate, RetryScheduler, StoreError, Unipile, UnipileError, UserProfile,
};
use chrono::{DateTime, Duration, Utc};

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A new Unipile account was connected with the cookie.
    Connected(AccountId),
    /// LinkedIn wants a verification before the account connects.
    Checkpoint {
        account_id: Option<AccountId>,
        checkpoint: String,
    },
    /// An account waiting for its reconnect was reconnected with this fresh cookie.
    Reconnected(AccountId),
    /// Stored; nothing else to do now.
    Stored,
    /// Stored; a connect was tried too recently to try again.
    Throttled,
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
    let seal = |secret| ports.cipher.seal(secret, user, member);
    let li_at = seal(&sync.cookies.li_at)
        .await
        .map_err(|e| FlowError::Internal(e.to_string()))?;
    let li_a = match &sync.cookies.li_a {
        Some(li_a) => Some(
            seal(li_a)
                .await
                .map_err(|e| FlowError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let update = CookieUpdate {
        user_id: user.clone(),
        member_id: member.clone(),
        li_at,
        li_a,
        user_agent: sync.user_agent.clone(),
        ip: sync.ip,
        country: sync.country.clone(),
    };
    let record = f.store.save_cookie(&update, now).await?;
    tracing::info!(user_id = %user, linkedin_member_id = %member, "extension cookie stored");

    let account = match &record.unipile_account_id {
        Some(id) => f.store.get_account(id).await?,
        None => None,
    };
    let step = match (&record.unipile_account_id, account) {
        (None, _) => Step::Connect,
        // The record names an account we do not store: a connect that stopped at a checkpoint,
        // or failed between its two writes. Unipile says what became of it.
        (Some(id), None) => match f.unipile.account(id).await {
            Ok(found)
                if found
                    .source_statuses
                    .iter()
                    .all(|s| *s == AccountStatus::Ok) =>
            {
                record_account(f, caller, &record, id, now).await?;
                return Ok(SyncOutcome::Connected(id.clone()));
            }
            Ok(_) => return Ok(SyncOutcome::Stored),
            Err(error) if error.is_not_found() => Step::Connect,
            Err(error) => return Err(FlowError::Unipile(error)),
        },
        // Waiting for its hourly attempts, or past them: the fresh cookie is worth a try now.
        (Some(id), Some(account)) if account.status == AccountStatus::Credentials => {
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
            let outcome = f.unipile.connect_linkedin(&login).await;
            record_login_result(f.store, &record, None, &outcome, now).await?;
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
                        checkpoint: checkpoint_type,
                    })
                }
            }
        }
        Step::Reconnect(account_id, outage) => {
            let outcome = f.unipile.reconnect_linkedin(&account_id, &login).await;
            record_login_result(f.store, &record, Some(&account_id), &outcome, now).await?;
            match outcome {
                Ok(CookieAuthOutcome::Connected(_)) => {
                    // Healthy again: the same write the webhook makes for OK, which also ends
                    // any reconnect in progress.
                    // Unipile's own answer to this login: the account is OK, no need to ask.
                    let healthy = plan(&AccountStatus::Ok, &TransitionPolicy::default());
                    let unused = Outage::begin(now).map_err(FlowError::Internal)?;
                    f.store
                        .record_status(&account_id, &healthy, &unused, now)
                        .await?;
                    super::follow_ups::cancel_schedules(
                        f.scheduler,
                        &account_id,
                        outage.as_deref(),
                        0,
                    )
                    .await;
                    tracing::info!(account_id = %account_id, user_id = %user, "account reconnected with a fresh cookie");
                    Ok(SyncOutcome::Reconnected(account_id))
                }
                Ok(CookieAuthOutcome::Checkpoint {
                    checkpoint_type, ..
                }) => Ok(SyncOutcome::Checkpoint {
                    account_id: Some(account_id),
                    checkpoint: checkpoint_type,
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

enum Step {
    Connect,
    /// The account, and the outage whose schedules a success ends.
    Reconnect(AccountId, Option<String>),
}

/// Stores an account the extension's cookie connected, for its user and LinkedIn member, and
/// the user's email for when the account needs them.
async fn record_account(
    f: CookieSyncPorts<'_>,
    caller: &Caller,
    record: &CookieRecord,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let connection = ConnectedAccount {
        account_id: account_id.clone(),
        user_id: record.user_id.clone(),
        account_type: Provider::Linkedin,
        status: AccountStatus::Ok,
        display_name: None,
        linkedin_member_id: Some(record.member_id.clone()),
    };
    f.store
        .record_connection(&connection, now)
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
    Ok(())
}
