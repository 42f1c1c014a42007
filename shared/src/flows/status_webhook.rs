//! Unipile's account-status webhook. A v1 delivery carries no timestamp and is retried, so
//! it is taken as news that something changed, not as the status: it is confirmed with
//! Unipile before anything is recorded.
//!
//! One read tells whether it is news. When it is, and no earlier work is in progress, it goes
//! the one settle path ([`super::settle`]): the status Unipile confirms is recorded in one
//! conditional write with the follow-up it calls for, held by this delivery (with the
//! "sending" mark of its email when that can go in the same write), and the follow-up done:
//! one write, its side effect, and the write that completes it. Whatever cannot start that
//! way (Unipile unreachable, the account changed meanwhile, earlier work in progress) goes
//! through the outbox: one conditional write records a follow-up to confirm it, the webhook
//! answers 200 once that is recorded, and the follow-up is tried at once on the same settle
//! path; if that fails, the sweeper finishes it.

use super::FlowError;
use super::custom_login::{LoginPorts, settle_from_webhook};
use super::follow_ups::{FollowUpPorts, FollowUpSettings, new_action};
use super::settle::{Holder, Settling, Unsettled, settle};
use super::settle::{Resumed, carry_out, resume};
use crate::domain::transitions::{StatusPlan, plan};
use crate::domain::{AccountStatus, PendingKind, UnipileEvent};
use crate::ports::ReportRecord;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Not one of ours.
    UnknownAccount,
    /// Recorded, confirmed with Unipile, and its follow-up done.
    Recorded,
    /// Recorded; confirming or doing it failed, so it is left for the sweeper.
    Deferred,
    /// Nothing to change, nothing left to do.
    Unchanged,
    /// Nothing to record, but a follow-up left by an earlier delivery was finished.
    Completed,
}

pub async fn handle_status_event(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    event: &UnipileEvent,
) -> Result<WebhookOutcome, FlowError> {
    let now = ports.clock.now();
    let reported = plan(&event.status, &settings.policy);
    let Some(seen) = ports.store.get_account(&event.account_id).await? else {
        return new_account(ports, event).await;
    };
    if seen.pending.is_none() {
        let blocked = seen.status == AccountStatus::Deleted && !reported.revives_deleted;
        if seen.status == reported.stored || blocked {
            tracing::debug!(account_id = %event.account_id, status = %event.status, "status unchanged");
            return Ok(WebhookOutcome::Unchanged);
        }
        // News on an account with no work in progress: confirmed with Unipile and recorded,
        // with what it calls for, on the one settle path.
        match settle(ports, settings, &seen, Holder::Delivery, &event.status).await {
            Ok(Settling::Unchanged) => return Ok(WebhookOutcome::Unchanged),
            Ok(Settling::Done) => {
                if matches!(event.status, AccountStatus::Unknown(_)) {
                    crate::metrics::count("UnknownAccountStatus");
                }
                return Ok(WebhookOutcome::Recorded);
            }
            // Recorded, and what it calls for left for the sweeper.
            Err(Unsettled::Unfinished(error)) => {
                tracing::warn!(account_id = %event.account_id, %error, "change recorded, its follow-up not finished: the sweeper will finish it");
                return Ok(WebhookOutcome::Deferred);
            }
            Err(Unsettled::Unconfirmed(error)) => {
                tracing::warn!(account_id = %event.account_id, %error, "status not confirmed at once: recorded for a follow-up");
            }
            Ok(Settling::Moved) => {
                tracing::info!(account_id = %event.account_id, "the account changed meanwhile: recorded for a follow-up");
            }
        }
    }
    through_the_outbox(ports, settings, event, &reported, now).await
}

/// An account the table does not hold: one a custom sign-in is making is recorded for its user
/// when Unipile confirms it connected; anything else is not ours (yet).
async fn new_account(
    ports: FollowUpPorts<'_>,
    event: &UnipileEvent,
) -> Result<WebhookOutcome, FlowError> {
    let login = LoginPorts {
        store: ports.store,
        unipile: ports.unipile,
        scheduler: Some(ports.scheduler),
        clock: ports.clock,
    };
    if event.status.is_connection_success() && settle_from_webhook(login, &event.account_id).await?
    {
        return Ok(WebhookOutcome::Recorded);
    }
    unknown_account(event)
}

fn unknown_account(event: &UnipileEvent) -> Result<WebhookOutcome, FlowError> {
    // The connect callback confirms a new account's status with Unipile itself, so a status
    // that arrives before the account is recorded is not lost.
    tracing::info!(account_id = %event.account_id, status = %event.status, "webhook for an account we do not know");
    crate::metrics::count("UnknownAccountWebhook");
    Ok(WebhookOutcome::UnknownAccount)
}

/// The outbox path: the delivery recorded as a follow-up (with its claim), then tried.
async fn through_the_outbox(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    event: &UnipileEvent,
    reported: &StatusPlan,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, FlowError> {
    let mut action = new_action(PendingKind::ConfirmStatus, now)?;
    action.reported = Some(event.status.clone());
    let record = ports
        .store
        .record_report(&event.account_id, reported, &action, now)
        .await?;
    match record {
        ReportRecord::UnknownAccount => unknown_account(event),
        ReportRecord::Recorded(account) => {
            tracing::info!(
                account_id = %account.account_id,
                user_id = %account.user_id,
                stored = %account.status,
                reported = %event.status,
                "status reported: confirming it with Unipile"
            );
            if matches!(event.status, AccountStatus::Unknown(_)) {
                crate::metrics::count("UnknownAccountStatus");
            }
            // This delivery recorded the follow-up and holds its claim: try it now.
            match carry_out(ports, settings, &account, &action).await {
                Ok(()) => Ok(WebhookOutcome::Recorded),
                Err(error) => {
                    tracing::warn!(account_id = %account.account_id, %error, "follow-up recorded but not finished: the sweeper will finish it");
                    Ok(WebhookOutcome::Deferred)
                }
            }
        }
        ReportRecord::NotRecorded(account) => {
            let blocked = account.status == AccountStatus::Deleted && !reported.revives_deleted;
            let news = account.status != reported.stored && !blocked;
            match resume(ports, settings, &account).await {
                Ok(Resumed::Done) => Ok(WebhookOutcome::Completed),
                // News we could not record because earlier work is in progress, possibly on
                // Unipile's word from before this change: answering non-200 makes Unipile
                // deliver it again once that work is done.
                Ok(Resumed::Held | Resumed::Abandoned) if news => Err(FlowError::Busy(format!(
                    "account {} has a follow-up in progress",
                    account.account_id
                ))),
                Ok(_) => {
                    tracing::debug!(account_id = %account.account_id, status = %event.status, "status unchanged");
                    Ok(WebhookOutcome::Unchanged)
                }
                // The earlier follow-up failed again; it asks Unipile afresh when it runs, so
                // this delivery's news is not lost with it.
                Err(error) => {
                    tracing::warn!(account_id = %account.account_id, %error, "earlier follow-up failed again: the sweeper will finish it");
                    Ok(WebhookOutcome::Deferred)
                }
            }
        }
    }
}
