//! The events' outbox on the account item: a fact is appended by the same UpdateItem that
//! makes the change it reports, and what that write replaced is copied beside it by the same
//! expression (DynamoDB evaluates every operand on the item as it was), so nothing has to be
//! read first:
//!
//! - `outbox`: the waiting facts, oldest first; `event_seq`: how many were ever recorded;
//! - `evp_<fact id>`: the status the write replaced (NULL: the write created the item);
//! - `evo_<fact id>`: the outage open once written (NULL: none);
//! - `GSI3PK` = `OUTBOX`, `GSI3SK` = when the oldest waiting fact was recorded (epoch ms):
//!   the sparse index the sweeper reads for facts a writer could not publish.
//!
//! A disconnected account's waiting facts, the disconnection last, move to an item of their
//! own (`ACCOUNT#<id>` / `GONE`) in the transaction that deletes the account item.

use super::expression::{Update, corrupt, value};
use super::items::{GONE_SK, OUTBOX};
use super::{UpdateBuilder, millis, text};
use crate::domain::events::{EventSubject, Outbox, RecordedFact};
use crate::domain::{AccountId, AccountStatus, Outage, Provider, UserId};
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The outage a write leaves, for the copy beside its fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutageAfter {
    /// The write ends it.
    Ended,
    /// The write opens `:outage` unless one is open (`if_not_exists(outage, :outage)`).
    Opened,
    /// The write leaves it as it is.
    Kept,
}

fn previous_attribute(fact: &RecordedFact) -> String {
    format!("evp_{}", fact.id)
}

fn outage_attribute(fact: &RecordedFact) -> String {
    format!("evo_{}", fact.id)
}

/// Adds `fact` to the write: appended to the outbox, numbered, indexed for the sweeper, with
/// copies of the status the write replaces and of the outage it leaves. `written`: the status
/// the write writes (`None`: it writes none, and the fact's status is the one it replaced).
pub(super) fn record_fact(
    update: &mut Update,
    request: UpdateBuilder,
    fact: &RecordedFact,
    written: Option<&AccountStatus>,
    outage: OutageAfter,
) -> Result<UpdateBuilder, StoreError> {
    let stored = RecordedFact {
        status: written.cloned(),
        previous: None,
        outage: None,
        ..fact.clone()
    };
    update
        .set("#outbox = list_append(if_not_exists(#outbox, :no_facts), :facts)")
        .set("event_seq = if_not_exists(event_seq, :zero) + :one")
        .set("GSI3PK = :outbox_pk, GSI3SK = if_not_exists(GSI3SK, :fact_at)")
        .set("#evp = if_not_exists(#status, :null)");
    let outage_copy = match outage {
        OutageAfter::Ended => ":null",
        OutageAfter::Opened => "if_not_exists(outage, :outage)",
        OutageAfter::Kept => "if_not_exists(outage, :null)",
    };
    update.set(&format!("#evo = {outage_copy}"));
    Ok(request
        .expression_attribute_names("#outbox", "outbox")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#evp", previous_attribute(fact))
        .expression_attribute_names("#evo", outage_attribute(fact))
        .expression_attribute_values(":no_facts", AttributeValue::L(Vec::new()))
        .expression_attribute_values(":facts", AttributeValue::L(vec![value(&stored)?]))
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":outbox_pk", text(OUTBOX))
        .expression_attribute_values(":fact_at", millis(fact.at))
        .expression_attribute_values(":null", AttributeValue::Null(true)))
}

/// The outbox as an item holds it, each fact completed from the copies written beside it.
pub(super) fn outbox_of(item: &HashMap<String, AttributeValue>) -> Result<Outbox, StoreError> {
    let recorded = match item.get("event_seq") {
        Some(AttributeValue::N(n)) => n
            .parse()
            .map_err(|_| StoreError::Corrupt("event_seq is not a count".into()))?,
        _ => 0,
    };
    let waiting: Vec<RecordedFact> = match item.get("outbox") {
        Some(list) => serde_dynamo::from_attribute_value(list.clone()).map_err(corrupt)?,
        None => Vec::new(),
    };
    let waiting = waiting
        .into_iter()
        .map(|mut fact| {
            if let Some(previous) = item.get(&previous_attribute(&fact)) {
                fact.previous = match previous {
                    AttributeValue::S(status) => Some(AccountStatus::from(status.as_str())),
                    _ => None,
                };
            }
            if let Some(outage) = item.get(&outage_attribute(&fact)) {
                fact.outage = match outage {
                    AttributeValue::M(_) => Some(
                        serde_dynamo::from_attribute_value::<_, Outage>(outage.clone())
                            .map_err(corrupt)?,
                    ),
                    _ => None,
                };
            }
            // A fact that wrote no status keeps the one it found.
            if fact.status.is_none() {
                fact.status = fact.previous.clone();
            }
            Ok(fact)
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Outbox { recorded, waiting })
}

/// The item a disconnected account's outbox waits on until published.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct GoneItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    pub(super) account_id: AccountId,
    pub(super) user_id: UserId,
    pub(super) account_type: Provider,
    pub(super) event_seq: u64,
    pub(super) outbox: Vec<RecordedFact>,
    #[serde(rename = "GSI3PK")]
    pub(super) gsi3pk: String,
    /// Epoch milliseconds, as on account items.
    #[serde(rename = "GSI3SK", with = "chrono::serde::ts_milliseconds")]
    pub(super) gsi3sk: chrono::DateTime<chrono::Utc>,
}

impl GoneItem {
    pub(super) fn new(subject: &EventSubject, outbox: &Outbox) -> Result<Self, StoreError> {
        let first = outbox
            .waiting
            .first()
            .ok_or_else(|| StoreError::Corrupt("a disconnection records a fact".into()))?;
        Ok(Self {
            pk: super::items::account_pk(&subject.account_id),
            sk: GONE_SK.to_owned(),
            account_id: subject.account_id.clone(),
            user_id: subject.user_id.clone(),
            account_type: subject.provider.clone(),
            event_seq: outbox.recorded,
            outbox: outbox.waiting.clone(),
            gsi3pk: OUTBOX.to_owned(),
            gsi3sk: first.at,
        })
    }

    pub(super) fn into_parts(self) -> (EventSubject, Outbox) {
        (
            EventSubject {
                user_id: self.user_id,
                account_id: self.account_id,
                provider: self.account_type,
            },
            Outbox {
                recorded: self.event_seq,
                waiting: self.outbox,
            },
        )
    }
}

/// The clauses that drop the first `count` facts of `outbox` (and their copies) from an
/// account item; `all`: every waiting fact goes, and the item leaves the sweeper's index.
pub(super) fn drop_first(
    update: &mut Update,
    outbox: &Outbox,
    count: usize,
    all: bool,
) -> Vec<(String, String)> {
    let mut names = Vec::new();
    if all {
        update.remove("#outbox").remove("GSI3PK").remove("GSI3SK");
    } else {
        for index in 0..count {
            update.remove(&format!("#outbox[{index}]"));
        }
    }
    for (index, fact) in outbox.waiting.iter().take(count).enumerate() {
        let (p, o) = (format!("#evp{index}"), format!("#evo{index}"));
        update.remove(&p).remove(&o);
        names.push((p, previous_attribute(fact)));
        names.push((o, outage_attribute(fact)));
    }
    names
}
