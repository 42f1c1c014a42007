//! Custom authentication: the user signs a provider in from the team's own page
//! (`/accounts/connect...`), and the bundle does what Unipile asks of a team that does it
//! itself (custom-auth contract §1, §12, §13).
//!
//! - **Whose the account is, from the first answer.** The start's body carries no `name`:
//!   the attempt (user, account id, provider, expiry) is recorded before the page hears of
//!   the account, so the account is recorded for its user whichever comes first: the page's
//!   poll, the status webhook's `CREATION_SUCCESS` ([`settle_from_webhook`]), or the
//!   reconciliation. An attempt never finished is deleted at Unipile once it expired (at the
//!   poll that sees it expire, or by the reconciliation), so no billed account lingers.
//! - **One attempt at a time, a few per window.** A slot per user and provider admits starts
//!   (see [`LoginSlot::admit`]); it is written before Unipile is called, at the version read,
//!   so two starts at once cannot both pass. A start whose answer was lost stays "in flight":
//!   the next start first looks for what it made ([`resolve_lost_start`]), so a lost answer
//!   never makes two accounts.
//! - **Credentials pass through.** Passwords, codes and phone numbers go to Unipile in the
//!   request body and nowhere else: no log line, error or record holds them.

use super::FlowError;
use super::confirmed_connection::record_confirmed;
use super::error::LoginRefusal;
use crate::domain::checkpoint::{CheckpointCode, CheckpointKind};
use crate::domain::custom_login::{LoginHints, LoginRequest, LoginTarget};
use crate::domain::events::How;
use crate::domain::login_attempt::{
    AttemptLimit, LoginAttempt, LoginCheckpoint, LoginSlot, StartRefusal, WaitingLogin,
};
use crate::domain::{Account, AccountId, AccountStatus, Caller, Provider, UserId};
use crate::ports::{
    AccountStore, Clock, ConnectedAccount, CustomLogin, LoginOutcome, MAX_ACCOUNT_PAGE,
    RetryScheduler, StoreError, Unipile, UnipileAccount, UnipileError, UnipileErrorType,
    UserProfile,
};
use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Copy)]
pub struct LoginPorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    /// Ends the schedules of a cookie reconnect that a custom-auth reconnect made moot, where
    /// the function holds one (the status webhook); without, each attempt finds the account
    /// healthy and stops.
    pub scheduler: Option<&'a dyn RetryScheduler>,
    pub clock: &'a dyn Clock,
}

/// How custom authentication behaves in this deployment.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginSettings {
    /// `CONNECT_ATTEMPT_LIMIT`: starts per user and provider in a window.
    pub limit: AttemptLimit,
}

/// What the page is told after a start or a checkpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginStep {
    Connected {
        account_id: AccountId,
        provider: Provider,
    },
    Checkpoint {
        account_id: AccountId,
        provider: Provider,
        checkpoint: LoginCheckpoint,
        expires_at: DateTime<Utc>,
        /// The provider can send the code again (contract §1: LinkedIn, Instagram, Messenger).
        can_resend: bool,
    },
}

/// What the page's poll of a waiting attempt finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginWait {
    Waiting,
    Connected,
    Expired,
}

impl LoginWait {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Connected => "connected",
            Self::Expired => "expired",
        }
    }
}

/// Providers whose checkpoint code Unipile sends again on request (custom-auth contract §1).
fn can_resend(provider: &Provider) -> bool {
    matches!(
        provider,
        Provider::Linkedin | Provider::Instagram | Provider::Messenger
    )
}

/// How far Unipile's clock (its `created_at`) may be from ours when looking for the account a
/// start of unknown outcome made.
const CLOCK_SKEW: Duration = Duration::minutes(2);

/// Most pages of Unipile's account list one start reads looking for that account.
const LOST_START_MAX_PAGES: usize = 8;

