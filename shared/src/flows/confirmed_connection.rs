//! Recording a connection the connect callback confirmed with Unipile, as Unipile describes it.
//!
//! The callback already asked Unipile for the account (`GET /api/v1/accounts/{id}`), so it
//! records the status Unipile reports, not "OK because a notify arrived": a late or repeated
//! notify must not wipe an outage (the email owed, the restart marker, a cookie reconnect and
//! its schedules) while the account still needs its user, and a status that arrived before
//! the account was known (the webhook drops those) is picked up here.

use super::FlowError;
use crate::domain::events::How;
use crate::domain::transitions::{TransitionPolicy, plan};
use crate::domain::truth::Truth;
use crate::domain::{Account, AccountStatus, Outage, PendingAction};
use crate::ports::{AccountStore, ConnectedAccount, RetryScheduler, StoreError};
use chrono::{DateTime, Utc};

/// Records `connection` with the status Unipile's `sources` give it, `before` being the
/// account as the caller just read it (the recording's condition keeps its owner, whatever
/// happened since). New news that calls for a follow-up (a CREDENTIALS email, a restart)
/// records it due now, for the sweeper: the callback itself sends nothing. A healthy account
/// ends any outage and its schedules.
pub async fn record_confirmed(
    store: &dyn AccountStore,
    scheduler: Option<&dyn RetryScheduler>,
    connection: &ConnectedAccount,
    before: Option<&Account>,
    sources: &[AccountStatus],
    how: How,
    now: DateTime<Utc>,
) -> Result<Account, FlowError> {
    let id = &connection.account_id;
    // No sources: Unipile did not say how the account is. Keep what we know; a new account
    // that Unipile just connected is taken as OK.
    let known = before.map_or(AccountStatus::Ok, |a| a.status.clone());
    let reported = match Truth::from_sources(sources, &known) {
        Truth::Gone => AccountStatus::Deleted,
        Truth::Status(status) => status,
    };
    // The sweeper decides with the deployment's own policy when it does the follow-up.
    let confirmed = plan(&reported, &TransitionPolicy::default());
    let news = before.map(|a| &a.status) != Some(&confirmed.stored);
    let follow_up = match confirmed.action {
        Some(kind) if news => Some(PendingAction::due(kind, now).map_err(FlowError::Internal)?),
        _ => None,
    };
    let recorded = ConnectedAccount {
        status: confirmed.stored.clone(),
        ..connection.clone()
    };
    let outage = Outage::begin(now).map_err(FlowError::Internal)?;
    let account = store
        .record_confirmed_connection(&recorded, &outage, follow_up.as_ref(), how, now)
        .await
        .map_err(|error| match error {
            StoreError::OwnedByAnotherUser => {
                FlowError::Conflict(format!("account {id} belongs to another user"))
            }
            other => FlowError::Store(other),
        })?;
    if let Some(follow_up) = &follow_up {
        tracing::info!(account_id = %id, user_id = %account.user_id, status = %account.status, follow_up = follow_up.kind.as_str(), "connection confirmed unwell: follow-up recorded for the sweeper");
    }
    let ended_reconnect =
        before.filter(|a| confirmed.ends_outage() && a.cookie_reconnect.is_some());
    // Without a scheduler here, the schedules end themselves: each attempt finds the
    // account's reconnect over and stops.
    if let (Some(before), Some(scheduler)) = (ended_reconnect, scheduler) {
        super::follow_ups::cancel_schedules(scheduler, id, before.outage_id(), 0).await;
    }
    Ok(account)
}
