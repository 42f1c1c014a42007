//! Logging in to LinkedIn through Unipile with the extension's cookies, and keeping the cookie
//! record's Unipile side up to date with what happened.

use super::FlowError;
use crate::domain::checkpoint::CHECKPOINT_WINDOW;
use crate::domain::{AccountId, AccountStatus, CookieRecord};
use crate::ports::{
    AccountStore, Cipher, CipherError, CookieAuthOutcome, CookieLogin, CookieResult, SealedCookies,
    UnipileError,
};
use chrono::{DateTime, Utc};

/// The login stored in `record`, opened: the cookies exist in clear only in this value.
pub async fn stored_login(
    cipher: &dyn Cipher,
    record: &CookieRecord,
) -> Result<CookieLogin, CipherError> {
    let sealed = SealedCookies {
        li_at: record.li_at.clone(),
        li_a: record.li_a.clone(),
    };
    let cookies = cipher
        .open_cookies(&sealed, &record.user_id, &record.member_id)
        .await?;
    Ok(CookieLogin {
        cookies,
        user_agent: record.user_agent.clone(),
        country: record.country.clone(),
        ip: record.ip,
    })
}

/// Records on the cookie record what Unipile answered to a login.
pub async fn record_login_result(
    store: &dyn AccountStore,
    record: &CookieRecord,
    account_id: Option<&AccountId>,
    outcome: &Result<CookieAuthOutcome, UnipileError>,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let result = login_result(account_id, outcome, now);
    store
        .record_cookie_result(&record.user_id, &record.member_id, &result, now)
        .await?;
    Ok(())
}

/// What a login's answer (at `now`) writes on the cookie record (`account_id`: the account a
/// reconnect was for).
pub fn login_result(
    account_id: Option<&AccountId>,
    outcome: &Result<CookieAuthOutcome, UnipileError>,
    now: DateTime<Utc>,
) -> CookieResult {
    match outcome {
        Ok(CookieAuthOutcome::Connected(id)) => CookieResult {
            unipile_account_id: Some(id.clone()),
            unipile_status: Some(AccountStatus::Ok),
            ..CookieResult::default()
        },
        Ok(CookieAuthOutcome::Checkpoint {
            account_id: checkpoint_account,
            checkpoint_type,
        }) => CookieResult {
            unipile_account_id: checkpoint_account.clone().or_else(|| account_id.cloned()),
            checkpoint: Some(checkpoint_type.clone()),
            checkpoint_expires_at: Some(now + CHECKPOINT_WINDOW),
            ..CookieResult::default()
        },
        Err(error) => CookieResult {
            last_error: Some(match error {
                UnipileError::Api {
                    status, error_type, ..
                } => format!("{status} {error_type}"),
                UnipileError::Transport(_) => "unreachable".to_owned(),
                UnipileError::UnexpectedResponse(_) => "unexpected response".to_owned(),
                UnipileError::OutOfTime(_) => "not started: out of time".to_owned(),
            }),
            ..CookieResult::default()
        },
    }
}