/// `POST /accounts/connect`.
pub async fn start(
    f: LoginPorts<'_>,
    settings: &LoginSettings,
    caller: &Caller,
    request: LoginRequest,
    hints: LoginHints,
) -> Result<LoginStep, FlowError> {
    let now = f.clock.now();
    let user = &caller.user_id;
    let provider = request.provider.clone();
    let reconnecting = match &request.target {
        LoginTarget::Create => None,
        LoginTarget::Reconnect(id) => Some(owned_account(f, user, id, &provider).await?),
    };
    let slot = f
        .store
        .login_slot(user, &provider)
        .await?
        .unwrap_or_else(|| LoginSlot::new(user.clone(), provider.clone()));
    let admitted = slot
        .admit(now, &settings.limit, request.renew.as_ref())
        .map_err(|refusal| refused_start(refusal, &provider, now))?;
    let slot = write_slot(f, admitted.slot).await?;
    if let Some(since) = admitted.lost_since
        && let Some(step) = resolve_lost_start(f, caller, &slot, since, now).await?
    {
        return Ok(step);
    }
    // "New code" for a new account: the expired code's account goes first, or Unipile may
    // answer that an authentication is still in progress (contract §3, 425).
    if let (Some(old), LoginTarget::Create) = (&admitted.renews, &request.target) {
        abandon(f, user, &old.account_id, false, now).await;
    }
    let login = CustomLogin {
        provider: provider.clone(),
        method: request.method,
        hints,
    };
    let outcome = f.unipile.start_login(&request.target, &login).await;
    tracing::info!(user_id = %user, provider = %provider, reconnect = reconnecting.is_some(), renewal = admitted.renews.is_some(), answered = outcome.is_ok(), "custom sign-in started");
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            if !error.may_have_acted() {
                // Nothing was made: the start is answered (it still counts against the limit).
                let _ = write_slot(f, slot.answered(None)).await;
            } else {
                tracing::warn!(user_id = %user, provider = %provider, %error, "custom sign-in's answer lost: the next start looks for what it made");
            }
            return Err(login_error(error, &provider));
        }
    };
    save_profile(f, caller, now).await;
    let reconnect = reconnecting.is_some();
    match outcome {
        LoginOutcome::Connected(account_id) => {
            let attempt = LoginAttempt {
                account_id: account_id.clone(),
                user_id: user.clone(),
                provider: provider.clone(),
                reconnect,
                started_at: now,
                expires_at: now,
                finished_at: None,
            };
            f.store.put_login_attempt(&attempt).await.map_err(owned)?;
            let before = match reconnecting {
                Some(account) if account.account_id == account_id => Some(account),
                _ => f.store.get_account(&account_id).await?,
            };
            finish_connected(f, &attempt, before.as_ref(), None, now).await?;
            let _ = write_slot(f, slot.answered(None)).await;
            Ok(LoginStep::Connected {
                account_id,
                provider,
            })
        }
        LoginOutcome::Checkpoint {
            account_id,
            checkpoint,
        } => {
            let expires_at = checkpoint.expires_at(now);
            let attempt = LoginAttempt {
                account_id: account_id.clone(),
                user_id: user.clone(),
                provider: provider.clone(),
                reconnect,
                started_at: now,
                expires_at,
                finished_at: None,
            };
            f.store.put_login_attempt(&attempt).await.map_err(owned)?;
            if checkpoint.kind() == CheckpointKind::Captcha {
                // Only Unipile's hosted page can show it (contract §2): this attempt ends.
                abandon(f, user, &account_id, reconnect, now).await;
                let _ = write_slot(f, slot.answered(None)).await;
                return Err(refusal(LoginRefusal::Captcha, &provider));
            }
            let waiting = WaitingLogin {
                account_id: account_id.clone(),
                expires_at,
                reconnect,
                on_phone: checkpoint.waits_for_phone(),
                renewals: admitted.renews.map_or(0, |w| w.renewals + 1),
            };
            write_slot(f, slot.answered(Some(waiting))).await?;
            tracing::info!(user_id = %user, account_id = %account_id, provider = %provider, checkpoint = %checkpoint.kind(), "custom sign-in waits at a checkpoint");
            Ok(LoginStep::Checkpoint {
                can_resend: can_resend(&provider) && !checkpoint.waits_for_phone(),
                account_id,
                provider,
                checkpoint,
                expires_at,
            })
        }
    }
}

