//! `POST /extension/checkpoint`: the user's answer to the LinkedIn verification (Unipile's
//! checkpoint) that stopped the extension's connect or reconnect.
//!
//! A code goes to Unipile once (`POST /api/v1/accounts/checkpoint`); an approval in the
//! LinkedIn app has no code and is awaited: each call looks at the account at Unipile, and the
//! extension calls again every few seconds until the checkpoint expires.

use super::FlowError;
use super::cookie_login::login_result;
use super::cookie_sync::{CookieSyncPorts, record_account, record_reconnected, refuse_foreign};
use crate::domain::Caller;
use crate::domain::checkpoint::{CheckpointAnswer, WaitingCheckpoint};
use crate::domain::{AccountId, AccountStatus, CookieRecord, LinkedinMemberId};
use crate::ports::{CookieAuthOutcome, CookieResult, StoreError, UnipileError, UnipileErrorType};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// The login completed: a new account (`reconnect` false) or the same one reconnected.
    Done {
        account_id: AccountId,
        reconnect: bool,
    },
    /// Still waiting: for the approval in the app, or at the next step LinkedIn asks for.
    Waiting {
        account_id: AccountId,
        checkpoint: WaitingCheckpoint,
    },
}

pub async fn solve_checkpoint(
    f: CookieSyncPorts<'_>,
    caller: &Caller,
    member: &LinkedinMemberId,
    answer: CheckpointAnswer,
) -> Result<CheckpointOutcome, FlowError> {
    let now = f.clock.now();
    let user = &caller.user_id;
    let nothing_waits = || {
        FlowError::Conflict(format!(
            "no verification is waiting for LinkedIn member {member}"
        ))
    };
    let record = f
        .store
        .cookie(user, member)
        .await?
        .ok_or_else(nothing_waits)?;
    let (Some(waiting), Some(account_id)) = (
        record.waiting_checkpoint(),
        record.unipile_account_id.clone(),
    ) else {
        return Err(nothing_waits());
    };
    if waiting.is_expired(now) {
        return Err(expired(f, &record, now).await);
    }
    // The account is ours already when the login was a reconnect; one another user holds is
    // never this user's to finish.
    let reconnect = f.store.get_account(&account_id).await?;
    if reconnect.as_ref().is_some_and(|a| !a.is_owned_by(user)) {
        return Err(refuse_foreign(f, &record, now).await);
    }
    let outcome = match answer {
        CheckpointAnswer::AwaitApproval if waiting.kind.takes_code() => {
            return Err(FlowError::InvalidRequest(format!(
                "this verification ({}) needs the code LinkedIn gave the user",
                waiting.kind
            )));
        }
        CheckpointAnswer::AwaitApproval => match f.unipile.account(&account_id).await {
            Ok(found)
                if found
                    .source_statuses
                    .iter()
                    .all(|s| *s == AccountStatus::Ok) =>
            {
                Ok(CookieAuthOutcome::Connected(account_id.clone()))
            }
            // Not approved yet; an intent not yet an account may be unknown to Unipile.
            Ok(_) => {
                return Ok(CheckpointOutcome::Waiting {
                    account_id,
                    checkpoint: waiting,
                });
            }
            Err(error) if error.is_not_found() => {
                return Ok(CheckpointOutcome::Waiting {
                    account_id,
                    checkpoint: waiting,
                });
            }
            Err(error) => return Err(error.into()),
        },
        CheckpointAnswer::Code(code) => {
            let outcome = f.unipile.solve_checkpoint(&account_id, &code).await;
            tracing::info!(user_id = %user, linkedin_member_id = %member, account_id = %account_id, checkpoint = %waiting.kind, switched = code.switches_method(), solved = outcome.is_ok(), "checkpoint answered");
            outcome
        }
    };
    match outcome {
        Ok(CookieAuthOutcome::Connected(id)) => {
            let result = login_result(None, &Ok(CookieAuthOutcome::Connected(id.clone())), now);
            match f
                .store
                .record_cookie_result(user, member, &result, now)
                .await
            {
                // Another user's account: the write refused to name it on this record.
                Err(StoreError::OwnedByAnotherUser) => {
                    return Err(refuse_foreign(f, &record, now).await);
                }
                written => written?,
            }
            match reconnect {
                Some(account) => {
                    record_reconnected(f, &id, account.outage_id(), now).await?;
                    tracing::info!(account_id = %id, user_id = %user, "account reconnected after its checkpoint");
                    Ok(CheckpointOutcome::Done {
                        account_id: id,
                        reconnect: true,
                    })
                }
                None => {
                    record_account(f, caller, &record, &id, now).await?;
                    Ok(CheckpointOutcome::Done {
                        account_id: id,
                        reconnect: false,
                    })
                }
            }
        }
        Ok(CookieAuthOutcome::Checkpoint {
            account_id: next_account,
            checkpoint_type,
        }) => {
            let next_account = next_account.unwrap_or(account_id);
            let result = login_result(
                Some(&next_account),
                &Ok(CookieAuthOutcome::Checkpoint {
                    account_id: Some(next_account.clone()),
                    checkpoint_type: checkpoint_type.clone(),
                }),
                now,
            );
            f.store
                .record_cookie_result(user, member, &result, now)
                .await?;
            Ok(CheckpointOutcome::Waiting {
                account_id: next_account,
                checkpoint: WaitingCheckpoint::opened(checkpoint_type.into(), now),
            })
        }
        Err(UnipileError::Api {
            error_type: UnipileErrorType::InvalidCheckpointSolution,
            ..
        }) => Err(FlowError::WrongCode(
            "LinkedIn did not accept this code: check it and try again".into(),
        )),
        Err(UnipileError::Api {
            error_type: UnipileErrorType::AuthenticationIntentError,
            ..
        }) => Err(expired(f, &record, now).await),
        Err(error) => Err(error.into()),
    }
}

/// The login is over. Its checkpoint stays on the record, marked expired now (Unipile may end
/// an intent before our estimate of its window): the next sync sees an expired checkpoint and
/// starts a new sign-in.
async fn expired(f: CookieSyncPorts<'_>, record: &CookieRecord, now: DateTime<Utc>) -> FlowError {
    let ended = CookieResult {
        checkpoint: record.checkpoint.clone(),
        checkpoint_expires_at: Some(now),
        last_error: record.last_error.clone(),
        ..CookieResult::default()
    };
    let still_open = record
        .waiting_checkpoint()
        .is_some_and(|w| !w.is_expired(now));
    if still_open
        && let Err(error) = f
            .store
            .record_cookie_result(&record.user_id, &record.member_id, &ended, now)
            .await
    {
        tracing::warn!(user_id = %record.user_id, linkedin_member_id = %record.member_id, %error, "an ended checkpoint could not be marked: it expires on its own");
    }
    FlowError::Expired(
        "the verification expired: the extension's next sync starts a new sign-in".into(),
    )
}
