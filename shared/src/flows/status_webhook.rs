//! Unipile's account-status webhook: record the reported status (one conditional write that
//! also records the follow-up), then carry the follow-up out and clear it. A delivery that
//! fails part-way answers non-200; Unipile's retry finds the recorded follow-up and finishes it.

use super::FlowError;
use crate::domain::notification::{ReconnectLink, credentials_needed};
use crate::domain::transitions::{TransitionPolicy, plan};
use crate::domain::{Account, PendingAction, PendingKind, UnipileEvent};
use crate::ports::{AccountStore, Clock, Mailer, StatusRecord, Unipile};
use chrono::Duration;

/// How long one delivery holds a follow-up before another may take it over: longer than a
/// function runs, so two deliveries never do the same work at once.
pub const CLAIM_LEASE: Duration = Duration::seconds(60);

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub policy: TransitionPolicy,
    pub reconnect_link: ReconnectLink,
}

pub struct WebhookPorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    pub mailer: &'a dyn Mailer,
    pub clock: &'a dyn Clock,
}

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
    ports: WebhookPorts<'_>,
    settings: &WebhookSettings,
    event: &UnipileEvent,
) -> Result<WebhookOutcome, FlowError> {
    let now = ports.clock.now();
    let plan = plan(&event.status, &settings.policy);
    let pending = plan
        .action
        .map(|kind| PendingAction::new(kind, now, now + CLAIM_LEASE))
        .transpose()
        .map_err(FlowError::Internal)?;
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
        StatusRecord::Changed { previous, account } => {
            tracing::info!(
                account_id = %account.account_id,
                user_id = %account.user_id,
                from = %previous,
                to = %account.status,
                reported = %event.status,
                follow_up = account.pending.as_ref().map(|p| p.kind.as_str()),
                "account status changed"
            );
            if matches!(event.status, crate::domain::AccountStatus::Unknown(_)) {
                crate::metrics::count("UnknownAccountStatus");
            }
            // This delivery recorded the follow-up and holds its claim: do it now.
            if let Some(action) = account.pending.clone() {
                carry_out(&ports, settings, &account, &action).await?;
            }
            Ok(WebhookOutcome::Recorded)
        }
        StatusRecord::Unchanged(account) => {
            let Some(action) = account.pending.clone() else {
                tracing::debug!(account_id = %account.account_id, status = %event.status, "status unchanged");
                return Ok(WebhookOutcome::Unchanged);
            };
            if !ports
                .store
                .claim_pending(&account.account_id, &action.id, now, now + CLAIM_LEASE)
                .await?
            {
                // Someone else is on it; answering non-200 keeps Unipile retrying in case they fail.
                return Err(FlowError::Busy(format!(
                    "account {} has a follow-up in progress",
                    account.account_id
                )));
            }
            tracing::info!(account_id = %account.account_id, follow_up = action.kind.as_str(), "finishing a recorded follow-up");
            carry_out(&ports, settings, &account, &action).await?;
            Ok(WebhookOutcome::Completed)
        }
    }
}

/// Does the follow-up, then clears it. On failure the claim is let go and the error returned,
/// so the next delivery retries it.
async fn carry_out(
    ports: &WebhookPorts<'_>,
    settings: &WebhookSettings,
    account: &Account,
    action: &PendingAction,
) -> Result<(), FlowError> {
    let done = match action.kind {
        PendingKind::NotifyCredentials => notify_credentials(ports, settings, account)
            .await
            .map(|()| None),
        PendingKind::RestartAccount => restart(ports, account).await,
    };
    match done {
        Ok(restart_marker) => {
            ports
                .store
                .complete_pending(&account.account_id, &action.id, restart_marker)
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

async fn notify_credentials(
    ports: &WebhookPorts<'_>,
    settings: &WebhookSettings,
    account: &Account,
) -> Result<(), FlowError> {
    let Some(profile) = ports.store.profile_of(&account.user_id).await? else {
        tracing::warn!(account_id = %account.account_id, user_id = %account.user_id, "no email recorded for this user: cannot tell them to reconnect");
        crate::metrics::count("NoEmailForUser");
        return Ok(());
    };
    let email = credentials_needed(profile.email, account, &settings.reconnect_link);
    ports.mailer.send(&email).await.map_err(|error| {
        tracing::warn!(account_id = %account.account_id, user_id = %account.user_id, %error, "reconnect email not sent");
        FlowError::Mail(error)
    })?;
    tracing::info!(account_id = %account.account_id, user_id = %account.user_id, "reconnect email sent");
    Ok(())
}

/// One restart per outage: the marker it leaves is cleared only when the account is healthy.
async fn restart(
    ports: &WebhookPorts<'_>,
    account: &Account,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, FlowError> {
    if account.restart_attempted_at.is_some() {
        tracing::info!(account_id = %account.account_id, "already restarted during this outage");
        return Ok(None);
    }
    match ports.unipile.restart_account(&account.account_id).await {
        Ok(outcome) => {
            tracing::info!(account_id = %account.account_id, ?outcome, "account restart requested");
            Ok(Some(ports.clock.now()))
        }
        Err(error) if error.is_transient() => Err(FlowError::Unipile(error)),
        // Unipile will not restart it (unknown account, refused): a retry would not help.
        Err(error) => {
            tracing::warn!(account_id = %account.account_id, %error, "account restart refused");
            Ok(Some(ports.clock.now()))
        }
    }
}