/// `POST /accounts/connect/checkpoint`: the user's answer to the checkpoint.
pub async fn answer_checkpoint(
    f: LoginPorts<'_>,
    caller: &Caller,
    account_id: &AccountId,
    code: CheckpointCode,
) -> Result<LoginStep, FlowError> {
    let now = f.clock.now();
    let attempt = callers_attempt(f, &caller.user_id, account_id).await?;
    if let Some(step) = already_over(f, &attempt, now).await? {
        return Ok(step);
    }
    if matches!(attempt.provider, Provider::Whatsapp | Provider::Telegram) {
        return Err(FlowError::InvalidRequest(format!(
            "{} completes on the phone: scan the code (or type the pairing code) there",
            attempt.provider.display_name()
        )));
    }
    let outcome = f
        .unipile
        .solve_login_checkpoint(&attempt.provider, account_id, &code)
        .await;
    tracing::info!(user_id = %attempt.user_id, account_id = %account_id, provider = %attempt.provider, switched = code.switches_method(), solved = outcome.is_ok(), "custom sign-in checkpoint answered");
    match outcome {
        Ok(LoginOutcome::Connected(id)) => {
            let before = f.store.get_account(&id).await?;
            let attempt = LoginAttempt {
                account_id: id.clone(),
                ..attempt
            };
            finish_connected(f, &attempt, before.as_ref(), None, now).await?;
            end_slot(f, &attempt).await;
            Ok(LoginStep::Connected {
                account_id: id,
                provider: attempt.provider,
            })
        }
        Ok(LoginOutcome::Checkpoint { checkpoint, .. })
            if checkpoint.kind() == CheckpointKind::Captcha =>
        {
            abandon(f, &attempt.user_id, account_id, attempt.reconnect, now).await;
            end_slot(f, &attempt).await;
            Err(refusal(LoginRefusal::Captcha, &attempt.provider))
        }
        Ok(LoginOutcome::Checkpoint { checkpoint, .. }) => Ok(LoginStep::Checkpoint {
            account_id: account_id.clone(),
            can_resend: can_resend(&attempt.provider),
            provider: attempt.provider,
            checkpoint,
            // The intent's window does not start again at a further step (contract §0.2).
            expires_at: attempt.expires_at,
        }),
        Err(UnipileError::Api {
            error_type: UnipileErrorType::InvalidCheckpointSolution,
            ..
        }) => Err(FlowError::WrongCode(format!(
            "{} did not accept this code: check it and try again",
            attempt.provider.display_name()
        ))),
        // The sign-in is over at Unipile: it may have ended connected (an earlier answer of
        // this code went through, its reply lost), which Unipile's account tells.
        Err(UnipileError::Api {
            error_type: UnipileErrorType::AuthenticationIntentError,
            ..
        }) => match f.unipile.account(account_id).await {
            Ok(found) if is_connected(&found.source_statuses) => {
                let before = f.store.get_account(account_id).await?;
                finish_connected(f, &attempt, before.as_ref(), Some(found), now).await?;
                end_slot(f, &attempt).await;
                Ok(LoginStep::Connected {
                    account_id: account_id.clone(),
                    provider: attempt.provider,
                })
            }
            Ok(_) => Err(expire(f, &attempt, now).await),
            Err(error) if error.is_not_found() => Err(expire(f, &attempt, now).await),
            Err(error) => Err(FlowError::Unipile(error)),
        },
        Err(error) => Err(login_error(error, &attempt.provider)),
    }
}

