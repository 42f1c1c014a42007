//! The account store on one DynamoDB table, keyed as DESIGN.md says: the status webhook knows
//! only the account id, so an account is `ACCOUNT#<id>` / `ACCOUNT`, and GSI1 lists a user's.

mod by_status;
mod expression;
mod feed;
mod identities;
mod items;
mod login_attempts;
mod outbox;
mod table;

pub use feed::DynamoFeed;
pub use items::{GSI1, GSI2, GSI3, TTL_ATTRIBUTE};
pub use table::create_table;

use crate::domain::events::{EventId, EventSubject, How, Outbox, RecordedFact};
use crate::domain::transitions::{StatusPlan, TransitionPolicy, plan};
use crate::domain::{
    Account, AccountId, AccountStatus, CookieRecord, LinkNonce, LinkedinIdentities,
    LinkedinMemberId, LinkedinProfileId, Outage, PendingAction, UserId,
};
use crate::ports::{
    AccountStore, Completion, ConnectedAccount, CookieClaim, CookieResult, CookieUpdate,
    Disconnection, Inventory, InventoryPage, OutboxKey, ReconnectStep, ReportRecord, SettleBasis,
    Settled, StateUse, StatusRecord, StoreError, StoredAccountPage, UserProfile,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use expression::{
    Update, cancelled_by_condition, corrupt, is_condition_failure, unavailable, value,
};
use items::{
    ACCOUNT_SK, AccountItem, COOKIE_SK_PREFIX, CookieClaimItem, GONE_SK, IDENTITIES_SK, OUTBOX,
    PENDING, PROFILE_SK, ProfileItem, STATE_SK, StateItem, StoredIdentity, account_of_pk,
    account_pk, cookie_sk, state_pk, user_pk,
};
use outbox::{GoneItem, OutageAfter, drop_first, outbox_of, record_fact};
use std::collections::HashMap;

/// The [`AccountStore`] on DynamoDB. The client is built once at cold start and shared.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Most items one page of the reconciliation's scan holds; `None`: DynamoDB's own page
    /// (1 MB).
    scan_page_items: Option<i32>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            scan_page_items: None,
        }
    }

    /// Pages of at most `items` for the reconciliation's scan: a small table then reads in
    /// several, as a large one does.
    pub fn with_scan_page_items(mut self, items: i32) -> Self {
        self.scan_page_items = Some(items);
        self
    }

    /// The table keys (`PK`, `SK`) of at most `limit` entries of a sparse index whose
    /// partition is `key` and whose time sort key meets `condition` against `bound` (epoch
    /// ms), oldest first: the due follow-ups (GSI2) and the waiting outboxes (GSI3).
    async fn sparse_index_keys(
        &self,
        index: &str,
        condition: &str,
        key: &str,
        bound: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(condition)
            .expression_attribute_values(":key", text(key))
            .expression_attribute_values(":bound", millis(bound))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                let part = |name: &str| {
                    item.get(name)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!("a {index} entry without {name}"))
                        })
                };
                keys.push((part("PK")?, part("SK")?));
                if keys.len() >= limit {
                    return Ok(keys);
                }
            }
        }
        Ok(keys)
    }

    fn account_key(id: &AccountId) -> HashMap<String, AttributeValue> {
        items::table_key(account_pk(id), ACCOUNT_SK.to_owned())
    }

    fn cookie_key(user: &UserId, member: &LinkedinMemberId) -> HashMap<String, AttributeValue> {
        items::table_key(user_pk(user), cookie_sk(member))
    }

    /// A conditional UpdateItem whose failed condition means "not this time", not an error.
    async fn conditional_update(
        &self,
        request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<bool, StoreError> {
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// A conditional UpdateItem answering the item as it now is, or `None` when the
    /// condition failed.
    async fn conditional_update_returning(
        &self,
        request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<Option<Account>, StoreError> {
        match request.return_values(ReturnValue::AllNew).send().await {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| {
                    StoreError::Corrupt("UpdateItem returned no attributes".into())
                })?;
                Ok(Some(account_of(item)?))
            }
            Err(error) if is_condition_failure(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    fn update(&self, account_id: &AccountId) -> UpdateBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
    }
}

type UpdateBuilder = aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

fn account_of(item: HashMap<String, AttributeValue>) -> Result<Account, StoreError> {
    let outbox = outbox_of(&item)?;
    let mut account = serde_dynamo::from_item::<_, AccountItem>(item)
        .map(Account::from)
        .map_err(corrupt)?;
    account.outbox = outbox;
    Ok(account)
}

/// The outage a status write leaves.
fn outage_after(plan: &StatusPlan) -> OutageAfter {
    if plan.ends_outage() {
        OutageAfter::Ended
    } else {
        OutageAfter::Opened
    }
}

fn new_fact(how: How, now: DateTime<Utc>) -> Result<RecordedFact, StoreError> {
    RecordedFact::new(crate::domain::events::Fact::Status { how }, now)
        .map_err(StoreError::Unavailable)
}

fn millis(at: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(at.timestamp_millis().to_string())
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// The clauses that end an outage: every piece of state that belonged to it goes, the
/// recorded follow-up (and its GSI2 entry) with it.
fn end_outage(update: &mut Update) {
    update
        .remove("pending")
        .remove("GSI2PK")
        .remove("GSI2SK")
        .remove("restart_attempted_at")
        .remove("cookie_reconnect")
        .remove("outage")
        .remove("emailed_outage")
        .remove("emailed_by")
        .remove("email_sent_at")
        .remove("email_uncertain_at");
}

/// The condition of a write about a reported status: the account exists, its stored status
/// differs from `plan`'s, and DELETED stays DELETED unless `plan` revives it; `narrower`
/// (" AND ...") adds to it. A write that changes nothing gets the stored item back in the same
/// call, so a no-op costs one request.
fn only_if_status_changes(
    request: UpdateBuilder,
    plan: &StatusPlan,
    narrower: &str,
) -> Result<UpdateBuilder, StoreError> {
    let mut condition = format!("attribute_exists(PK) AND #status <> :status{narrower}");
    let mut request = request
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":status", value(&plan.stored)?)
        .return_values_on_condition_check_failure(
            aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
        );
    if !plan.revives_deleted {
        condition.push_str(" AND #status <> :deleted");
        request = request.expression_attribute_values(":deleted", value(&AccountStatus::Deleted)?);
    }
    Ok(request.condition_expression(condition))
}

/// Writes `pending` with its GSI2 entry (due at the end of its lease, or now).
fn set_pending(
    update: &mut Update,
    request: UpdateBuilder,
    pending: &PendingAction,
) -> Result<UpdateBuilder, StoreError> {
    update.set("pending = :pending, GSI2PK = :gsi2pk, GSI2SK = :gsi2sk");
    Ok(request
        .expression_attribute_values(":pending", value(pending)?)
        .expression_attribute_values(":gsi2pk", text(PENDING))
        .expression_attribute_values(":gsi2sk", millis(pending.due_at())))
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
        output.item.map(account_of).transpose()
    }

    async fn record_confirmed_connection(
        &self,
        connection: &ConnectedAccount,
        outage: &Outage,
        follow_up: Option<&PendingAction>,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let fact = new_fact(how, now)?;
        let mut update = Update::default();
        update
            .set("account_id = :id, user_id = :user, account_type = :type, display_name = :name")
            .set("#status = :status, last_update = :now, created_on = if_not_exists(created_on, :now)")
            .set("GSI1PK = :gsi1pk");
        if connection.linkedin_member_id.is_some() {
            update.set("linkedin_member_id = :member");
        }
        if connection.linkedin_profile_id.is_some() {
            update.set("linkedin_profile_id = :profile");
        }
        let mut request = self
            .update(&connection.account_id)
            // Ownership never moves: a connection for an account stored under another user
            // writes nothing.
            .condition_expression("attribute_not_exists(PK) OR user_id = :user")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", value(&connection.account_id)?)
            .expression_attribute_values(":user", value(&connection.user_id)?)
            .expression_attribute_values(":type", value(&connection.account_type)?)
            .expression_attribute_values(
                ":name",
                connection
                    .display_name
                    .as_ref()
                    .map_or(Ok(AttributeValue::Null(true)), value)?,
            )
            .expression_attribute_values(":status", value(&connection.status)?)
            .expression_attribute_values(":now", value(&now)?)
            .expression_attribute_values(
                ":gsi1pk",
                AttributeValue::S(user_pk(&connection.user_id)),
            );
        if let Some(member) = &connection.linkedin_member_id {
            request = request.expression_attribute_values(":member", value(member)?);
        }
        if let Some(profile) = &connection.linkedin_profile_id {
            request = request.expression_attribute_values(":profile", value(profile)?);
        }
        let confirmed = plan(&connection.status, &TransitionPolicy::default());
        request = record_fact(
            &mut update,
            request,
            &fact,
            Some(&connection.status),
            outage_after(&confirmed),
        )?;
        if confirmed.ends_outage() {
            // Healthy: whatever the outage left is over.
            end_outage(&mut update);
        } else {
            // Still unwell: the outage's state (owed email, restart marker, reconnect) stays.
            update.set("outage = if_not_exists(outage, :outage)");
            request = request.expression_attribute_values(":outage", value(outage)?);
            if let Some(follow_up) = follow_up {
                request = set_pending(&mut update, request, follow_up)?;
            }
        }
        let request = request
            .update_expression(update.expression())
            .return_values(ReturnValue::AllNew);
        match request.send().await {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| {
                    StoreError::Corrupt("UpdateItem returned no attributes".into())
                })?;
                account_of(item)
            }
            Err(error) if is_condition_failure(&error) => Err(StoreError::OwnedByAnotherUser),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn consume_state(&self, state: &StateUse) -> Result<bool, StoreError> {
        let item = StateItem {
            pk: state_pk(&state.nonce),
            sk: STATE_SK.to_owned(),
            account_id: state.account_id.clone(),
            user_id: state.user_id.clone(),
            expires_at: state.expires_at,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            // The same account may write it again (a retried delivery rewrites the same
            // item); another account may not: that is a replayed notify URL.
            .condition_expression("attribute_not_exists(PK) OR account_id = :account")
            .expression_attribute_values(":account", value(&state.account_id)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
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
                accounts.push(account_of(item)?);
            }
        }
        Ok(accounts)
    }

    async fn disconnect(
        &self,
        seen: &Account,
        fact: &RecordedFact,
    ) -> Result<Disconnection, StoreError> {
        let id = &seen.account_id;
        let last = seen
            .clone()
            .with_fact(Some(seen.status.clone()), fact.clone());
        let (subject, outbox) = (last.subject(), last.outbox);
        let gone = GoneItem::new(&subject, &outbox)?;
        // Unchanged since read: still its owner's, and no fact recorded since (a change
        // records one), so the facts moved are all there are.
        let unchanged = if seen.outbox.recorded == 0 {
            "user_id = :owner AND attribute_not_exists(event_seq)"
        } else {
            "user_id = :owner AND event_seq = :seq"
        };
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(id)))
            .condition_expression(unchanged)
            .expression_attribute_values(":owner", value(&seen.user_id)?);
        if seen.outbox.recorded > 0 {
            delete = delete.expression_attribute_values(
                ":seq",
                AttributeValue::N(seen.outbox.recorded.to_string()),
            );
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(&gone).map_err(corrupt)?));
        let built = (|| {
            Ok::<_, aws_sdk_dynamodb::error::BuildError>([
                TransactWriteItem::builder().delete(delete.build()?).build(),
                TransactWriteItem::builder().put(put.build()?).build(),
            ])
        })();
        let items = built.map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items.to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Disconnection::Done(
                OutboxKey {
                    account_id: id.clone(),
                    disconnected: true,
                },
                outbox,
            )),
            Err(error) if cancelled_by_condition(&error).is_some() => {
                match self.get_account(id).await? {
                    None => Ok(Disconnection::Absent),
                    Some(now) if !now.is_owned_by(&seen.user_id) => {
                        Err(StoreError::OwnedByAnotherUser)
                    }
                    Some(_) => Ok(Disconnection::Changed),
                }
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn record_status(
        &self,
        account_id: &AccountId,
        plan: &StatusPlan,
        outage: &Outage,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<StatusRecord, StoreError> {
        let fact = new_fact(how, now)?;
        let mut update = Update::default();
        update.set("#status = :status, last_update = :now");
        let mut request = record_fact(
            &mut update,
            self.update(account_id),
            &fact,
            Some(&plan.stored),
            outage_after(plan),
        )?;
        if plan.ends_outage() {
            end_outage(&mut update);
        } else {
            update.set("outage = if_not_exists(outage, :outage)");
            request = request.expression_attribute_values(":outage", value(outage)?);
        }
        let request = only_if_status_changes(request, plan, "")?
            .update_expression(update.expression())
            .expression_attribute_values(":now", value(&now)?)
            .return_values(ReturnValue::AllOld);
        match request.send().await {
            Ok(output) => {
                let item = output
                    .attributes
                    .ok_or_else(|| StoreError::Corrupt("UpdateItem returned no old item".into()))?;
                let before = account_of(item)?;
                let previous = before.status.clone();
                Ok(match StatusRecord::changed(before, plan, outage, now) {
                    StatusRecord::Changed {
                        previous: replaced,
                        ended_reconnect,
                        account,
                    } => StatusRecord::Changed {
                        previous: replaced,
                        ended_reconnect,
                        account: account.with_fact(Some(previous), fact),
                    },
                    other => other,
                })
            }
            Err(error) if is_condition_failure(&error) => match stored_on_failure(error) {
                None => Ok(StatusRecord::UnknownAccount),
                Some(item) => Ok(StatusRecord::Unchanged(account_of(item)?)),
            },
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn record_report(
        &self,
        account_id: &AccountId,
        reported: &StatusPlan,
        action: &PendingAction,
        _now: DateTime<Utc>,
    ) -> Result<ReportRecord, StoreError> {
        let mut update = Update::default();
        let request = set_pending(&mut update, self.update(account_id), action)?;
        // One live follow-up at a time: it confirms with Unipile when it runs, so a delivery
        // that finds one has nothing to add but its retry (see the flow).
        let request = only_if_status_changes(
            request,
            reported,
            " AND (attribute_not_exists(pending) OR attribute_exists(pending.abandoned_at))",
        )?
        .update_expression(update.expression())
        .return_values(ReturnValue::AllNew);
        match request.send().await {
            Ok(output) => {
                let item = output
                    .attributes
                    .ok_or_else(|| StoreError::Corrupt("UpdateItem returned no item".into()))?;
                Ok(ReportRecord::Recorded(account_of(item)?))
            }
            Err(error) if is_condition_failure(&error) => match stored_on_failure(error) {
                None => Ok(ReportRecord::UnknownAccount),
                Some(item) => Ok(ReportRecord::NotRecorded(account_of(item)?)),
            },
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn settle_confirmed(
        &self,
        account_id: &AccountId,
        basis: SettleBasis<'_>,
        settled: &Settled,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        let mut update = Update::default();
        let mut request = self.update(account_id);
        let mut condition = match basis {
            SettleBasis::AsSeen(seen) => {
                request = request
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":seen", value(&seen.status)?);
                let mut condition =
                    String::from("#status = :seen AND attribute_not_exists(pending) AND ");
                match seen.outage_id() {
                    Some(id) => {
                        condition.push_str("outage.id = :seen_outage");
                        request = request.expression_attribute_values(":seen_outage", text(id));
                    }
                    None => condition.push_str("attribute_not_exists(outage)"),
                }
                condition
            }
            SettleBasis::Holding(claim) => {
                request = request.expression_attribute_values(":held", text(claim));
                String::from("pending.claim = :held")
            }
        };
        let ends_outage = settled.status.as_ref().is_some_and(StatusPlan::ends_outage);
        if let Some(plan) = &settled.status {
            update.set("#status = :status, last_update = :now");
            request = request
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", value(&plan.stored)?)
                .expression_attribute_values(":now", value(&now)?);
            if ends_outage {
                end_outage(&mut update);
            } else {
                update.set("outage = if_not_exists(outage, :outage)");
                request = request.expression_attribute_values(":outage", value(&settled.outage)?);
            }
            if let Some(fact) = &settled.fact {
                request = record_fact(
                    &mut update,
                    request,
                    fact,
                    Some(&plan.stored),
                    outage_after(plan),
                )?;
            }
        }
        if !ends_outage {
            match &settled.then {
                Some(then) => request = set_pending(&mut update, request, then)?,
                None => {
                    update.remove("pending").remove("GSI2PK").remove("GSI2SK");
                }
            }
            let claim = settled.then.as_ref().and_then(|t| t.claim.as_deref());
            if let (Some(outage), Some(claim)) = (&settled.mark, claim) {
                update
                    .set("emailed_outage = :marked, emailed_by = :claim")
                    .remove("email_sent_at")
                    .remove("email_uncertain_at");
                condition.push_str(
                    " AND (attribute_not_exists(emailed_outage) OR emailed_outage <> :marked \
                     OR emailed_by = :claim)",
                );
                request = request
                    .expression_attribute_values(":marked", text(outage))
                    .expression_attribute_values(":claim", text(claim));
            }
        }
        self.conditional_update_returning(
            request
                .condition_expression(condition)
                .update_expression(update.expression()),
        )
        .await
    }

    async fn owe_email(
        &self,
        account_id: &AccountId,
        claim: &str,
        owed: &PendingAction,
    ) -> Result<bool, StoreError> {
        let mut update = Update::default();
        update.remove("emailed_outage").remove("emailed_by");
        let request = set_pending(&mut update, self.update(account_id), owed)?
            .condition_expression("emailed_by = :claim")
            .expression_attribute_values(":claim", text(claim));
        self.conditional_update(request.update_expression(update.expression()))
            .await
    }

    async fn claim_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        claim: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<PendingAction>, StoreError> {
        let request = self
            .update(account_id)
            .update_expression(
                "SET pending.claim = :claim, pending.claimed_until = :until, GSI2SK = :until, \
                 pending.attempts = if_not_exists(pending.attempts, :zero) + :one",
            )
            .condition_expression(
                "pending.id = :id AND attribute_not_exists(pending.abandoned_at) \
                 AND (attribute_not_exists(pending.claimed_until) OR pending.claimed_until <= :now)",
            )
            .expression_attribute_values(":id", text(pending_id))
            .expression_attribute_values(":claim", text(claim))
            .expression_attribute_values(":now", millis(now))
            .expression_attribute_values(":until", millis(until))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        Ok(self
            .conditional_update_returning(request)
            .await?
            .and_then(|account| account.pending))
    }

    async fn complete_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        completion: &Completion,
    ) -> Result<Option<Account>, StoreError> {
        let mut update = Update::default();
        update.remove("pending").remove("GSI2PK").remove("GSI2SK");
        let mut request = self
            .update(account_id)
            .condition_expression("pending.claim = :claim")
            .expression_attribute_values(":claim", text(claim));
        if let Some(at) = &completion.restart_attempted_at {
            update.set("restart_attempted_at = :at");
            request = request.expression_attribute_values(":at", value(at)?);
        }
        if let Some(reconnect) = &completion.reconnect {
            update.set("cookie_reconnect = :reconnect");
            request = request.expression_attribute_values(":reconnect", value(reconnect)?);
        }
        if let Some(at) = &completion.email_sent_at {
            update.set("email_sent_at = :sent");
            request = request.expression_attribute_values(":sent", value(at)?);
        }
        if let Some(at) = &completion.email_uncertain_at {
            update.set("email_uncertain_at = :uncertain");
            request = request.expression_attribute_values(":uncertain", value(at)?);
        }
        if let Some(fact) = &completion.fact {
            request = record_fact(&mut update, request, fact, None, OutageAfter::Kept)?;
        }
        self.conditional_update_returning(request.update_expression(update.expression()))
            .await
    }

    async fn abandon_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let request = self
            .update(account_id)
            // Off the index: the sweeper stops finding it; the item keeps it for an operator.
            .update_expression(
                "SET pending.abandoned_at = :at REMOVE pending.claim, GSI2PK, GSI2SK",
            )
            .condition_expression(
                "pending.id = :id AND attribute_not_exists(pending.abandoned_at) \
                 AND (attribute_not_exists(pending.claimed_until) OR pending.claimed_until <= :now)",
            )
            .expression_attribute_values(":id", text(pending_id))
            .expression_attribute_values(":at", value(&now)?)
            .expression_attribute_values(":now", millis(now));
        self.conditional_update(request).await
    }

    async fn mark_emailing(
        &self,
        account_id: &AccountId,
        claim: &str,
        outage: &str,
    ) -> Result<bool, StoreError> {
        let request = self
            .update(account_id)
            .update_expression(
                "SET emailed_outage = :outage, emailed_by = :claim \
                 REMOVE email_sent_at, email_uncertain_at",
            )
            .condition_expression(
                "pending.claim = :claim AND outage.id = :outage \
                 AND (attribute_not_exists(emailed_outage) OR emailed_outage <> :outage \
                 OR emailed_by = :claim)",
            )
            .expression_attribute_values(":claim", text(claim))
            .expression_attribute_values(":outage", text(outage));
        self.conditional_update(request).await
    }

    async fn due_follow_ups(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AccountId>, StoreError> {
        let keys = self
            .sparse_index_keys(
                GSI2,
                "GSI2PK = :key AND GSI2SK <= :bound",
                PENDING,
                now,
                limit,
            )
            .await?;
        keys.iter().map(|(pk, _)| account_of_pk(pk)).collect()
    }

    async fn advance_reconnect(
        &self,
        account_id: &AccountId,
        expected_attempt: u32,
        step: &ReconnectStep,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut update = Update::default();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .condition_expression("cookie_reconnect.next_attempt = :expected")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_attempt.to_string()),
            );
        match step {
            ReconnectStep::Next(attempt) => {
                update.set("cookie_reconnect.next_attempt = :next");
                request = request
                    .expression_attribute_values(":next", AttributeValue::N(attempt.to_string()));
            }
            ReconnectStep::Finished {
                reconnected,
                pending,
                fact,
            } => {
                if let Some(fact) = fact {
                    let (written, outage) = if *reconnected {
                        (Some(&AccountStatus::Ok), OutageAfter::Ended)
                    } else {
                        (None, OutageAfter::Kept)
                    };
                    request = record_fact(&mut update, request, fact, written, outage)?;
                }
                if *reconnected {
                    // Healthy again: the outage is over, and all it left with it.
                    update.set("#status = :ok, last_update = :now");
                    end_outage(&mut update);
                    request = request
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":ok", value(&AccountStatus::Ok)?)
                        .expression_attribute_values(":now", value(&now)?);
                } else {
                    update.remove("cookie_reconnect");
                }
                if let Some(pending) = pending.as_ref().filter(|_| !*reconnected) {
                    request = set_pending(&mut update, request, pending)?;
                }
            }
        }
        self.conditional_update(request.update_expression(update.expression()))
            .await
    }

    async fn tie_linkedin_identity(
        &self,
        account_id: &AccountId,
        owner: &UserId,
        member: &LinkedinMemberId,
        profile: Option<&LinkedinProfileId>,
    ) -> Result<bool, StoreError> {
        let mut update = Update::default();
        update.set("linkedin_member_id = :member");
        let mut request = self
            .update(account_id)
            .condition_expression("user_id = :owner")
            .expression_attribute_values(":owner", value(owner)?)
            .expression_attribute_values(":member", value(member)?);
        if let Some(profile) = profile {
            update.set("linkedin_profile_id = :profile");
            request = request.expression_attribute_values(":profile", value(profile)?);
        }
        self.conditional_update(request.update_expression(update.expression()))
            .await
    }

    async fn save_cookie(
        &self,
        cookie: &CookieUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<CookieRecord>, StoreError> {
        let mut update = Update::default();
        update
            .set("user_id = :user, member_id = :member, li_at = :li_at, user_agent = :ua")
            .set("date_last_cookie = :now, expires_at = :expires");
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(&cookie.user_id, &cookie.member_id)))
            .expression_attribute_values(":user", value(&cookie.user_id)?)
            .expression_attribute_values(":member", value(&cookie.member_id)?)
            .expression_attribute_values(":li_at", AttributeValue::S(B64.encode(&cookie.li_at.0)))
            .expression_attribute_values(":ua", AttributeValue::S(cookie.user_agent.clone()))
            .expression_attribute_values(":now", value(&now)?)
            .expression_attribute_values(
                ":expires",
                AttributeValue::N(cookie.expires_at.timestamp().to_string()),
            )
            // A paused identity's item stays as it is: nothing is stored for it.
            .condition_expression("attribute_not_exists(paused_at)")
            .return_values(ReturnValue::AllNew);
        // Kept when a sync sends none (an older extension): the member's profile id does not
        // change.
        if let Some(profile) = &cookie.profile_id {
            update.set("profile_id = :profile");
            request = request.expression_attribute_values(":profile", value(profile)?);
        }
        match &cookie.digest {
            Some(digest) => {
                update.set("cookie_digest = :digest");
                request = request
                    .expression_attribute_values(":digest", AttributeValue::S(digest.0.clone()));
            }
            None => {
                update.remove("cookie_digest");
            }
        }
        match &cookie.li_a {
            Some(li_a) => {
                update.set("li_a = :li_a");
                request = request
                    .expression_attribute_values(":li_a", AttributeValue::S(B64.encode(&li_a.0)));
            }
            None => {
                update.remove("li_a");
            }
        }
        match &cookie.ip {
            Some(ip) => {
                update.set("ip = :ip");
                request =
                    request.expression_attribute_values(":ip", AttributeValue::S(ip.to_string()));
            }
            None => {
                update.remove("ip");
            }
        }
        match &cookie.country {
            Some(country) => {
                update.set("country = :country");
                request = request.expression_attribute_values(":country", value(country)?);
            }
            None => {
                update.remove("country");
            }
        }
        let output = match request.update_expression(update.expression()).send().await {
            Ok(output) => output,
            Err(error) if is_condition_failure(&error) => return Ok(None),
            Err(error) => return Err(unavailable(error)),
        };
        let item = output
            .attributes
            .ok_or_else(|| StoreError::Corrupt("UpdateItem returned no attributes".into()))?;
        identities::read_identity(item).map(StoredIdentity::syncing)
    }

    async fn pause_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.pause(user, member, now).await
    }

    async fn touch_cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.touch(user, member, now, expires_at).await
    }

    async fn resume_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<bool, StoreError> {
        self.resume(user, member).await
    }

    async fn delete_cookies(&self, user: &UserId) -> Result<usize, StoreError> {
        self.delete_cookie_records(user).await
    }

    async fn cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<Option<CookieRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(user, member)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        identities::read_identity(item).map(StoredIdentity::syncing)
    }

    async fn claim_connect_attempt(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(user, member)))
            .update_expression("SET date_last_try_connect = :now")
            .condition_expression(
                "attribute_exists(PK) AND attribute_not_exists(paused_at) AND (attribute_not_exists(date_last_try_connect) OR date_last_try_connect < :limit)",
            )
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp_millis().to_string()))
            .expression_attribute_values(":limit", AttributeValue::N(not_after.timestamp_millis().to_string()));
        self.conditional_update(request).await
    }

    async fn record_cookie_result(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        result: &CookieResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut update = Update::default();
        let mut values: HashMap<String, AttributeValue> = HashMap::new();
        if result.connect_settled {
            update.remove("connect_started_at");
        }
        if let Some(account_id) = &result.unipile_account_id {
            update.set("unipile_account_id = :account");
            values.insert(":account".into(), value(account_id)?);
        }
        if let Some(status) = &result.unipile_status {
            update.set("unipile_status = :status, date_last_status_unipile = :now");
            values.insert(":status".into(), value(status)?);
            values.insert(":now".into(), value(&now)?);
        }
        for (attribute, placeholder, text) in [
            ("checkpoint", ":checkpoint", &result.checkpoint),
            ("last_error", ":error", &result.last_error),
        ] {
            match text {
                Some(text) => {
                    update.set(&format!("{attribute} = {placeholder}"));
                    values.insert(placeholder.into(), AttributeValue::S(text.clone()));
                }
                None => {
                    update.remove(attribute);
                }
            }
        }
        match result.checkpoint_expires_at {
            Some(at) => {
                update.set("checkpoint_expires_at = :checkpoint_expires");
                values.insert(":checkpoint_expires".into(), millis(at));
            }
            None => {
                update.remove("checkpoint_expires_at");
            }
        }
        let record_condition = "attribute_exists(PK) AND attribute_not_exists(paused_at)";
        let Some(account_id) = &result.unipile_account_id else {
            let request = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::cookie_key(user, member)))
                .condition_expression(record_condition)
                .update_expression(update.expression())
                .set_expression_attribute_values((!values.is_empty()).then_some(values));
            return self.conditional_update(request).await.map(|_| ());
        };
        // Naming an account: in the same transaction, the account is no other user's (absent
        // from the table, or this user's), so another user's account id is never stored here.
        let owned = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::account_key(account_id)))
            .condition_expression("attribute_not_exists(PK) OR user_id = :owner")
            .expression_attribute_values(":owner", value(user)?)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let write = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(user, member)))
            .condition_expression(record_condition)
            .update_expression(update.expression())
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sent = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(owned).build())
            .transact_items(TransactWriteItem::builder().update(write).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(error) => match cancelled_by_condition(&error) {
                // The account is another user's: nothing was written.
                Some(failed) if failed.first() == Some(&true) => {
                    Err(StoreError::OwnedByAnotherUser)
                }
                // No record (deleted, expired) or a paused identity: as an update that does
                // not take, nothing to record.
                Some(_) => Ok(()),
                None => Err(unavailable(error)),
            },
        }
    }

    async fn release_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let request = self
            .update(account_id)
            .update_expression(
                "SET pending.claimed_until = :due, GSI2SK = :due REMOVE pending.claim",
            )
            .condition_expression("pending.claim = :claim")
            .expression_attribute_values(":claim", text(claim))
            .expression_attribute_values(":due", millis(due));
        self.conditional_update(request).await.map(|_| ())
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

    async fn identities_of(&self, user: &UserId) -> Result<LinkedinIdentities, StoreError> {
        self.identities(user).await
    }

    async fn claim_linkedin_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        known: &[LinkedinMemberId],
        cap: u32,
    ) -> Result<bool, StoreError> {
        let mut seed: Vec<String> = known.iter().map(|m| m.as_str().to_owned()).collect();
        seed.push(member.as_str().to_owned());
        seed.sort();
        seed.dedup();
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(user_pk(user)))
            .key("SK", AttributeValue::S(IDENTITIES_SK.to_owned()))
            // A string set: ADD is idempotent, and the condition reads its size.
            // `MEMBERS` is a DynamoDB reserved word: the attribute is named through `#members`.
            .update_expression("SET user_id = :user ADD #members :seed")
            .condition_expression(
                "attribute_not_exists(#members) OR contains(#members, :member) OR size(#members) < :cap",
            )
            .expression_attribute_names("#members", "members")
            .expression_attribute_values(":user", value(user)?)
            .expression_attribute_values(":seed", AttributeValue::Ss(seed))
            .expression_attribute_values(":member", AttributeValue::S(member.as_str().to_owned()))
            .expression_attribute_values(":cap", AttributeValue::N(cap.to_string()));
        self.conditional_update(request).await
    }

    async fn mark_connect_started(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::cookie_key(user, member)))
            .update_expression("SET connect_started_at = :at")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(paused_at)")
            .expression_attribute_values(
                ":at",
                AttributeValue::N(at.timestamp_millis().to_string()),
            );
        if self.conditional_update(request).await? {
            Ok(())
        } else {
            Err(StoreError::Corrupt("no cookie record to mark".into()))
        }
    }

    /// One Scan of the whole table, page by page, reading only the attributes that tie
    /// accounts to users (no ciphertext leaves the table). Its cost is the table's size: a
    /// Scan is billed on the items read, projection or not, so about 0.5 read units per 4 KB
    /// (eventually consistent); 10,000 users with an account and a cookie record each (about
    /// 25 MB) cost some 3,000 read units a run, 75,000 a day at one run an hour: about $0.02
    /// a day on demand. Cheaper than keeping an index of claims by account id up to date on
    /// every write, and it needs no migration of the items written before it.
    async fn accounts_in_status(
        &self,
        status: &AccountStatus,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<StoredAccountPage, StoreError> {
        self.scan_status(status, cursor, limit).await
    }

    async fn inventory_page(&self, cursor: Option<&str>) -> Result<InventoryPage, StoreError> {
        let mut inventory = Inventory::default();
        // The cursor is the scan's LastEvaluatedKey (PK and SK, both text), as JSON.
        let start = cursor
            .map(|cursor| {
                serde_json::from_str::<HashMap<String, String>>(cursor)
                    .map(|key| {
                        key.into_iter()
                            .map(|(name, value)| (name, AttributeValue::S(value)))
                            .collect::<HashMap<_, _>>()
                    })
                    .map_err(|_| StoreError::Corrupt(format!("bad inventory cursor {cursor:?}")))
            })
            .transpose()?;
        // What the reconciliation reads, no more: never a cookie's ciphertext.
        let page = self
            .client
            .scan()
            .table_name(&self.table)
            .projection_expression(
                "PK, SK, GSI1PK, account_id, user_id, account_type, #status, last_update, \
                 created_on, display_name, linkedin_member_id, linkedin_profile_id, member_id, \
                 profile_id, unipile_account_id, connect_started_at, expires_at, pending, \
                 cookie_reconnect, login_provider, login_reconnect, login_started_at, \
                 login_expires_at, login_finished_at",
            )
            .expression_attribute_names("#status", "status")
            .set_limit(self.scan_page_items)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        let next = page
            .last_evaluated_key
            .map(|key| {
                let key: HashMap<String, String> = key
                    .into_iter()
                    .filter_map(|(name, value)| Some((name, value.as_s().ok()?.clone())))
                    .collect();
                serde_json::to_string(&key).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .transpose()?;
        {
            for item in page.items.unwrap_or_default() {
                let sk = item
                    .get("SK")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                let read: Result<(), String> = if sk == ACCOUNT_SK {
                    account_of(item)
                        .map(|a| inventory.accounts.push(a))
                        .map_err(|e| e.to_string())
                } else if sk == STATE_SK {
                    serde_dynamo::from_item::<_, StateItem>(item)
                        .map_err(|e| e.to_string())
                        .and_then(|s| {
                            let nonce = s.pk.strip_prefix("STATE#").unwrap_or_default();
                            let nonce = LinkNonce::parse(nonce).map_err(|e| e.to_string())?;
                            inventory.spent_states.push(StateUse {
                                nonce,
                                account_id: s.account_id,
                                user_id: s.user_id,
                                expires_at: s.expires_at,
                            });
                            Ok(())
                        })
                } else if sk == login_attempts::ATTEMPT_SK {
                    serde_dynamo::from_item::<_, login_attempts::AttemptItem>(item)
                        .map(|a| inventory.login_attempts.push(a.attempt()))
                        .map_err(|e| e.to_string())
                } else if sk.starts_with(COOKIE_SK_PREFIX) {
                    serde_dynamo::from_item::<_, CookieClaimItem>(item)
                        .map(|c| {
                            inventory.cookie_claims.push(CookieClaim {
                                user_id: c.user_id,
                                member_id: c.member_id,
                                profile_id: c.profile_id,
                                account_id: c.unipile_account_id,
                                connect_started_at: c.connect_started_at,
                            });
                        })
                        .map_err(|e| e.to_string())
                } else {
                    // Profiles, identity lists, and items this code does not know.
                    Ok(())
                };
                if let Err(error) = read {
                    // One bad item must not stop every run: it is counted and named by key.
                    tracing::error!(sk = %sk, %error, "an item could not be read for the reconciliation");
                    inventory.unreadable += 1;
                }
            }
        }
        Ok(InventoryPage {
            items: inventory,
            next,
        })
    }

    async fn waiting_outboxes(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxKey>, StoreError> {
        let keys = self
            .sparse_index_keys(
                GSI3,
                "GSI3PK = :key AND GSI3SK < :bound",
                OUTBOX,
                before,
                limit,
            )
            .await?;
        keys.iter()
            .map(|(pk, sk)| {
                Ok(OutboxKey {
                    account_id: account_of_pk(pk)?,
                    disconnected: sk == GONE_SK,
                })
            })
            .collect()
    }

    async fn outbox(&self, key: &OutboxKey) -> Result<Option<(EventSubject, Outbox)>, StoreError> {
        let sk = if key.disconnected {
            GONE_SK
        } else {
            ACCOUNT_SK
        };
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", text(&items::account_pk(&key.account_id)))
            .key("SK", text(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        if key.disconnected {
            let gone: GoneItem = serde_dynamo::from_item(item).map_err(corrupt)?;
            return Ok(Some(gone.into_parts()));
        }
        let account = account_of(item)?;
        Ok(Some((account.subject(), account.outbox)))
    }

    async fn clear_outbox(&self, key: &OutboxKey, outbox: &Outbox) -> Result<bool, StoreError> {
        let Some(first) = outbox.waiting.first().map(|f| &f.id) else {
            return Ok(false);
        };
        let count = outbox.waiting.len();
        // Every fact read was published: all of them go, unless more were recorded since
        // (then only those read go, and the item stays in the sweeper's index).
        // Facts are appended at the end and published from the front, and ids are unique:
        // while the first is ours, the first `count` are those we published.
        let cleared = self
            .clear_outbox_if(key, outbox, first, count, true)
            .await?;
        if cleared {
            return Ok(true);
        }
        self.clear_outbox_if(key, outbox, first, count, false).await
    }
}

impl DynamoStore {
    /// One try of [`AccountStore::clear_outbox`]: `all`, when the outbox holds exactly the
    /// facts read; else when it holds more.
    async fn clear_outbox_if(
        &self,
        key: &OutboxKey,
        outbox: &Outbox,
        first: &EventId,
        count: usize,
        all: bool,
    ) -> Result<bool, StoreError> {
        let condition = if all {
            "#outbox[0].#id = :first AND size(#outbox) = :count"
        } else {
            "#outbox[0].#id = :first AND size(#outbox) > :count"
        };
        let values = [
            (":first".to_owned(), text(first.as_str())),
            (":count".to_owned(), AttributeValue::N(count.to_string())),
        ];
        if key.disconnected && all {
            let request = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("PK", text(&items::account_pk(&key.account_id)))
                .key("SK", text(GONE_SK))
                .condition_expression(condition)
                .expression_attribute_names("#outbox", "outbox")
                .expression_attribute_names("#id", "id")
                .set_expression_attribute_values(Some(values.into_iter().collect()));
            return match request.send().await {
                Ok(_) => Ok(true),
                Err(error) if is_condition_failure(&error) => Ok(false),
                Err(error) => Err(unavailable(error)),
            };
        }
        let mut update = Update::default();
        let names = drop_first(&mut update, outbox, count, all);
        let sk = if key.disconnected {
            GONE_SK
        } else {
            ACCOUNT_SK
        };
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", text(&items::account_pk(&key.account_id)))
            .key("SK", text(sk))
            .condition_expression(condition)
            .expression_attribute_names("#outbox", "outbox")
            .expression_attribute_names("#id", "id")
            .set_expression_attribute_values(Some(values.into_iter().collect()));
        for (name, attribute) in names {
            request = request.expression_attribute_names(name, attribute);
        }
        self.conditional_update(request.update_expression(update.expression()))
            .await
    }
}

/// The stored item a failed condition returned (`None`: there was no item).
fn stored_on_failure(
    error: aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<HashMap<String, AttributeValue>> {
    match error.into_service_error() {
        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) => e.item,
        _ => None,
    }
}
