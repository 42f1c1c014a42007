//! Unipile's `notify_url` call after a hosted-auth success: prove it is ours and this link's
//! (user, link type, reconnected account), confirm the account with Unipile, spend the link's
//! single use on a new account, then record the account for the user the state token names.

use super::FlowError;
use crate::domain::state_token::StateKey;
use crate::domain::{Account, AccountStatus, UnipileEvent};
use crate::ports::{
    AccountStore, Clock, ConnectedAccount, RetryScheduler, STATE_KEPT_AFTER_EXPIRY, StateUse,
    Unipile,
};

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
    // Unipile always echoes the link's `name` (contract §3): a body without it (the webhook
    // shape, or a hand-made one) is not this link's callback.
    match event.name.as_deref() {
        Some(name) if name == token.user_id.as_str() => {}
        Some(_) => {
            return Err(FlowError::Unauthenticated(
                "`name` does not match the state token".into(),
            ));
        }
        None => {
            return Err(FlowError::Unauthenticated(
                "the callback has no `name`".into(),
            ));
        }
    }
    if !event.status.is_connection_success() {
        // Nothing is written and the token stays unspent, so the link's real outcome can
        // still arrive.
        tracing::info!(account_id = %event.account_id, user_id = %token.user_id, status = %event.status, "callback status ignored");
        return Ok(CallbackOutcome::Ignored(event.status));
    }
    token
        .purpose
        .check_callback(&event.status, &event.account_id)
        .map_err(|mismatch| {
            tracing::warn!(account_id = %event.account_id, user_id = %token.user_id, link = token.purpose.as_str(), status = %event.status, reason = %mismatch, "callback refused: not this link's");
            FlowError::Unauthenticated(mismatch.to_string())
        })?;
    // Another user's account is refused before anything is spent or asked: a callback naming
    // it must neither write nor use up the link, whose own account may still arrive. It is
    // answered as not found, as every route answers for another user's account, so that the
    // answer does not tell that it exists. (The recording's conditional write still decides
    // when two callbacks race.)
    let before = ports.store.get_account(&event.account_id).await?;
    if before
        .as_ref()
        .is_some_and(|a| !a.is_owned_by(&token.user_id))
    {
        tracing::warn!(account_id = %event.account_id, user_id = %token.user_id, "callback refused: the account is another user's");
        return Err(not_this_users(&event.account_id));
    }
    let spent = StateUse {
        nonce: token.nonce,
        account_id: event.account_id.clone(),
        user_id: token.user_id.clone(),
        expires_at: token.expires_at + STATE_KEPT_AFTER_EXPIRY,
    };
    // The callback is unsigned: only an account Unipile itself describes is recorded.
    let confirmed = match ports.unipile.account(&event.account_id).await {
        Ok(confirmed) => confirmed,
        Err(error) if error.is_not_found() => {
            return Err(FlowError::NotFound(format!(
                "Unipile has no account {}",
                event.account_id
            )));
        }
        Err(error) if before.is_some() => return Err(FlowError::Unipile(error)),
        Err(error) => {
            // Unipile did not say: the account may well exist, billed, and if Unipile never
            // retries this call nothing else would tie it to this user. The token is spent
            // on it now, so the reconciliation can record it once Unipile lists it (it
            // records only accounts Unipile lists, so a made-up id records nothing).
            match ports.store.consume_state(&spent).await {
                Ok(true) => {
                    tracing::warn!(account_id = %event.account_id, user_id = %token.user_id, %error, "account not confirmed: Unipile failed; the link is spent on it for the reconciliation");
                }
                Ok(false) => {
                    return Err(FlowError::Conflict(
                        "this link was already used for another account".into(),
                    ));
                }
                Err(store) => {
                    tracing::error!(account_id = %event.account_id, user_id = %token.user_id, %error, store_error = %store, "account neither confirmed nor attributable: Unipile and the table failed");
                }
            }
            return Err(FlowError::Unipile(error));
        }
    };
    // The link's single use binds one new account to its user. Spent only now, with
    // everything checked, so a refused call leaves the link usable. The same account may
    // spend it again: a retry after the recording below failed must still complete, and if
    // the recording fails, this record is what lets the reconciliation record the account for
    // its user. An account already recorded as this user's binds nothing new (Unipile
    // retrying its delivery, a reconnect): it is recorded again without a spend, so a replay
    // is the recording's one idempotent write.
    if before.is_none() && !ports.store.consume_state(&spent).await? {
        // 409 rather than 401: the token is genuine, but its single use went to another
        // account; a replayed notify URL, answered without writing anything.
        tracing::warn!(account_id = %event.account_id, user_id = %token.user_id, "callback refused: the link was already used for another account");
        return Err(FlowError::Conflict(
            "this link was already used for another account".into(),
        ));
    }
    // The account checked above (bound, confirmed, spent) is the one recorded.
    let connection = ConnectedAccount {
        account_id: event.account_id.clone(),
        user_id: token.user_id,
        account_type: confirmed.account_type,
        display_name: confirmed.display_name,
        linkedin_member_id: None,
        // Kept so that the extension's sync of the same member links to this account rather
        // than connecting (and billing) a second one.
        linkedin_profile_id: confirmed.linkedin_profile_id,
        // Replaced by the status Unipile reports: a notify is no proof of health.
        status: AccountStatus::Ok,
    };
    let recorded = super::confirmed_connection::record_confirmed(
        ports.store,
        Some(ports.scheduler),
        &connection,
        before.as_ref(),
        &confirmed.source_statuses,
        crate::domain::events::How::Hosted,
        now,
    )
    .await;
    let account = match recorded {
        Err(FlowError::Conflict(_)) => return Err(not_this_users(&event.account_id)),
        other => other?,
    };
    tracing::info!(
        account_id = %account.account_id,
        user_id = %account.user_id,
        account_type = %account.account_type,
        event = %event.status,
        status = %account.status,
        "account connected"
    );
    crate::metrics::count("AccountsConnected");
    Ok(CallbackOutcome::Recorded(Box::new(account)))
}

/// The answer for an account recorded for another user: the same as for one that does not
/// exist.
fn not_this_users(account_id: &crate::domain::AccountId) -> FlowError {
    FlowError::NotFound(format!("no account {account_id} for this user"))
}