/// `POST /accounts/connect/resend`: the provider sends the code again.
pub async fn resend(
    f: LoginPorts<'_>,
    caller: &Caller,
    account_id: &AccountId,
) -> Result<DateTime<Utc>, FlowError> {
    let now = f.clock.now();
    let attempt = callers_attempt(f, &caller.user_id, account_id).await?;
    if attempt.finished_at.is_some() || attempt.is_expired(now) {
        return Err(FlowError::Expired(
            "this sign-in is over: start again".into(),
        ));
    }
    if !can_resend(&attempt.provider) {
        return Err(FlowError::InvalidRequest(format!(
            "{} cannot send the code again: start again for a new one",
            attempt.provider.display_name()
        )));
    }
    match f
        .unipile
        .resend_login_checkpoint(&attempt.provider, account_id)
        .await
    {
        Ok(()) => {
            tracing::info!(user_id = %attempt.user_id, account_id = %account_id, "checkpoint code sent again");
            Ok(attempt.expires_at)
        }
        Err(UnipileError::Api {
            error_type: UnipileErrorType::CannotResendYet,
            ..
        }) => Err(FlowError::TooManyAttempts {
            detail: "a new code cannot be sent yet: wait a little, then ask again".into(),
            retry_after: RESEND_WAIT,
        }),
        Err(UnipileError::Api {
            error_type: UnipileErrorType::AuthenticationIntentError,
            ..
        }) => Err(expire(f, &attempt, now).await),
        Err(error) => Err(login_error(error, &attempt.provider)),
    }
}

/// What a resend refused as too early asks the page to wait, in seconds (Unipile says not).
const RESEND_WAIT: u64 = 30;

