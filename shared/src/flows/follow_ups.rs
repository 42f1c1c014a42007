//! Carrying out the follow-up recorded on an account (the outbox): whoever finds it, the
//! webhook that recorded it, a retried delivery, or the reconnect function, does it the same
//! way, then clears it only if it is still the same one.

use super::FlowError;
use crate::deps::Deps;
use crate::domain::notification::{Detail, ReconnectLink, credentials_needed};
use crate::domain::reconnect::{ReconnectAttempt, ReconnectState, cookie_is_stale};
use crate::domain::transitions::TransitionPolicy;
use crate::domain::{Account, LinkedinMemberId, PendingAction, PendingKind, Provider};
use crate::ports::{AccountStore, Clock, Completion, Mailer, RetryScheduler, Unipile};
use chrono::{DateTime, Duration, Utc};

/// How long one caller holds a follow-up before another may take it over: longer than a
/// function runs, so two callers never do the same work at once.
pub const CLAIM_LEASE: Duration = Duration::seconds(60);

#[derive(Debug, Clone)]
pub struct FollowUpSettings {
    pub policy: TransitionPolicy,
    pub reconnect_link: ReconnectLink,
    /// A newest cookie older than this means the extension stopped syncing.
    pub stale_cookie_after: Duration,
}

#[derive(Clone, Copy)]
pub struct FollowUpPorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    pub mailer: &'a dyn Mailer,
    pub scheduler: &'a dyn RetryScheduler,
    pub clock: &'a dyn Clock,
}

impl<'a> FollowUpPorts<'a> {
    /// The shared ports plus the two only follow-ups need.
    pub fn new(deps: &'a Deps, mailer: &'a dyn Mailer, scheduler: &'a dyn RetryScheduler) -> Self {
        Self {
            store: deps.store.as_ref(),
            unipile: deps.unipile.as_ref(),
            mailer,
            scheduler,
            clock: deps.clock.as_ref(),
        }
    }
}

/// A new follow-up, held by the caller that records it.
pub fn new_action(kind: PendingKind, now: DateTime<Utc>) -> Result<PendingAction, FlowError> {
    PendingAction::new(kind, now, now + CLAIM_LEASE).map_err(FlowError::Internal)
}

/// Finishes a follow-up an earlier caller left. `Ok(false)`: there was none.
pub async fn resume(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
) -> Result<bool, FlowError> {
    let Some(action) = &account.pending else {
        return Ok(false);
    };
    let now = ports.clock.now();
    if !ports
        .store
        .claim_pending(&account.account_id, &action.id, now, now + CLAIM_LEASE)
        .await?
    {
        // Someone else is on it; answering non-200 keeps the sender retrying in case they fail.
        return Err(FlowError::Busy(format!(
            "account {} has a follow-up in progress",
            account.account_id
        )));
    }
    tracing::info!(account_id = %account.account_id, follow_up = action.kind.as_str(), "finishing a recorded follow-up");
    carry_out(ports, settings, account, action).await?;
    Ok(true)
}

/// Does the follow-up, then clears it. On failure the claim is let go and the error returned,
/// so the next caller retries it.
pub async fn carry_out(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    action: &PendingAction,
) -> Result<(), FlowError> {
    let done = perform(ports, settings, account, action.kind).await;
    match done {
        Ok(completion) => {
            ports
                .store
                .complete_pending(&account.account_id, &action.id, &completion)
                .await?;
            Ok(())
        }
        Err(error) => {
            if let Err(release) = ports
                .store
                .release_pending(&account.account_id, &action.id)
                .await
            {
                tracing::warn!(account_id = %account.account_id, error = %release, "could not release a follow-up claim");
            }
            Err(error)
        }
    }
}

/// The follow-up's side effect, and what it leaves on the account. Every failure comes out
/// here, so that the caller always lets go of its claim.
async fn perform(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    kind: PendingKind,
) -> Result<Completion, FlowError> {
    match kind {
        PendingKind::CredentialsLost => credentials_lost(ports, settings, account).await,
        PendingKind::RestartAccount => restart(ports, account).await,
        PendingKind::CookieReconnectFailed => {
            let mut details = vec![Detail::ReconnectFailed];
            details.extend(stale_extension(ports, settings, account).await?);
            email_owner(ports, settings, account, &details).await?;
            Ok(Completion::default())
        }
        PendingKind::CookieCheckpoint => {
            let kind = checkpoint_of(ports, account)
                .await?
                .unwrap_or_else(|| "verification".to_owned());
            email_owner(ports, settings, account, &[Detail::Checkpoint { kind }]).await?;
            Ok(Completion::default())
        }
    }
}

