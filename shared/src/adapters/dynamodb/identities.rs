//! A user's LinkedIn identities in the table: one `USER#<user>` / `LINKEDIN#<member>` item
//! each, holding either the newest cookie (sealed) or a pause. Being one item is what makes a
//! pause race-free: the sync's write is conditional on the same item having no pause.

use super::DynamoStore;
use super::expression::{corrupt, unavailable, value};
use super::items::{COOKIE_SK_PREFIX, CookieItem, StoredIdentity, user_pk};
use crate::domain::{LinkedinIdentities, LinkedinMemberId, UserId};
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Every attribute a cookie or a login put on the item: a pause removes them all.
const COOKIE_ATTRIBUTES: &str = "li_at, li_a, cookie_digest, user_agent, ip, country, date_last_cookie, \
    unipile_account_id, unipile_status, date_last_status_unipile, date_last_try_connect, \
    checkpoint, checkpoint_expires_at, last_error, connect_started_at, expires_at";

pub(super) fn read_identity(
    item: HashMap<String, AttributeValue>,
) -> Result<StoredIdentity, StoreError> {
    StoredIdentity::try_from(serde_dynamo::from_item::<_, CookieItem>(item).map_err(corrupt)?)
}

impl DynamoStore {
    pub(super) async fn identities(&self, user: &UserId) -> Result<LinkedinIdentities, StoreError> {
        let mut identities = LinkedinIdentities::default();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(user_pk(user)))
            .expression_attribute_values(":prefix", AttributeValue::S(COOKIE_SK_PREFIX.to_owned()))
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                match read_identity(item)? {
                    StoredIdentity::Syncing(record) => identities.syncing.push(*record),
                    StoredIdentity::Paused(paused) => identities.paused.push(paused),
                }
            }
        }
        Ok(identities)
    }

    /// Only the dates: the record must exist and not be paused.
    pub(super) async fn touch(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(user, member)))
            .update_expression("SET date_last_cookie = :now, expires_at = :expires")
            .condition_expression("attribute_exists(li_at) AND attribute_not_exists(paused_at)")
            .expression_attribute_values(":now", value(&now)?)
            .expression_attribute_values(
                ":expires",
                AttributeValue::N(expires_at.timestamp().to_string()),
            );
        self.conditional_update(request).await
    }

    /// One UpdateItem: the cookie and its Unipile side go, the pause comes, in the same
    /// write. A repeated pause keeps the first time.
    pub(super) async fn pause(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(user, member)))
            .update_expression(format!(
                "SET user_id = :user, member_id = :member, \
                 paused_at = if_not_exists(paused_at, :now) REMOVE {COOKIE_ATTRIBUTES}"
            ))
            .expression_attribute_values(":user", value(user)?)
            .expression_attribute_values(":member", value(member)?)
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Deletes the pause only: an item holding a cookie is left alone.
    pub(super) async fn resume(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(user, member)))
            .condition_expression("attribute_exists(paused_at)");
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error) if super::expression::is_condition_failure(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// A user has a handful of identities (the cap): one conditional DeleteItem each, so a
    /// pause written meanwhile is never deleted.
    pub(super) async fn delete_cookie_records(&self, user: &UserId) -> Result<usize, StoreError> {
        let identities = self.identities(user).await?;
        let mut deleted = 0;
        for record in &identities.syncing {
            let request = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(Self::cookie_key(user, &record.member_id)))
                .condition_expression("attribute_not_exists(paused_at)");
            match request.send().await {
                Ok(_) => deleted += 1,
                Err(error) if super::expression::is_condition_failure(&error) => {}
                Err(error) => return Err(unavailable(error)),
            }
        }
        Ok(deleted)
    }
}
