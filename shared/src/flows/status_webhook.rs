//! Unipile's account-status webhook. A v1 delivery carries no timestamp and is retried, so
//! it is taken as news that something changed, not as the status: it is confirmed with
//! Unipile before anything is recorded.
//!
//! One read tells whether it is news. When it is, and no earlier work is in progress, the
//! status Unipile confirms is recorded in one conditional write, with the "sending" mark of
//! the email it calls for, and the email is sent: one write and its side effect. Whatever
//! that path cannot finish at once (Unipile unreachable, the account changed meanwhile, a
//! restart or a cookie reconnect to start, earlier work in progress) goes through the outbox:
//! one conditional write records a follow-up to confirm it, the webhook answers 200 once that
//! is recorded, and the follow-up is tried at once; if that fails, the sweeper finishes it.

use super::FlowError;
use super::follow_ups::{
    EMAIL_SEND_TIME, FollowUpPorts, FollowUpSettings, Mailed, Resumed, carry_out, confirm,
    email_lost, new_action, owner_email, resume, send_marked,
};
use crate::domain::notification::credentials_needed;
use crate::domain::transitions::{StatusPlan, plan};
use crate::domain::truth;
use crate::domain::{
    Account, AccountStatus, Outage, PendingAction, PendingKind, UnipileEvent, retry_at,
};
use crate::ports::{Completion, ReportRecord};
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
        return unknown_account(event);
    };
    if seen.pending.is_none() {
        let blocked = seen.status == AccountStatus::Deleted && !reported.revives_deleted;
        if seen.status == reported.stored || blocked {
            tracing::debug!(account_id = %event.account_id, status = %event.status, "status unchanged");
            return Ok(WebhookOutcome::Unchanged);
        }
        if let Some(done) = confirmed_at_once(ports, settings, event, &seen, now).await? {
            return Ok(done);
        }
    }
    through_the_outbox(ports, settings, event, &reported, now).await
}

fn unknown_account(event: &UnipileEvent) -> Result<WebhookOutcome, FlowError> {
    // The connect callback confirms a new account's status with Unipile itself, so a status
    // that arrives before the account is recorded is not lost.
    tracing::info!(account_id = %event.account_id, status = %event.status, "webhook for an account we do not know");
    crate::metrics::count("UnknownAccountWebhook");
    Ok(WebhookOutcome::UnknownAccount)
}

/// News on an account with no work in progress: confirmed with Unipile, recorded in one
/// write with the mark of the email it calls for, and the email sent. `None` when this
/// cannot be finished here; the caller then goes through the outbox, which confirms again.
async fn confirmed_at_once(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    event: &UnipileEvent,
    seen: &Account,
    now: DateTime<Utc>,
) -> Result<Option<WebhookOutcome>, FlowError> {
    let id = &seen.account_id;
    if seen.cookie_reconnect.is_some() {
        // Its schedules and its cookie belong to the outbox's follow-ups.
        return Ok(None);
    }
    let truth = match confirm(ports.unipile, id, &event.status).await {
        Ok(truth) => truth,
        Err(error) => {
            tracing::warn!(account_id = %id, %error, "status not confirmed at once: recorded for a follow-up");
            return Ok(None);
        }
    };
    let settlement = truth::settle(
        &seen.status,
        seen.outage.is_some(),
        PendingKind::ConfirmStatus,
        &truth,
        &settings.policy,
    );
    let Some(record) = settlement.record else {
        if settlement.then.is_none() {
            tracing::info!(account_id = %id, reported = %event.status, stored = %seen.status, "Unipile does not confirm the delivery: nothing to change");
            return Ok(Some(WebhookOutcome::Unchanged));
        }
        return Ok(None);
    };
    // Only an email is done here; a restart or a cookie reconnect (its cookie, its
    // schedules) goes through the outbox.
    let email_owed = match settlement.then {
        None => false,
        Some(PendingKind::CredentialsLost) if seen.linkedin_member_id.is_none() => true,
        Some(_) => return Ok(None),
    };
    // One email per outage: an outage whose email went already (its status came back to
    // CREDENTIALS without ending) owes none.
    let emailed_already =
        seen.outage_id().is_some() && seen.emailed_outage.as_deref() == seen.outage_id();
    let email_owed = email_owed && !emailed_already;
    let to = if email_owed {
        match owner_email(ports, seen).await {
            Ok(to) => to,
            Err(_) => return Ok(None),
        }
    } else {
        None
    };
    // An email is marked only with time left to send it and record SES's answer; with less,
    // the outbox's follow-up sends it (the sweeper), rather than a mark that may be stranded.
    if to.is_some() && !crate::deadline::allows(EMAIL_SEND_TIME) {
        tracing::info!(account_id = %id, "too little time left to send the email now: recorded for a follow-up");
        return Ok(None);
    }
    let outage = Outage::begin(now).map_err(FlowError::Internal)?;
    // The email's follow-up, held by this delivery while it sends: if it stops before SES
    // answers, the lease runs out and the sweeper finds the mark unaccounted for.
    let held = match &to {
        Some(_) => Some(new_action(PendingKind::CredentialsLost, now)?),
        None => None,
    };
    let mark = held.as_ref().and_then(|h| h.claim.clone());
    let written = match ports
        .store
        .record_confirmed_status(seen, &record, &outage, held.as_ref(), now)
        .await
    {
        Ok(Some(written)) => written,
        Ok(None) => {
            tracing::info!(account_id = %id, "the account changed meanwhile: recorded for a follow-up");
            return Ok(None);
        }
        // The write may have been made though its answer was lost. With a mark, the mark
        // tells: read back, a mark of this claim means nothing was sent yet, so the email is
        // sent. Without one, Unipile's retry finds the status recorded, or records it.
        Err(error) => match ports.store.get_account(id).await {
            Ok(Some(stored)) if mark.is_some() && stored.emailed_by == mark => stored,
            _ => return Err(error.into()),
        },
    };
    tracing::info!(
        account_id = %id,
        user_id = %written.user_id,
        from = %seen.status,
        to = %written.status,
        told = %event.status,
        outage = written.outage_id(),
        "account status changed (confirmed with Unipile)"
    );
    crate::metrics::count_by("StatusChanged", "Status", written.status.as_str());
    if matches!(event.status, AccountStatus::Unknown(_)) {
        crate::metrics::count("UnknownAccountStatus");
    }
    match (to, mark) {
        (Some(to), Some(claim)) => {
            send_owed_email(ports, settings, &written, to, &claim, now).await
        }
        _ if email_owed => {
            crate::metrics::count("NoEmailForUser");
            Ok(Some(WebhookOutcome::Recorded))
        }
        _ => Ok(Some(WebhookOutcome::Recorded)),
    }
}