/// A LinkedIn account the extension connected, with its cookie still on file, is reconnected
/// with that cookie first; any other account's owner is emailed at once.
async fn credentials_lost(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
) -> Result<Completion, FlowError> {
    if let Some(member) = cookie_member(ports, account).await? {
        let state = ReconnectState::start(member, ports.clock.now());
        let first = ReconnectAttempt {
            account_id: account.account_id.clone(),
            attempt: 0,
        };
        ports
            .scheduler
            .schedule(&first, state.due_at(0))
            .await
            .map_err(|e| FlowError::Internal(e.to_string()))?;
        tracing::info!(account_id = %account.account_id, user_id = %account.user_id, at = %state.due_at(0), "cookie reconnect started");
        return Ok(Completion {
            reconnect: Some(state),
            ..Completion::default()
        });
    }
    email_owner(ports, settings, account, &[])
        .await
        .map(|()| Completion::default())
}

/// The LinkedIn member whose cookie can reconnect this account: a LinkedIn account the
/// extension connected, whose cookie record is still there.
async fn cookie_member(
    ports: FollowUpPorts<'_>,
    account: &Account,
) -> Result<Option<LinkedinMemberId>, FlowError> {
    let (Provider::Linkedin, Some(member)) = (&account.account_type, &account.linkedin_member_id)
    else {
        return Ok(None);
    };
    let on_file = ports
        .store
        .cookie(&account.user_id, member)
        .await?
        .is_some();
    Ok(on_file.then(|| member.clone()))
}

async fn stale_extension(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
) -> Result<Option<Detail>, FlowError> {
    let Some(member) = &account.linkedin_member_id else {
        return Ok(None);
    };
    let Some(record) = ports.store.cookie(&account.user_id, member).await? else {
        return Ok(None);
    };
    let stale = cookie_is_stale(
        record.date_last_cookie,
        ports.clock.now(),
        settings.stale_cookie_after,
    );
    Ok(stale.then_some(Detail::ExtensionStale {
        since: record.date_last_cookie,
    }))
}

async fn checkpoint_of(
    ports: FollowUpPorts<'_>,
    account: &Account,
) -> Result<Option<String>, FlowError> {
    let Some(member) = &account.linkedin_member_id else {
        return Ok(None);
    };
    Ok(ports
        .store
        .cookie(&account.user_id, member)
        .await?
        .and_then(|r| r.checkpoint))
}

async fn email_owner(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    details: &[Detail],
) -> Result<(), FlowError> {
    let Some(profile) = ports.store.profile_of(&account.user_id).await? else {
        tracing::warn!(account_id = %account.account_id, user_id = %account.user_id, "no email recorded for this user: cannot tell them to reconnect");
        crate::metrics::count("NoEmailForUser");
        return Ok(());
    };
    let email = credentials_needed(profile.email, account, &settings.reconnect_link, details);
    ports.mailer.send(&email).await.map_err(|error| {
        tracing::warn!(account_id = %account.account_id, user_id = %account.user_id, %error, "reconnect email not sent");
        FlowError::Mail(error)
    })?;
    tracing::info!(account_id = %account.account_id, user_id = %account.user_id, "reconnect email sent");
    Ok(())
}

/// One restart per outage: the marker it leaves is cleared only when the account is healthy.
async fn restart(ports: FollowUpPorts<'_>, account: &Account) -> Result<Completion, FlowError> {
    if account.restart_attempted_at.is_some() {
        tracing::info!(account_id = %account.account_id, "already restarted during this outage");
        return Ok(Completion::default());
    }
    let marker = Completion {
        restart_attempted_at: Some(ports.clock.now()),
        ..Completion::default()
    };
    match ports.unipile.restart_account(&account.account_id).await {
        Ok(outcome) => {
            tracing::info!(account_id = %account.account_id, ?outcome, "account restart requested");
            Ok(marker)
        }
        Err(error) if error.is_transient() => Err(FlowError::Unipile(error)),
        // Unipile will not restart it (unknown account, refused): a retry would not help.
        Err(error) => {
            tracing::warn!(account_id = %account.account_id, %error, "account restart refused");
            Ok(marker)
        }
    }
}
