//! One scheduled cookie-reconnect attempt (`reconnect-retry`, invoked by EventBridge
//! Scheduler with `{"account_id","outage","attempt"}`). Safe to run twice: a repeated or late
//! attempt, or one of an outage that is over, finds the reconnect moved on and does nothing.
//! Before it logs in or ends the reconnect, it asks Unipile how the account is: the stored
//! status may come from a late delivery.

use super::FlowError;
use super::cookie_login::{record_login_result, stored_login};
use super::follow_ups::{FollowUpPorts, FollowUpSettings, cancel_schedules, confirm, new_action};
use super::settle::{Resumed, carry_out, resume};
use crate::domain::events::{Fact, How, RecordedFact};
use crate::domain::reconnect::{AfterFailure, ReconnectAttempt, after_failure};
use crate::domain::transitions::plan;
use crate::domain::truth::Truth;
use crate::domain::{AccountStatus, Outage, PendingKind};
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
    let outcome = attempt(ports, settings, input).await?;
    let label = match &outcome {
        AttemptOutcome::Skipped(_) => "skipped",
        AttemptOutcome::Reconnected => "reconnected",
        AttemptOutcome::Retrying { .. } => "retrying",
        AttemptOutcome::Exhausted => "exhausted",
        AttemptOutcome::NeedsUser { .. } => "checkpoint",
    };
    crate::metrics::count_by("ReconnectAttempt", "Outcome", label);
    if outcome == AttemptOutcome::Exhausted {
        crate::metrics::count("ReconnectsExhausted");
    }
    Ok(outcome)
}

async fn attempt(
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
    // An earlier run's follow-up (its email failed) is finished first; doing it may have
    // changed the account (a reconnect started or ended), so read it again. If it fails again
    // it stays recorded for the sweeper: this attempt goes on.
    match resume(f, settings, &account).await {
        Ok(Resumed::Done) => {
            let Some(fresh) = f.store.get_account(id).await? else {
                return Ok(AttemptOutcome::Skipped("no such account"));
            };
            account = fresh;
        }
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(account_id = %id, %error, "earlier follow-up failed again: left for the sweeper");
        }
    }
    let outage = account.outage_id().map(str::to_owned);
    if !input.is_for(outage.as_deref()) {
        tracing::info!(account_id = %id, attempt = input.attempt, attempt_outage = input.outage.as_deref(), outage = outage.as_deref(), "reconnect attempt of another outage skipped");
        return Ok(AttemptOutcome::Skipped("another outage"));
    }
    let Some(state) = account
        .cookie_reconnect
        .clone()
        .filter(|s| s.next_attempt == input.attempt)
    else {
        tracing::info!(account_id = %id, attempt = input.attempt, "stale reconnect attempt skipped");
        return Ok(AttemptOutcome::Skipped("stale attempt"));
    };
    // Unipile's word, not the stored status: a late delivery may have written that.
    let truth = match confirm(f.unipile, id, &account.status).await {
        Ok(truth) => Some(truth),
        Err(error) => {
            tracing::warn!(account_id = %id, attempt = input.attempt, %error, "Unipile did not say how the account is: this attempt counts as failed");
            None
        }
    };
    match &truth {
        Some(Truth::Gone) => {
            let gone = plan(&AccountStatus::Deleted, &settings.policy);
            let outage_candidate = Outage::begin(now).map_err(FlowError::Internal)?;
            f.store
                .record_status(id, &gone, &outage_candidate, How::Unipile, now)
                .await?;
            cancel_schedules(f.scheduler, id, outage.as_deref(), input.attempt + 1).await;
            tracing::info!(account_id = %id, "Unipile no longer has the account: reconnect stopped");
            return Ok(AttemptOutcome::Skipped("account gone"));
        }
        Some(Truth::Status(status)) if plan(status, &settings.policy).healthy => {
            let step = ReconnectStep::Finished {
                reconnected: true,
                pending: None,
                fact: Some(Box::new(back_to_health(How::Unipile, now)?)),
            };
            f.store
                .advance_reconnect(id, input.attempt, &step, now)
                .await?;
            cancel_schedules(f.scheduler, id, outage.as_deref(), input.attempt + 1).await;
            tracing::info!(account_id = %id, status = %status, "Unipile says the account recovered: reconnect stopped");
            return Ok(AttemptOutcome::Skipped(
                "account no longer needs reconnecting",
            ));
        }
        _ => {}
    }
    let needs_cookie = matches!(&truth, Some(Truth::Status(AccountStatus::Credentials)));
    if !needs_cookie && truth.is_some() {
        // CONNECTING, ERROR...: not the user's credentials, not healthy either. The reconnect
        // waits for the next attempt rather than ending on a passing status.
        tracing::info!(account_id = %id, attempt = input.attempt, unipile = ?truth, "Unipile does not report CREDENTIALS now: no login this attempt");
    }

    let record = if needs_cookie {
        // An expired cookie is none, even before the table's TTL sweep removes it.
        f.store
            .cookie(&account.user_id, &state.member_id)
            .await?
            .filter(|r| r.is_live(now))
    } else {
        None
    };
    let outcome = match record {
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
                fact: Some(Box::new(back_to_health(How::Cookie, now)?)),
            };
            f.store
                .advance_reconnect(id, input.attempt, &step, now)
                .await?;
            cancel_schedules(f.scheduler, id, outage.as_deref(), input.attempt + 1).await;
            tracing::info!(account_id = %id, user_id = %account.user_id, attempt = input.attempt, "account reconnected with the extension's cookie");
            Ok(AttemptOutcome::Reconnected)
        }
        Some(Ok(CookieAuthOutcome::Checkpoint {
            checkpoint_type, ..
        })) => {
            tracing::info!(account_id = %id, attempt = input.attempt, checkpoint = %checkpoint_type, "reconnect needs the user");
            finish_with(
                ports,
                settings,
                input,
                outage.as_deref(),
                PendingKind::CookieCheckpoint,
            )
            .await?;
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
                        outage: outage.clone(),
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
                    finish_with(
                        ports,
                        settings,
                        input,
                        outage.as_deref(),
                        PendingKind::CookieReconnectFailed,
                    )
                    .await?;
                    Ok(AttemptOutcome::Exhausted)
                }
            }
        }
    }
}