/// Sends the email whose mark `claim` just recorded. A refusal takes the mark back and owes
/// the email as a follow-up, due after the back-off, in one write; an answer that says
/// nothing keeps the mark (never sent twice).
async fn send_owed_email(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    to: crate::domain::Email,
    claim: &str,
    now: DateTime<Utc>,
) -> Result<Option<WebhookOutcome>, FlowError> {
    let id = &account.account_id;
    let email = credentials_needed(to, account, &settings.reconnect_link, &[]);
    let error = match send_marked(ports, account, &email).await {
        Ok(mailed) => {
            // What SES said, recorded as the held follow-up completes.
            let answered = ports.clock.now();
            let completion = match mailed {
                Mailed::Sent => Completion {
                    email_sent_at: Some(answered),
                    ..Completion::default()
                },
                Mailed::Uncertain => Completion {
                    email_uncertain_at: Some(answered),
                    ..Completion::default()
                },
            };
            complete_sent(ports, account, claim, &completion).await;
            return Ok(Some(WebhookOutcome::Recorded));
        }
        Err(error) => error,
    };
    let owed = PendingAction {
        claimed_until: Some(retry_at(1, now)),
        attempts: 1,
        ..PendingAction::due(PendingKind::CredentialsLost, now).map_err(FlowError::Internal)?
    };
    match ports.store.owe_email(id, claim, &owed).await {
        Ok(true) => {
            tracing::info!(account_id = %id, "the unsent email is owed for a follow-up");
            Ok(Some(WebhookOutcome::Deferred))
        }
        Ok(false) => {
            tracing::info!(account_id = %id, "the outage ended meanwhile: no email owed");
            Ok(Some(WebhookOutcome::Recorded))
        }
        Err(store) => {
            tracing::warn!(account_id = %id, error = %store, "the unsent email could not be owed");
            email_lost(
                account,
                "the mail service refused it and it could not be owed",
            );
            Err(FlowError::Mail(error))
        }
    }
}

/// Completes the email's held follow-up with SES's answer. Tried three times: failing it
/// leaves a sent email looking unaccounted for, which the sweeper would count as lost.
async fn complete_sent(
    ports: FollowUpPorts<'_>,
    account: &Account,
    claim: &str,
    completion: &Completion,
) {
    let id = &account.account_id;
    for attempt in 1..=3u32 {
        match ports.store.complete_pending(id, claim, completion).await {
            Ok(_) => return,
            Err(error) if attempt < 3 => {
                tracing::warn!(account_id = %id, attempt, %error, "the email's answer could not be recorded: retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            }
            Err(error) => {
                tracing::error!(account_id = %id, %error, "the email went but its answer could not be recorded: the sweeper will count it as possibly lost");
            }
        }
    }
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
