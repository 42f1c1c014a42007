//! Unipile's `notify_url` call after a hosted-auth success: prove it is ours, confirm the
//! account with Unipile, then record it for the user the state token names.

use super::FlowError;
use crate::domain::{Account, AccountStatus, UnipileEvent};
use crate::http::StateKey;
use crate::ports::{AccountStore, Clock, ConnectedAccount, RetryScheduler, Unipile};

pub struct CallbackPorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    pub clock: &'a dyn Clock,
    /// Deletes the schedules of a cookie reconnect the connection ended.
    pub scheduler: &'a dyn RetryScheduler,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    Recorded(Box<Account>),
    /// A status we do not act on here (a failure status, if Unipile ever sends one).
    Ignored(AccountStatus),
}

pub async fn record_callback(
    ports: CallbackPorts<'_>,
    state_key: &StateKey,
    state: Option<&str>,
    body: &[u8],
) -> Result<CallbackOutcome, FlowError> {
    let now = ports.clock.now();
    // The token first: nothing of a request that is not ours is read any further.
    let state =
        state.ok_or_else(|| FlowError::Unauthenticated("the callback has no state".into()))?;
    let token = state_key
        .verify(state, now)
        .map_err(|e| FlowError::Unauthenticated(e.to_string()))?;
    let event = UnipileEvent::parse(body).map_err(|e| FlowError::InvalidRequest(e.to_string()))?;
    if event
        .name
        .as_deref()
        .is_some_and(|name| name != token.user_id.as_str())
    {
        return Err(FlowError::Unauthenticated(
            "`name` does not match the state token".into(),
        ));
    }
    if !event.status.is_connection_success() {
        tracing::info!(account_id = %event.account_id, user_id = %token.user_id, status = %event.status, "callback status ignored");
        return Ok(CallbackOutcome::Ignored(event.status));
    }
    // The callback is unsigned: only an account Unipile itself describes is recorded.
    let confirmed = ports
        .unipile
        .account(&event.account_id)
        .await
        .map_err(|error| {
            if error.is_not_found() {
                FlowError::NotFound(format!("Unipile has no account {}", event.account_id))
            } else {
                FlowError::Unipile(error)
            }
        })?;
    let connection = ConnectedAccount {
        account_id: confirmed.account_id,
        user_id: token.user_id,
        account_type: confirmed.account_type,
        display_name: confirmed.display_name,
        linkedin_member_id: None,
        // Replaced by the status Unipile reports: a notify is no proof of health.
        status: AccountStatus::Ok,
    };
    let account = super::confirmed_connection::record_confirmed(
        ports.store,
        ports.scheduler,
        &connection,
        &confirmed.source_statuses,
        now,
    )
    .await?;
    tracing::info!(
        account_id = %account.account_id,
        user_id = %account.user_id,
        account_type = %account.account_type,
        event = %event.status,
        status = %account.status,
        "account connected"
    );
    Ok(CallbackOutcome::Recorded(Box::new(account)))
}
