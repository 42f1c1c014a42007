//! `GET /accounts` and `DELETE /accounts/{id}` for the signed-in user.

use super::FlowError;
use crate::domain::events::{Disconnector, Fact, RecordedFact};
use crate::domain::{Account, AccountId, UserId};
use crate::ports::{AccountStore, Disconnection, StoreError, Unipile};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// One account as the landing page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub account_id: String,
    #[serde(rename = "type")]
    pub account_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: String,
    pub last_update: String,
    pub created_on: String,
}

impl From<&Account> for AccountView {
    fn from(account: &Account) -> Self {
        Self {
            account_id: account.account_id.to_string(),
            account_type: account.account_type.to_string(),
            name: account.display_name.clone(),
            status: account.status.to_string(),
            last_update: account
                .last_update
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            created_on: account
                .created_on
                .to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountList {
    pub accounts: Vec<AccountView>,
}

pub async fn list_accounts(
    store: &dyn AccountStore,
    user: &UserId,
) -> Result<AccountList, FlowError> {
    let mut accounts = store.accounts_of(user).await?;
    Account::sort_newest_first(&mut accounts);
    Ok(AccountList {
        accounts: accounts.iter().map(AccountView::from).collect(),
    })
}

/// Deletes at Unipile first, then here: if a later step fails, a retry finds the account
/// still listed, Unipile answers "not found" (a success), and the rest is done.
///
/// An account the extension connected (it has a LinkedIn member id) pauses that identity, its
/// cookie deleted in the same write, before the row goes: disconnecting means the extension's
/// next sync connects nothing, until the user turns syncing back on.
pub async fn disconnect_account(
    store: &dyn AccountStore,
    unipile: &dyn Unipile,
    user: &UserId,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let Some(account) = store
        .get_account(account_id)
        .await?
        .filter(|account| account.is_owned_by(user))
    else {
        return Err(FlowError::NotFound(format!(
            "no account {account_id} for this user"
        )));
    };
    remove_account(store, unipile, account, Disconnector::User, now).await?;
    tracing::info!(account_id = %account_id, user_id = %user, "account disconnected");
    Ok(())
}

/// The disconnection itself, whoever asked (`by`): deleted at Unipile, the extension's
/// identity paused, then the account removed here with its fact.
pub(super) async fn remove_account(
    store: &dyn AccountStore,
    unipile: &dyn Unipile,
    account: Account,
    by: Disconnector,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let account_id = account.account_id.clone();
    let owner = account.user_id.clone();
    unipile.delete_account(&account_id).await?;
    if let Some(member) = &account.linkedin_member_id {
        store.pause_identity(&owner, member, now).await?;
        tracing::info!(account_id = %account_id, user_id = %owner, linkedin_member_id = %member, "the extension's identity paused with its account");
    }
    record_disconnection(store, account, by, now)
        .await
        .map_err(|error| match error {
            // Taken by another user meanwhile: not the account that was asked for any more.
            FlowError::Store(StoreError::OwnedByAnotherUser) => {
                FlowError::NotFound(format!("no account {account_id} for this user"))
            }
            other => other,
        })
}

/// Removes the account from the table with the fact of its disconnection (`by`), in one
/// write against the account as read: a change in between (a status written, a fact
/// recorded) makes it read the account again, a few times.
pub async fn record_disconnection(
    store: &dyn AccountStore,
    mut account: Account,
    by: Disconnector,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let fact = RecordedFact::new(Fact::Disconnected { by }, now).map_err(FlowError::Internal)?;
    for _ in 0..DISCONNECT_TRIES {
        match store.disconnect(&account, &fact).await? {
            Disconnection::Done(..) | Disconnection::Absent => return Ok(()),
            Disconnection::Changed => match store.get_account(&account.account_id).await? {
                Some(fresh) => account = fresh,
                None => return Ok(()),
            },
        }
    }
    Err(FlowError::Busy(format!(
        "account {} kept changing while it was disconnected: try again",
        account.account_id
    )))
}

/// Reads of an account a disconnection makes at most while the account keeps changing.
const DISCONNECT_TRIES: usize = 3;
