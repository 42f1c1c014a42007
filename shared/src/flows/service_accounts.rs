//! The team's backend asking about any account (`GET /service/accounts...`) and
//! disconnecting one (`DELETE /service/accounts/{id}`): authorized as a service, never as a
//! user, so no owner check, and every account in full (owner, outage, reconnect progress).

use super::FlowError;
use super::accounts::remove_account;
use crate::domain::events::Disconnector;
use crate::domain::reconnect::LAST_ATTEMPT;
use crate::domain::{Account, AccountId, AccountStatus, UserId};
use crate::ports::{AccountStore, Unipile};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// Accounts a page holds at most, and unless the caller asks for fewer.
pub const MAX_PAGE: usize = 100;

/// Which accounts `GET /service/accounts` lists: one filter, named in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountQuery {
    /// Every account of one user (a handful: one page, no cursor).
    Owner(UserId),
    /// Every account in one status, most recently changed first, page by page.
    Status {
        status: AccountStatus,
        cursor: Option<String>,
        limit: usize,
    },
}

impl AccountQuery {
    /// The query from the route's parameters (`user_id`, `status`, `cursor`, `limit`).
    pub fn parse(
        user_id: Option<&str>,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, FlowError> {
        let limit = match limit {
            None => MAX_PAGE,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    FlowError::InvalidRequest(format!("limit is a number from 1 to {MAX_PAGE}"))
                })?,
        };
        match (user_id, status) {
            (Some(user), None) => {
                if cursor.is_some() {
                    return Err(FlowError::InvalidRequest(
                        "a user's accounts come in one page: no cursor".into(),
                    ));
                }
                let user = UserId::parse(user)
                    .map_err(|e| FlowError::InvalidRequest(format!("user_id: {e}")))?;
                Ok(Self::Owner(user))
            }
            (None, Some(status)) => {
                // A status this version does not know is stored as Unipile sent it, so any
                // status word may be asked for; the known ones are what the error lists.
                let word = status.trim().to_ascii_uppercase();
                if word.is_empty()
                    || word.len() > 40
                    || !word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                {
                    return Err(FlowError::InvalidRequest(format!(
                        "status is a status word such as {}",
                        AccountStatus::KNOWN.join(", ")
                    )));
                }
                let status = AccountStatus::from(word.as_str());
                Ok(Self::Status {
                    status,
                    cursor: cursor.map(str::to_owned),
                    limit,
                })
            }
            _ => Err(FlowError::InvalidRequest(
                "name exactly one of user_id and status".into(),
            )),
        }
    }
}

/// One account as the team's backend sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceAccountView {
    pub account_id: String,
    pub user_id: String,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: String,
    pub created_on: String,
    pub last_update: String,
    /// The outage in progress: since when, and what was done about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage: Option<OutageView>,
    /// The cookie reconnect in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<ReconnectView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutageView {
    pub since: String,
    /// When the owner's email for this outage was accepted by the mail service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_emailed_at: Option<String>,
    /// When the one automatic restart of this outage was asked of Unipile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconnectView {
    /// The attempt due next, from 0 to `last_attempt`.
    pub next_attempt: u32,
    pub last_attempt: u32,
    pub next_attempt_at: String,
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<&Account> for ServiceAccountView {
    fn from(account: &Account) -> Self {
        Self {
            account_id: account.account_id.to_string(),
            user_id: account.user_id.to_string(),
            provider: account.account_type.to_string(),
            name: account.display_name.clone(),
            status: account.status.to_string(),
            created_on: time(account.created_on),
            last_update: time(account.last_update),
            outage: account.outage.as_ref().map(|outage| OutageView {
                since: time(outage.since),
                owner_emailed_at: account
                    .email_sent_at
                    .filter(|_| account.emailed_outage.as_deref() == Some(outage.id.as_str()))
                    .map(time),
                restarted_at: account.restart_attempted_at.map(time),
            }),
            reconnect: account.cookie_reconnect.as_ref().map(|r| ReconnectView {
                next_attempt: r.next_attempt,
                last_attempt: LAST_ATTEMPT,
                next_attempt_at: time(r.due_at(r.next_attempt)),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceAccountPage {
    pub accounts: Vec<ServiceAccountView>,
    /// Where the next page starts (`cursor=`); absent on the last page. A page may hold
    /// fewer accounts than asked, and still be followed by another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

pub async fn list(
    store: &dyn AccountStore,
    query: &AccountQuery,
) -> Result<ServiceAccountPage, FlowError> {
    match query {
        AccountQuery::Owner(user) => {
            let mut accounts = store.accounts_of(user).await?;
            Account::sort_newest_first(&mut accounts);
            Ok(ServiceAccountPage {
                accounts: accounts.iter().map(ServiceAccountView::from).collect(),
                next: None,
            })
        }
        AccountQuery::Status {
            status,
            cursor,
            limit,
        } => {
            let page = store
                .accounts_in_status(status, cursor.as_deref(), *limit)
                .await?;
            Ok(ServiceAccountPage {
                accounts: page.accounts.iter().map(ServiceAccountView::from).collect(),
                next: page.next,
            })
        }
    }
}

pub async fn get(
    store: &dyn AccountStore,
    account_id: &AccountId,
) -> Result<ServiceAccountView, FlowError> {
    store
        .get_account(account_id)
        .await?
        .map(|account| ServiceAccountView::from(&account))
        .ok_or_else(|| FlowError::NotFound(format!("no account {account_id}")))
}

/// Disconnects any account, as its owner's own disconnect does (deleted at Unipile first,
/// the extension's identity paused), its event saying the team did it.
pub async fn disconnect(
    store: &dyn AccountStore,
    unipile: &dyn Unipile,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), FlowError> {
    let account = store
        .get_account(account_id)
        .await?
        .ok_or_else(|| FlowError::NotFound(format!("no account {account_id}")))?;
    let owner = account.user_id.clone();
    remove_account(store, unipile, account, Disconnector::Service, now).await?;
    tracing::info!(account_id = %account_id, user_id = %owner, "account disconnected by the service");
    Ok(())
}
