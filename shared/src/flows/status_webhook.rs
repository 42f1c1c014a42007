//! Unipile's account-status webhook: record the reported status (one conditional write that
//! also records the follow-up), then carry the follow-up out and clear it. A delivery that
//! fails part-way answers non-200; Unipile's retry finds the recorded follow-up and finishes it.

use super::FlowError;
use super::follow_ups::{FollowUpPorts, FollowUpSettings, carry_out, new_action, resume};
use crate::domain::transitions::plan;
use crate::domain::{AccountStatus, UnipileEvent};
use crate::ports::StatusRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Not one of ours.
    UnknownAccount,
    /// The status was recorded (and its follow-up done, if any).
    Recorded,
    /// Nothing to change, nothing left to do.
    Unchanged,
    /// Nothing to change, but a follow-up left by an earlier delivery was finished.
    Completed,
}

pub async fn handle_status_event(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    event: &UnipileEvent,
) -> Result<WebhookOutcome, FlowError> {
    let now = ports.clock.now();
    let plan = plan(&event.status, &settings.policy);
    let pending = plan.action.map(|kind| new_action(kind, now)).transpose()?;
    let record = ports
        .store
        .record_status(&event.account_id, &plan, pending.as_ref(), now)
        .await?;
    match record {
        StatusRecord::UnknownAccount => {
            tracing::info!(account_id = %event.account_id, status = %event.status, "webhook for an account we do not know");
            crate::metrics::count("UnknownAccountWebhook");
            Ok(WebhookOutcome::UnknownAccount)
        }
        StatusRecord::Changed {
            previous,
            ended_reconnect,
            account,
        } => {
            tracing::info!(
                account_id = %account.account_id,
                user_id = %account.user_id,
                from = %previous,
                to = %account.status,
                reported = %event.status,
                follow_up = account.pending.as_ref().map(|p| p.kind.as_str()),
                "account status changed"
            );
            if matches!(event.status, AccountStatus::Unknown(_)) {
                crate::metrics::count("UnknownAccountStatus");
            }
            // Healthy again mid-reconnect: the attempts left would skip themselves; deleting
            // them keeps the next outage's schedule names free.
            let cancelled = if ended_reconnect {
                ports.scheduler.cancel(&account.account_id, 0).await
            } else {
                Ok(())
            };
            if let Err(error) = cancelled {
                tracing::warn!(account_id = %account.account_id, %error, "could not delete the remaining reconnect schedules");
            }
            // This delivery recorded the follow-up and holds its claim: do it now.
            if let Some(action) = &account.pending {
                carry_out(ports, settings, &account, action).await?;
            }
            Ok(WebhookOutcome::Recorded)
        }
        StatusRecord::Unchanged(account) => {
            if resume(ports, settings, &account).await? {
                Ok(WebhookOutcome::Completed)
            } else {
                tracing::debug!(account_id = %account.account_id, status = %event.status, "status unchanged");
                Ok(WebhookOutcome::Unchanged)
            }
        }
    }
}