/// How often a poll looks at Unipile while it holds.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /accounts/connect/{account_id}`: has the QR code been scanned, the pairing code typed,
/// the sign-in approved in the app? Looks for up to `hold` (the route holds at most 10 s, and
/// never past the function's deadline) before answering `waiting`.
pub async fn poll(
    f: LoginPorts<'_>,
    caller: &Caller,
    account_id: &AccountId,
    hold: std::time::Duration,
) -> Result<LoginWait, FlowError> {
    let attempt = callers_attempt(f, &caller.user_id, account_id).await?;
    let started = std::time::Instant::now();
    loop {
        let now = f.clock.now();
        match already_over(f, &attempt, now).await {
            Ok(Some(_)) => return Ok(LoginWait::Connected),
            Ok(None) => {}
            Err(FlowError::Expired(_)) => return Ok(LoginWait::Expired),
            Err(error) => return Err(error),
        }
        match f.unipile.account(account_id).await {
            Ok(found) if is_connected(&found.source_statuses) => {
                let before = f.store.get_account(account_id).await?;
                finish_connected(f, &attempt, before.as_ref(), Some(found), now).await?;
                end_slot(f, &attempt).await;
                return Ok(LoginWait::Connected);
            }
            // Not yet, or an intent Unipile does not show as an account yet.
            Ok(_) => {}
            Err(error) if error.is_not_found() => {}
            // Unipile unreadable: the expiry waits for a look that can tell.
            Err(error) => {
                tracing::info!(account_id = %account_id, %error, "waiting sign-in not readable at Unipile: still waiting");
                return Ok(LoginWait::Waiting);
            }
        }
        if attempt.is_expired(now) {
            let _ = expire(f, &attempt, now).await;
            return Ok(LoginWait::Expired);
        }
        let left = hold.saturating_sub(started.elapsed());
        if left < POLL_EVERY || !crate::deadline::allows(POLL_EVERY * 2) {
            return Ok(LoginWait::Waiting);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// A status delivery for an account the table does not hold: if a custom-auth attempt made
/// it, and Unipile confirms it connected, it is recorded for the attempt's user. `true` when
/// it was.
pub async fn settle_from_webhook(
    f: LoginPorts<'_>,
    account_id: &AccountId,
) -> Result<bool, FlowError> {
    let Some(attempt) = f.store.login_attempt(account_id).await? else {
        return Ok(false);
    };
    let found = f.unipile.account(account_id).await?;
    if !is_connected(&found.source_statuses) {
        return Ok(false);
    }
    let now = f.clock.now();
    let before = f.store.get_account(account_id).await?;
    finish_connected(f, &attempt, before.as_ref(), Some(found), now).await?;
    end_slot(f, &attempt).await;
    tracing::info!(account_id = %account_id, user_id = %attempt.user_id, "custom sign-in completed, heard through the status webhook");
    Ok(true)
}

/// Every source OK: the account is connected, a new one or a reconnected one alike (only its
/// sources being OK again tells a reconnect's end).
fn is_connected(sources: &[AccountStatus]) -> bool {
    !sources.is_empty() && sources.iter().all(|s| *s == AccountStatus::Ok)
}

/// The caller's account to reconnect, of the provider the body names.
async fn owned_account(
    f: LoginPorts<'_>,
    user: &UserId,
    id: &AccountId,
    provider: &Provider,
) -> Result<Account, FlowError> {
    let account = f
        .store
        .get_account(id)
        .await?
        .filter(|a| a.is_owned_by(user) && a.status != AccountStatus::Deleted)
        .ok_or_else(|| FlowError::NotFound(format!("account {id} is not one of yours")))?;
    if account.account_type != *provider {
        return Err(FlowError::InvalidRequest(format!(
            "account {id} is a {} account, not {}",
            account.account_type, provider
        )));
    }
    Ok(account)
}

/// The caller's attempt on `account_id`; another user's is as absent as none.
async fn callers_attempt(
    f: LoginPorts<'_>,
    user: &UserId,
    account_id: &AccountId,
) -> Result<LoginAttempt, FlowError> {
    f.store
        .login_attempt(account_id)
        .await?
        .filter(|a| a.user_id == *user)
        .ok_or_else(|| FlowError::NotFound(format!("no sign-in of yours waits on {account_id}")))
}

/// An attempt already settled: connected (recorded for its user), or given up.
async fn already_over(
    f: LoginPorts<'_>,
    attempt: &LoginAttempt,
    now: DateTime<Utc>,
) -> Result<Option<LoginStep>, FlowError> {
    let recorded = f
        .store
        .get_account(&attempt.account_id)
        .await?
        .filter(|a| a.is_owned_by(&attempt.user_id) && a.status == AccountStatus::Ok);
    let connected_since_start = recorded
        .as_ref()
        .is_some_and(|a| !attempt.reconnect || a.last_update >= attempt.started_at);
    if connected_since_start {
        if attempt.finished_at.is_none() {
            mark_finished(f, attempt, now).await;
            end_slot(f, attempt).await;
        }
        return Ok(Some(LoginStep::Connected {
            account_id: attempt.account_id.clone(),
            provider: attempt.provider.clone(),
        }));
    }
    if attempt.finished_at.is_some() {
        return Err(FlowError::Expired(
            "this sign-in is over: start again".into(),
        ));
    }
    Ok(None)
}

/// Records the account for the attempt's user with Unipile's word on it, and the attempt as
/// finished.
async fn finish_connected(
    f: LoginPorts<'_>,
    attempt: &LoginAttempt,
    before: Option<&Account>,
    found: Option<UnipileAccount>,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    // The name Unipile shows (the person, the mailbox) and its sources' statuses, read once:
    // a caller that just read the account hands it over. Without them the account is
    // recorded as Unipile's answer said: connected.
    let read = match found {
        Some(found) => Ok(found),
        None => f.unipile.account(&attempt.account_id).await,
    };
    let (display_name, sources) = match read {
        Ok(found) => (found.display_name, found.source_statuses),
        Err(error) => {
            tracing::info!(account_id = %attempt.account_id, %error, "connected account not read back: recorded as connected");
            (None, Vec::new())
        }
    };
    let connection = ConnectedAccount {
        account_id: attempt.account_id.clone(),
        user_id: attempt.user_id.clone(),
        account_type: attempt.provider.clone(),
        status: AccountStatus::Ok,
        display_name: display_name.or_else(|| before.and_then(|a| a.display_name.clone())),
        linkedin_member_id: before.and_then(|a| a.linkedin_member_id.clone()),
        linkedin_profile_id: before.and_then(|a| a.linkedin_profile_id.clone()),
    };
    record_confirmed(
        f.store,
        f.scheduler,
        &connection,
        before,
        &sources,
        How::Custom,
        now,
    )
    .await?;
    mark_finished(f, attempt, now).await;
    tracing::info!(account_id = %attempt.account_id, user_id = %attempt.user_id, provider = %attempt.provider, reconnect = attempt.reconnect, "account connected by custom sign-in");
    crate::metrics::count("AccountsConnected");
    Ok(())
}

async fn mark_finished(f: LoginPorts<'_>, attempt: &LoginAttempt, now: DateTime<Utc>) {
    let finished = LoginAttempt {
        finished_at: Some(now),
        ..attempt.clone()
    };
    if let Err(error) = f.store.put_login_attempt(&finished).await {
        // The account is recorded; an unfinished attempt only makes later reads look again.
        tracing::warn!(account_id = %attempt.account_id, %error, "finished sign-in not marked");
    }
}

/// The attempt's slot lets a new start in (best effort: an expired wait frees it anyway).
async fn end_slot(f: LoginPorts<'_>, attempt: &LoginAttempt) {
    let ended = async {
        let slot = f
            .store
            .login_slot(&attempt.user_id, &attempt.provider)
            .await?;
        match slot {
            Some(slot) => f
                .store
                .put_login_slot(&slot.ended(&attempt.account_id))
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    };
    if let Err(error) = ended.await {
        tracing::info!(account_id = %attempt.account_id, %error, "sign-in slot not freed: it frees itself at the attempt's expiry");
    }
}

/// The attempt is over unfinished: its new account goes at Unipile (billed otherwise), the
/// attempt is marked. A reconnect's account is the user's and stays.
async fn expire(f: LoginPorts<'_>, attempt: &LoginAttempt, now: DateTime<Utc>) -> FlowError {
    abandon(
        f,
        &attempt.user_id,
        &attempt.account_id,
        attempt.reconnect,
        now,
    )
    .await;
    // The slot keeps the expired wait: it no longer holds new starts back, and "new code"
    // still finds it to renew (the same attempt, not a second one).
    FlowError::Expired("the sign-in expired: start again".into())
}

/// Deletes an unfinished attempt's new account at Unipile and marks the attempt finished.
/// Best effort: what fails here, the reconciliation deletes once the attempt has expired.
async fn abandon(
    f: LoginPorts<'_>,
    user: &UserId,
    account_id: &AccountId,
    reconnect: bool,
    now: DateTime<Utc>,
) {
    if !reconnect {
        // Connected after all (scanned at the last second): the user's, not to delete; the
        // poll, the webhook or the reconciliation records it.
        match f.unipile.account(account_id).await {
            Ok(found) if is_connected(&found.source_statuses) => {
                tracing::info!(account_id = %account_id, "an ending sign-in's account connected meanwhile: kept");
                return;
            }
            Ok(_) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => {
                tracing::warn!(account_id = %account_id, %error, "an ending sign-in's account not looked at: the reconciliation deletes it if it never connected");
                return;
            }
        }
        match f.unipile.delete_account(account_id).await {
            Ok(()) => {
                tracing::info!(account_id = %account_id, user_id = %user, "unfinished sign-in's account deleted at Unipile");
            }
            Err(error) => {
                tracing::warn!(account_id = %account_id, %error, "unfinished sign-in's account not deleted: the reconciliation deletes it");
                return;
            }
        }
    }
    match f.store.login_attempt(account_id).await {
        Ok(Some(attempt)) if attempt.user_id == *user && attempt.finished_at.is_none() => {
            mark_finished(f, &attempt, now).await;
        }
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(account_id = %account_id, %error, "unfinished sign-in not marked")
        }
    }
}

/// An earlier start's answer was lost; it may have made an account. Unipile's accounts of the
/// provider that nobody records, made around then, are that start's: one connected is
/// recorded for the user (the start's answer, found), unconnected ones are deleted (nobody
/// can finish a checkpoint whose answer was lost). `None`: nothing stands in the way of a new
/// start.
async fn resolve_lost_start(
    f: LoginPorts<'_>,
    caller: &Caller,
    slot: &LoginSlot,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<LoginStep>, FlowError> {
    let login_time = Duration::from_std(crate::ports::COOKIE_LOGIN_TIME)
        .unwrap_or_else(|_| Duration::seconds(30));
    let window = (since - CLOCK_SKEW)..=(since + login_time + CLOCK_SKEW);
    let mut connected = Vec::new();
    let mut unfinished = Vec::new();
    let mut cursor: Option<String> = None;
    for page_number in 0.. {
        if page_number == LOST_START_MAX_PAGES {
            return Err(FlowError::Busy(
                "an earlier sign-in's outcome is still being settled; try again later".into(),
            ));
        }
        let page = f
            .unipile
            .list_accounts(cursor.as_deref(), MAX_ACCOUNT_PAGE)
            .await?;
        for account in page.accounts {
            let made_then = account.created_at.is_some_and(|at| window.contains(&at));
            if account.account_type != slot.provider || !made_then {
                continue;
            }
            if f.store.get_account(&account.account_id).await?.is_some()
                || f.store.login_attempt(&account.account_id).await?.is_some()
            {
                continue;
            }
            if is_connected(&account.source_statuses) {
                connected.push(account.account_id);
            } else {
                unfinished.push(account.account_id);
            }
        }
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    for id in &unfinished {
        if let Err(error) = f.unipile.delete_account(id).await {
            tracing::warn!(account_id = %id, %error, "a lost start's unfinished account not deleted: the reconciliation reports it");
        }
    }
    let user = &caller.user_id;
    match connected.as_slice() {
        [] => Ok(None),
        [id] => {
            let attempt = LoginAttempt {
                account_id: id.clone(),
                user_id: user.clone(),
                provider: slot.provider.clone(),
                reconnect: false,
                started_at: since,
                expires_at: since,
                finished_at: None,
            };
            f.store.put_login_attempt(&attempt).await.map_err(owned)?;
            finish_connected(f, &attempt, None, None, now).await?;
            let current = f.store.login_slot(user, &slot.provider).await?;
            if let Some(current) = current {
                let _ = write_slot(f, current.answered(None)).await;
            }
            tracing::info!(account_id = %id, user_id = %user, %since, "the lost start's account found: recorded, not signed in again");
            Ok(Some(LoginStep::Connected {
                account_id: id.clone(),
                provider: slot.provider.clone(),
            }))
        }
        _ => {
            let ids: Vec<_> = connected.iter().map(AccountId::as_str).collect();
            tracing::warn!(user_id = %user, provider = %slot.provider, candidates = ?ids, "several accounts may be a lost start's: the reconciliation reports them");
            Err(FlowError::Busy(
                "an earlier sign-in's outcome is still being settled; try again later".into(),
            ))
        }
    }
}

/// Writes the slot at the version read; the slot as now stored.
async fn write_slot(f: LoginPorts<'_>, slot: LoginSlot) -> Result<LoginSlot, FlowError> {
    if f.store.put_login_slot(&slot).await? {
        Ok(LoginSlot {
            version: slot.version + 1,
            ..slot
        })
    } else {
        Err(FlowError::Conflict(
            "another sign-in with this provider started at the same moment".into(),
        ))
    }
}

async fn save_profile(f: LoginPorts<'_>, caller: &Caller, now: DateTime<Utc>) {
    let Some(email) = &caller.email else {
        return;
    };
    let profile = UserProfile {
        user_id: caller.user_id.clone(),
        email: email.clone(),
        updated_at: now,
    };
    if let Err(error) = f.store.save_profile(&profile).await {
        tracing::warn!(user_id = %caller.user_id, %error, "owner's email not saved: the directory is asked when it is needed");
    }
}

fn owned(error: StoreError) -> FlowError {
    match error {
        StoreError::OwnedByAnotherUser => {
            FlowError::Conflict("this account is another user's sign-in".into())
        }
        other => FlowError::Store(other),
    }
}

fn refused_start(refusal: StartRefusal, provider: &Provider, now: DateTime<Utc>) -> FlowError {
    let name = provider.display_name();
    match refusal {
        StartRefusal::TooManyAttempts { retry_after } => FlowError::TooManyAttempts {
            detail: format!(
                "too many sign-ins to {name} in a short time: this protects your {name} account from being locked; try again in {} minutes",
                (retry_after.num_seconds() + 59) / 60
            ),
            retry_after: retry_after.num_seconds().max(1) as u64,
        },
        StartRefusal::AttemptWaiting {
            account_id,
            expires_at,
        } => FlowError::LoginWaiting {
            detail: format!(
                "a sign-in to {name} is already waiting for you (for {} more seconds): finish it, or let it expire",
                (expires_at - now).num_seconds().max(0)
            ),
            account_id,
        },
        StartRefusal::AnswerPending { retry_after } => FlowError::TooManyAttempts {
            detail: format!(
                "the last sign-in to {name} has not finished answering: try again in {} seconds",
                retry_after.num_seconds().max(1)
            ),
            retry_after: retry_after.num_seconds().max(1) as u64,
        },
        StartRefusal::CannotRenew => FlowError::InvalidRequest(
            "`renew` names no code of yours that can be renewed: start a new sign-in".into(),
        ),
    }
}

fn refusal(refusal: LoginRefusal, provider: &Provider) -> FlowError {
    let name = provider.display_name();
    let detail = match refusal {
        LoginRefusal::Credentials if *provider == Provider::Mail => {
            "the mail server did not accept this address and password".into()
        }
        LoginRefusal::Credentials => format!("{name} did not accept this username and password"),
        LoginRefusal::MailSettings => {
            "the mail server did not accept these server settings: check the IMAP and SMTP hosts and ports".into()
        }
        LoginRefusal::AppPassword => {
            "the mailbox exists but refused this password: it may need an app password".into()
        }
        LoginRefusal::Captcha => format!(
            "{name} asks this account for a captcha, which only the secure connection page can show: connect through it"
        ),
        LoginRefusal::MethodNotAvailable => format!(
            "{name} did not let this sign-in finish this way: connect through the secure connection page"
        ),
        LoginRefusal::AccountRestricted => {
            format!("{name} restricted this account: sort it out with {name}, then connect again")
        }
        LoginRefusal::WrongAccount => format!(
            "this is another {name} account than the one being reconnected: sign in with the same one"
        ),
        LoginRefusal::MultipleSessions => format!(
            "{name} allows this account one session: connect it with the browser extension instead"
        ),
    };
    FlowError::LoginRefused { refusal, detail }
}

/// Unipile's refusal of a sign-in in the user's words; anything else as Unipile's error.
fn login_error(error: UnipileError, provider: &Provider) -> FlowError {
    let UnipileError::Api {
        status, error_type, ..
    } = &error
    else {
        return FlowError::Unipile(error);
    };
    let kind = match error_type {
        UnipileErrorType::InvalidCredentials | UnipileErrorType::ExpiredCredentials => {
            LoginRefusal::Credentials
        }
        UnipileErrorType::InvalidImapConfiguration | UnipileErrorType::InvalidSmtpConfiguration => {
            LoginRefusal::MailSettings
        }
        UnipileErrorType::InvalidCredentialsButValidAccountImap => LoginRefusal::AppPassword,
        UnipileErrorType::CaptchaNotSupported => LoginRefusal::Captcha,
        UnipileErrorType::CheckpointError | UnipileErrorType::FeatureNotImplemented => {
            LoginRefusal::MethodNotAvailable
        }
        UnipileErrorType::AccountRestricted => LoginRefusal::AccountRestricted,
        UnipileErrorType::WrongAccount => LoginRefusal::WrongAccount,
        UnipileErrorType::MultipleSessions => LoginRefusal::MultipleSessions,
        _ if *status == 501 => LoginRefusal::MethodNotAvailable,
        _ => return FlowError::Unipile(error),
    };
    refusal(kind, provider)
}