/// What [`give_up`] did with an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiveUpOutcome {
    /// The reconnect ended and the owner is told to reconnect, as when every attempt failed.
    OwnerTold,
    /// The reconnect had moved on (recovered, another outage, a later attempt ran, account
    /// gone): nobody was waiting on this attempt.
    NothingWaiting(&'static str),
}

/// Ends a reconnect at `input` without trying it: the operator's answer to an attempt that
/// cannot be run (it died in the dead-letter queue and keeps failing). The owner gets the same
/// follow-up as when the last attempt fails, so the outage is never left without a word.
pub async fn give_up(
    ports: ReconnectPorts<'_>,
    settings: &FollowUpSettings,
    input: &ReconnectAttempt,
) -> Result<GiveUpOutcome, FlowError> {
    let Some(account) = ports
        .follow_ups
        .store
        .get_account(&input.account_id)
        .await?
    else {
        return Ok(GiveUpOutcome::NothingWaiting("no such account"));
    };
    let outage = account.outage_id().map(str::to_owned);
    if !input.is_for(outage.as_deref()) {
        return Ok(GiveUpOutcome::NothingWaiting("another outage"));
    }
    if account
        .cookie_reconnect
        .as_ref()
        .is_none_or(|s| s.next_attempt != input.attempt)
    {
        return Ok(GiveUpOutcome::NothingWaiting("stale attempt"));
    }
    let ended = finish_with(
        ports,
        settings,
        input,
        outage.as_deref(),
        PendingKind::CookieReconnectFailed,
    )
    .await?;
    if !ended {
        return Ok(GiveUpOutcome::NothingWaiting("stale attempt"));
    }
    tracing::info!(account_id = %input.account_id, attempt = input.attempt, "reconnect ended by the operator: owner told");
    Ok(GiveUpOutcome::OwnerTold)
}

/// The fact of an account healthy again (`how`), as a reconnect's end records it.
fn back_to_health(how: How, now: chrono::DateTime<chrono::Utc>) -> Result<RecordedFact, FlowError> {
    RecordedFact::new(Fact::Status { how }, now).map_err(FlowError::Internal)
}

/// Ends the reconnect with a follow-up for the owner, recorded in the same write, then tries
/// it; if that fails, it stays recorded for the sweeper.
async fn finish_with(
    ports: ReconnectPorts<'_>,
    settings: &FollowUpSettings,
    input: &ReconnectAttempt,
    outage: Option<&str>,
    kind: PendingKind,
) -> Result<bool, FlowError> {
    let f = ports.follow_ups;
    let now = f.clock.now();
    let action = new_action(kind, now)?;
    let exhausted =
        RecordedFact::new(Fact::ReconnectExhausted, now).map_err(FlowError::Internal)?;
    let step = ReconnectStep::Finished {
        reconnected: false,
        pending: Some(action.clone()),
        fact: Some(Box::new(exhausted)),
    };
    if !f
        .store
        .advance_reconnect(&input.account_id, input.attempt, &step, now)
        .await?
    {
        return Ok(false);
    }
    cancel_schedules(f.scheduler, &input.account_id, outage, input.attempt + 1).await;
    let Some(account) = f.store.get_account(&input.account_id).await? else {
        return Ok(true);
    };
    if let Err(error) = carry_out(f, settings, &account, &action).await {
        tracing::warn!(account_id = %input.account_id, follow_up = kind.as_str(), %error, "follow-up recorded but not finished: the sweeper will finish it");
    }
    Ok(true)
}
