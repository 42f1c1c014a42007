//! The account store on one DynamoDB table, keyed as DESIGN.md says: the status webhook knows
//! only the account id, so an account is `ACCOUNT#<id>` / `ACCOUNT`, and GSI1 lists a user's.

use crate::domain::transitions::StatusPlan;
use crate::domain::{Account, AccountId, AccountStatus, Email, PendingAction, Provider, UserId};
use crate::ports::{AccountStore, ConnectedAccount, StatusRecord, StoreError, UserProfile};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ReturnValue, ScalarAttributeType,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const GSI1: &str = "GSI1";
const ACCOUNT_SK: &str = "ACCOUNT";
const PROFILE_SK: &str = "PROFILE";

fn account_pk(id: &AccountId) -> String {
    format!("ACCOUNT#{id}")
}

fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

#[derive(Debug, Serialize, Deserialize)]
struct AccountItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    account_id: AccountId,
    user_id: UserId,
    account_type: Provider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    status: AccountStatus,
    last_update: DateTime<Utc>,
    created_on: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<PendingAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restart_attempted_at: Option<DateTime<Utc>>,
}

impl From<AccountItem> for Account {
    fn from(item: AccountItem) -> Self {
        Self {
            account_id: item.account_id,
            user_id: item.user_id,
            account_type: item.account_type,
            display_name: item.display_name,
            status: item.status,
            last_update: item.last_update,
            created_on: item.created_on,
            pending: item.pending,
            restart_attempted_at: item.restart_attempted_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ProfileItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    user_id: UserId,
    email: Email,
    updated_at: DateTime<Utc>,
}

/// The [`AccountStore`] on DynamoDB. The client is built once at cold start and shared.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string())
}

fn is_condition_failure<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ConditionFailure,
{
    error
        .as_service_error()
        .is_some_and(ConditionFailure::is_condition_failure)
}

/// The "conditional check failed" answer of each DynamoDB write.
trait ConditionFailure {
    fn is_condition_failure(&self) -> bool;
}

impl ConditionFailure for aws_sdk_dynamodb::operation::update_item::UpdateItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionFailure for aws_sdk_dynamodb::operation::delete_item::DeleteItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

fn corrupt(error: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

fn value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(corrupt)
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn account_key(id: &AccountId) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("PK".to_owned(), AttributeValue::S(account_pk(id))),
            ("SK".to_owned(), AttributeValue::S(ACCOUNT_SK.to_owned())),
        ])
    }
}

#[async_trait]
impl AccountStore for DynamoStore {
    async fn get_account(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item
            .map(|item| serde_dynamo::from_item::<_, AccountItem>(item).map(Account::from))
            .transpose()
            .map_err(corrupt)
    }

