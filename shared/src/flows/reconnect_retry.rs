//! One scheduled cookie-reconnect attempt (`reconnect-retry`, invoked by EventBridge
//! Scheduler with `{"account_id","attempt"}`). Safe to run twice: a repeated or late attempt
//! finds the reconnect already moved on and does nothing.

use super::FlowError;
use super::cookie_login::{record_login_result, stored_login};
use super::follow_ups::{FollowUpPorts, FollowUpSettings, carry_out, new_action, resume};
use crate::domain::reconnect::{AfterFailure, ReconnectAttempt, after_failure};
use crate::domain::{AccountId, AccountStatus, PendingKind};
use crate::ports::{Cipher, CipherError, CookieAuthOutcome, ReconnectStep};

#[derive(Clone, Copy)]
pub struct ReconnectPorts<'a> {
    pub follow_ups: FollowUpPorts<'a>,
    pub cipher: &'a dyn Cipher,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Nothing to do: no such account, an attempt already handled, or the account recovered.
    Skipped(&'static str),
    Reconnected,
    /// This attempt failed; the next one is scheduled.
    Retrying {
        next_attempt: u32,
    },
    /// The last attempt failed: the owner was emailed.
    Exhausted,
    /// LinkedIn asked for a verification: the owner was emailed, retries stopped.
    NeedsUser {
        checkpoint: String,
    },
}

pub async fn run_attempt(
    ports: ReconnectPorts<'_>,
    settings: &FollowUpSettings,
    input: &ReconnectAttempt,
) -> Result<AttemptOutcome, FlowError> {
    let f = ports.follow_ups;
    let now = f.clock.now();
    let id = &input.account_id;
    let Some(mut account) = f.store.get_account(id).await? else {
        return Ok(AttemptOutcome::Skipped("no such account"));
    };
    // An earlier run's follow-up (its email failed) is finished before anything else; doing
    // it may have changed the account (a reconnect started or ended), so read it again.
    if resume(f, settings, &account).await? {
        let Some(fresh) = f.store.get_account(id).await? else {
            return Ok(AttemptOutcome::Skipped("no such account"));
        };
        account = fresh;
    }
    let Some(state) = account
        .cookie_reconnect
        .clone()
        .filter(|s| s.next_attempt == input.attempt)
    else {
        tracing::info!(account_id = %id, attempt = input.attempt, "stale reconnect attempt skipped");
        return Ok(AttemptOutcome::Skipped("stale attempt"));
    };
    if account.status != AccountStatus::Credentials {
        let step = ReconnectStep::Finished {
            reconnected: false,
            pending: None,
        };
        f.store
            .advance_reconnect(id, input.attempt, &step, now)
            .await?;
        cancel_later_attempts(f, id, input.attempt).await;
        tracing::info!(account_id = %id, status = %account.status, "account recovered: reconnect stopped");
        return Ok(AttemptOutcome::Skipped(
            "account no longer needs reconnecting",
        ));
    }

    let outcome = match f.store.cookie(&account.user_id, &state.member_id).await? {
        Some(record) => {
            match stored_login(ports.cipher, &record).await {
                Ok(login) => {
                    let outcome = f.unipile.reconnect_linkedin(id, &login).await;
                    record_login_result(f.store, &record, Some(id), &outcome, now).await?;
                    Some(outcome)
                }
                // The key service is down: this attempt is retried as it is.
                Err(CipherError::Unavailable(reason)) => return Err(FlowError::Internal(reason)),
                // A cookie that no longer opens is no cookie: the attempt fails like a refused one.
                Err(CipherError::Rejected(reason)) => {
                    tracing::error!(account_id = %id, %reason, "the stored cookie does not open");
                    None
                }
            }
        }
        None => None,
    };
    match outcome {
        Some(Ok(CookieAuthOutcome::Connected(_))) => {
            let step = ReconnectStep::Finished {
                reconnected: true,
                pending: None,
            };
            f.store
                .advance_reconnect(id, input.attempt, &step, now)
                .await?;
            cancel_later_attempts(f, id, input.attempt).await;
            tracing::info!(account_id = %id, user_id = %account.user_id, attempt = input.attempt, "account reconnected with the extension's cookie");
            Ok(AttemptOutcome::Reconnected)
        }
        Some(Ok(CookieAuthOutcome::Checkpoint {
            checkpoint_type, ..
        })) => {
            tracing::info!(account_id = %id, attempt = input.attempt, checkpoint = %checkpoint_type, "reconnect needs the user");
            finish_with(ports, settings, input, PendingKind::CookieCheckpoint).await?;
            Ok(AttemptOutcome::NeedsUser {
                checkpoint: checkpoint_type,
            })
        }
        failed => {
            if let Some(Err(error)) = &failed {
                tracing::warn!(account_id = %id, attempt = input.attempt, %error, "cookie reconnect failed");
            }
            match after_failure(&state, input.attempt) {
                AfterFailure::Retry { attempt, at } => {
                    // Scheduled before the state moves on, so a failure here loses nothing: the
                    // invocation is retried, and scheduling again is harmless (same name).
                    let next = ReconnectAttempt {
                        account_id: id.clone(),
                        attempt,
                    };
                    f.scheduler
                        .schedule(&next, at)
                        .await
                        .map_err(|e| FlowError::Internal(e.to_string()))?;
                    f.store
                        .advance_reconnect(id, input.attempt, &ReconnectStep::Next(attempt), now)
                        .await?;
                    tracing::info!(account_id = %id, next_attempt = attempt, %at, "next reconnect attempt scheduled");
                    Ok(AttemptOutcome::Retrying {
                        next_attempt: attempt,
                    })
                }
                AfterFailure::Exhausted => {
                    finish_with(ports, settings, input, PendingKind::CookieReconnectFailed).await?;
                    Ok(AttemptOutcome::Exhausted)
                }
            }
        }
    }
}

/// Ends the reconnect with a follow-up for the owner, recorded in the same write, then done.
async fn finish_with(
    ports: ReconnectPorts<'_>,
    settings: &FollowUpSettings,
    input: &ReconnectAttempt,
    kind: PendingKind,
) -> Result<(), FlowError> {
    let f = ports.follow_ups;
    let now = f.clock.now();
    let action = new_action(kind, now)?;
    let step = ReconnectStep::Finished {
        reconnected: false,
        pending: Some(action.clone()),
    };
    if !f
        .store
        .advance_reconnect(&input.account_id, input.attempt, &step, now)
        .await?
    {
        return Ok(());
    }
    cancel_later_attempts(f, &input.account_id, input.attempt).await;
    let Some(account) = f.store.get_account(&input.account_id).await? else {
        return Ok(());
    };
    carry_out(f, settings, &account, &action).await
}

/// Later attempts would skip themselves anyway; deleting them is tidiness, not correctness.
async fn cancel_later_attempts(f: FollowUpPorts<'_>, id: &AccountId, attempt: u32) {
    if let Err(error) = f.scheduler.cancel(id, attempt + 1).await {
        tracing::warn!(account_id = %id, %error, "could not delete later reconnect schedules");
    }
}
