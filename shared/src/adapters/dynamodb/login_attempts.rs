//! Custom-auth attempts on the accounts table (DESIGN.md's one table):
//!
//! - the slot, `USER#<user>` / `LOGIN#<provider>`: the starts in the limit's window, a start
//!   in flight, the attempt waiting; written only at the version read (optimistic locking), so
//!   two starts at once cannot both pass the limit;
//! - the attempt, `ATTEMPT#<account id>` / `ATTEMPT`: whose the account is from Unipile's
//!   first answer on, found by the status webhook and the reconciliation by the account id.
//!
//! Both vanish on their own ([`super::items::TTL_ATTRIBUTE`]): the slot a day after its last write, the
//! attempt a week after it expired.

use super::DynamoStore;
use super::expression::{corrupt, is_condition_failure, unavailable, value};
use super::items::{table_key as key, user_pk};
use crate::domain::login_attempt::{LoginAttempt, LoginSlot, WaitingLogin};
use crate::domain::{AccountId, Provider, UserId};
use crate::ports::{LoginAttempts, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub(super) const ATTEMPT_SK: &str = "ATTEMPT";
const SLOT_SK_PREFIX: &str = "LOGIN#";

/// How long a slot outlives its last write: past the longest limit window (a day).
const SLOT_KEPT: Duration = Duration::days(2);

pub(super) fn attempt_pk(account_id: &AccountId) -> String {
    format!("ATTEMPT#{account_id}")
}

fn slot_sk(provider: &Provider) -> String {
    format!("{SLOT_SK_PREFIX}{provider}")
}

#[derive(Debug, Serialize, Deserialize)]
struct SlotItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    user_id: UserId,
    login_provider: Provider,
    #[serde(default)]
    login_starts: Vec<DateTime<Utc>>,
    #[serde(default)]
    login_in_flight_since: Option<DateTime<Utc>>,
    #[serde(default)]
    login_waiting: Option<WaitingLogin>,
    version: u64,
    /// [`super::items::TTL_ATTRIBUTE`]: epoch seconds.
    #[serde(with = "chrono::serde::ts_seconds")]
    expires_at: DateTime<Utc>,
}

/// An attempt as the table holds it; also what the reconciliation's scan reads.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct AttemptItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    pub(super) account_id: AccountId,
    pub(super) user_id: UserId,
    pub(super) login_provider: Provider,
    #[serde(default)]
    pub(super) login_reconnect: bool,
    pub(super) login_started_at: DateTime<Utc>,
    pub(super) login_expires_at: DateTime<Utc>,
    #[serde(default)]
    pub(super) login_finished_at: Option<DateTime<Utc>>,
    /// [`super::items::TTL_ATTRIBUTE`]: epoch seconds.
    #[serde(with = "chrono::serde::ts_seconds")]
    pub(super) expires_at: DateTime<Utc>,
}

impl AttemptItem {
    fn of(attempt: &LoginAttempt) -> Self {
        Self {
            pk: attempt_pk(&attempt.account_id),
            sk: ATTEMPT_SK.to_owned(),
            account_id: attempt.account_id.clone(),
            user_id: attempt.user_id.clone(),
            login_provider: attempt.provider.clone(),
            login_reconnect: attempt.reconnect,
            login_started_at: attempt.started_at,
            login_expires_at: attempt.expires_at,
            login_finished_at: attempt.finished_at,
            expires_at: attempt.kept_until(),
        }
    }

    pub(super) fn attempt(self) -> LoginAttempt {
        LoginAttempt {
            account_id: self.account_id,
            user_id: self.user_id,
            provider: self.login_provider,
            reconnect: self.login_reconnect,
            started_at: self.login_started_at,
            expires_at: self.login_expires_at,
            finished_at: self.login_finished_at,
        }
    }
}

#[async_trait]
impl LoginAttempts for DynamoStore {
    async fn login_slot(
        &self,
        user: &UserId,
        provider: &Provider,
    ) -> Result<Option<LoginSlot>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user), slot_sk(provider))))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = found.item else {
            return Ok(None);
        };
        let item: SlotItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        Ok(Some(LoginSlot {
            user_id: item.user_id,
            provider: item.login_provider,
            starts: item.login_starts,
            in_flight_since: item.login_in_flight_since,
            waiting: item.login_waiting,
            version: item.version,
        }))
    }

    async fn put_login_slot(&self, slot: &LoginSlot) -> Result<bool, StoreError> {
        let item = SlotItem {
            pk: user_pk(&slot.user_id),
            sk: slot_sk(&slot.provider),
            user_id: slot.user_id.clone(),
            login_provider: slot.provider.clone(),
            login_starts: slot.starts.clone(),
            login_in_flight_since: slot.in_flight_since,
            login_waiting: slot.waiting.clone(),
            version: slot.version + 1,
            expires_at: Utc::now() + SLOT_KEPT,
        };
        let condition = if slot.version == 0 {
            "attribute_not_exists(PK)"
        } else {
            "version = :version"
        };
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            .condition_expression(condition);
        if slot.version != 0 {
            put = put.expression_attribute_values(":version", value(&slot.version)?);
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn put_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        let item = AttemptItem::of(attempt);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            // The same user may rewrite it (the attempt goes on); another may not.
            .condition_expression("attribute_not_exists(PK) OR user_id = :user")
            .expression_attribute_values(":user", value(&attempt.user_id)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Err(StoreError::OwnedByAnotherUser),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn login_attempt(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<LoginAttempt>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(attempt_pk(account_id), ATTEMPT_SK.to_owned())))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        found
            .item
            .map(|item| {
                serde_dynamo::from_item::<_, AttemptItem>(item)
                    .map(AttemptItem::attempt)
                    .map_err(corrupt)
            })
            .transpose()
    }
}