    async fn record_connection(
        &self,
        connection: &ConnectedAccount,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(&connection.account_id)))
            .update_expression(
                "SET account_id = :id, user_id = :user, account_type = :type, display_name = :name, #status = :status, \
                 last_update = :now, created_on = if_not_exists(created_on, :now), GSI1PK = :gsi1pk \
                 REMOVE pending, restart_attempted_at",
            )
            // Ownership never moves: a connection for an account stored under another user
            // writes nothing.
            .condition_expression("attribute_not_exists(PK) OR user_id = :user")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", value(&connection.account_id)?)
            .expression_attribute_values(":user", value(&connection.user_id)?)
            .expression_attribute_values(":type", value(&connection.account_type)?)
            .expression_attribute_values(
                ":name",
                connection.display_name.as_ref().map_or(Ok(AttributeValue::Null(true)), value)?,
            )
            .expression_attribute_values(":status", value(&connection.status)?)
            .expression_attribute_values(":now", value(&now)?)
            .expression_attribute_values(":gsi1pk", AttributeValue::S(user_pk(&connection.user_id)))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| {
                    StoreError::Corrupt("UpdateItem returned no attributes".into())
                })?;
                serde_dynamo::from_item::<_, AccountItem>(item)
                    .map(Account::from)
                    .map_err(corrupt)
            }
            Err(error) if is_condition_failure(&error) => Err(StoreError::OwnedByAnotherUser),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn accounts_of(&self, user: &UserId) -> Result<Vec<Account>, StoreError> {
        let mut accounts = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(user_pk(user)))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                let item: AccountItem = serde_dynamo::from_item(item).map_err(corrupt)?;
                accounts.push(Account::from(item));
            }
        }
        Ok(accounts)
    }

    async fn delete_account(
        &self,
        account_id: &AccountId,
        owner: &UserId,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .condition_expression("attribute_not_exists(PK) OR user_id = :user")
            .expression_attribute_values(":user", value(owner)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Err(StoreError::OwnedByAnotherUser),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn record_status(
        &self,
        account_id: &AccountId,
        plan: &StatusPlan,
        pending: Option<&PendingAction>,
        now: DateTime<Utc>,
    ) -> Result<StatusRecord, StoreError> {
        let mut set = vec!["#status = :status", "last_update = :now"];
        let mut remove = Vec::new();
        match pending {
            Some(_) => set.push("pending = :pending"),
            None => remove.push("pending"),
        }
        if plan.healthy {
            remove.push("restart_attempted_at");
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let mut condition = "attribute_exists(PK) AND #status <> :status".to_owned();
        if !plan.revives_deleted {
            condition.push_str(" AND #status <> :deleted");
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", value(&plan.stored)?)
            .expression_attribute_values(":now", value(&now)?)
            .return_values(ReturnValue::AllOld)
            // A delivery that changes nothing still learns the stored item (pending work
            // included) from this one call.
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            );
        if let Some(pending) = pending {
            request = request.expression_attribute_values(":pending", value(pending)?);
        }
        if !plan.revives_deleted {
            request =
                request.expression_attribute_values(":deleted", value(&AccountStatus::Deleted)?);
        }
        match request.send().await {
            Ok(output) => {
                let item = output
                    .attributes
                    .ok_or_else(|| StoreError::Corrupt("UpdateItem returned no old item".into()))?;
                let before = Account::from(
                    serde_dynamo::from_item::<_, AccountItem>(item).map_err(corrupt)?,
                );
                let previous = before.status.clone();
                let account = before.with_status(plan, pending.cloned(), now);
                Ok(StatusRecord::Changed { previous, account })
            }
            Err(error) if is_condition_failure(&error) => {
                let stored = match error.into_service_error() {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) => e.item,
                    _ => None,
                };
                match stored {
                    None => Ok(StatusRecord::UnknownAccount),
                    Some(item) => Ok(StatusRecord::Unchanged(Account::from(
                        serde_dynamo::from_item::<_, AccountItem>(item).map_err(corrupt)?,
                    ))),
                }
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn claim_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .update_expression("SET pending.claimed_until = :until")
            .condition_expression(
                "pending.id = :id AND (attribute_not_exists(pending.claimed_until) OR pending.claimed_until <= :now)",
            )
            .expression_attribute_values(":id", AttributeValue::S(pending_id.to_owned()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp_millis().to_string()))
            .expression_attribute_values(":until", AttributeValue::N(until.timestamp_millis().to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn complete_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        restart_attempted_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .condition_expression("pending.id = :id")
            .expression_attribute_values(":id", AttributeValue::S(pending_id.to_owned()));
        request = match restart_attempted_at {
            Some(at) => request
                .update_expression("REMOVE pending SET restart_attempted_at = :at")
                .expression_attribute_values(":at", value(&at)?),
            None => request.update_expression("REMOVE pending"),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn release_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .update_expression("REMOVE pending.claimed_until")
            .condition_expression("pending.id = :id")
            .expression_attribute_values(":id", AttributeValue::S(pending_id.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn save_profile(&self, profile: &UserProfile) -> Result<(), StoreError> {
        let item = ProfileItem {
            pk: user_pk(&profile.user_id),
            sk: PROFILE_SK.to_owned(),
            user_id: profile.user_id.clone(),
            email: profile.email.clone(),
            updated_at: profile.updated_at,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn profile_of(&self, user: &UserId) -> Result<Option<UserProfile>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(user_pk(user)))
            .key("SK", AttributeValue::S(PROFILE_SK.to_owned()))
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: ProfileItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        Ok(Some(UserProfile {
            user_id: item.user_id,
            email: item.email,
            updated_at: item.updated_at,
        }))
    }
}

/// Creates the table as the code expects it (keys, GSI1, on-demand billing). The SAM
/// template in `infra/` declares the same; tests and the local stack call this.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let built = (|| {
        Ok::<_, aws_sdk_dynamodb::error::BuildError>((
            vec![attribute("PK")?, attribute("SK")?, attribute("GSI1PK")?],
            vec![key("PK", KeyType::Hash)?, key("SK", KeyType::Range)?],
            GlobalSecondaryIndex::builder()
                .index_name(GSI1)
                .key_schema(key("GSI1PK", KeyType::Hash)?)
                .key_schema(key("PK", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        ))
    })();
    let (attributes, keys, gsi) = built.map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let result = client
        .create_table()
        .table_name(table)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(keys))
        .global_secondary_indexes(gsi)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(error) => Err(unavailable(error)),
    }
}
