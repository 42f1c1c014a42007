//! Unipile's account-status webhook. A v1 delivery carries no timestamp and is retried, so
//! it is taken as news that something changed, not as the status: one conditional write
//! records a follow-up to confirm it with Unipile, and the webhook answers 200 once that is
//! recorded. It then tries the follow-up at once (ask Unipile, record what it says, do what
//! that calls for); if that fails, the follow-up stays recorded and the sweeper finishes it.

use super::FlowError;
use super::follow_ups::{FollowUpPorts, FollowUpSettings, Resumed, carry_out, new_action, resume};
use crate::domain::transitions::plan;
use crate::domain::{AccountStatus, PendingKind, UnipileEvent};
use crate::ports::ReportRecord;

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
    let mut action = new_action(PendingKind::ConfirmStatus, now)?;
    action.reported = Some(event.status.clone());
    let record = ports
        .store
        .record_report(&event.account_id, &reported, &action, now)
        .await?;
    match record {
        ReportRecord::UnknownAccount => {
            // The connect callback confirms a new account's status with Unipile itself, so a
            // status that arrives before the account is recorded is not lost.
            tracing::info!(account_id = %event.account_id, status = %event.status, "webhook for an account we do not know");
            crate::metrics::count("UnknownAccountWebhook");
            Ok(WebhookOutcome::UnknownAccount)
        }
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
