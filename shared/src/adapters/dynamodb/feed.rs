//! The event feed on the accounts table, with no index of its own (CloudFormation adds one
//! global secondary index per stack update, and this release adds GSI3). Each published
//! event is three items, written in one transaction:
//!
//! - `FEED` / `<position>`: the whole feed, in order;
//! - `FEED#ACCOUNT#<account id>` / `<position>`: the account's;
//! - `EVENT#<id>` / `FEED`: the id's first position (`if_not_exists`: a repeated publication
//!   keeps it), where a reader's cursor is looked up.
//!
//! Each holds the event's JSON and `expires_at` (the table's TTL, epoch seconds): 30 days
//! after its position, the marker after the first. The partitions are read with a Query between two positions.
//! The whole feed is one partition: a few thousand events a day are far below the writes one
//! partition takes.

use super::expression::{corrupt, unavailable};
use super::items::TTL_ATTRIBUTE;
use crate::domain::AccountId;
use crate::domain::events::{EventId, LifecycleEvent};
use crate::domain::feed::{FeedBounds, FeedEntry, FeedPosition, FeedScope};
use crate::ports::{EventFeed, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

const FEED_PK: &str = "FEED";
const MARKER_SK: &str = "FEED";

/// Items one transaction takes at most (DynamoDB's limit), and so events one writes.
const TRANSACTION_ITEMS: usize = 100;
const ITEMS_PER_EVENT: usize = 3;

/// Keys one BatchGetItem takes at most.
const BATCH_KEYS: usize = 100;

/// Tries of the keys a BatchGetItem left unprocessed (throttled) before the read fails.
const BATCH_TRIES: usize = 3;

fn account_feed_pk(account: &AccountId) -> String {
    format!("{FEED_PK}#ACCOUNT#{account}")
}

fn marker_pk(id: &EventId) -> String {
    format!("EVENT#{id}")
}

/// A feed entry as the table holds it, in either partition.
#[derive(Debug, Serialize, Deserialize)]
struct EntryItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// The event's JSON as it was published.
    event: String,
    /// [`TTL_ATTRIBUTE`]: epoch seconds.
    #[serde(with = "chrono::serde::ts_seconds")]
    expires_at: DateTime<Utc>,
}

/// The event feed on DynamoDB. The client is the store's, built once at cold start.
#[derive(Debug, Clone)]
pub struct DynamoFeed {
    client: Client,
    table: String,
}

impl DynamoFeed {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The three writes of one entry.
    fn writes(&self, entry: &FeedEntry) -> Result<Vec<TransactWriteItem>, StoreError> {
        let event = serde_json::to_string(&entry.event)
            .map_err(|e| StoreError::Corrupt(format!("an event as JSON: {e}")))?;
        let expires_at = entry
            .position
            .expires_at()
            .ok_or_else(|| StoreError::Corrupt(format!("{} has no time", entry.position)))?;
        let put = |pk: String| {
            let item = EntryItem {
                pk,
                sk: entry.position.to_string(),
                event: event.clone(),
                expires_at,
            };
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        let marker = Update::builder()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(marker_pk(&entry.event.id)))
            .key("SK", AttributeValue::S(MARKER_SK.to_owned()))
            // The first publication's position stays: a cursor stands for it.
            .update_expression(
                "SET #position = if_not_exists(#position, :position), \
                 #event = if_not_exists(#event, :event), \
                 #expires = if_not_exists(#expires, :expires)",
            )
            .expression_attribute_names("#position", "position")
            .expression_attribute_names("#event", "event")
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":position", AttributeValue::S(entry.position.to_string()))
            .expression_attribute_values(":event", AttributeValue::S(event.clone()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N(expires_at.timestamp().to_string()),
            )
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(vec![
            put(FEED_PK.to_owned())?,
            put(account_feed_pk(&entry.event.data.account_id))?,
            TransactWriteItem::builder().update(marker).build(),
        ])
    }
}

fn text_of<'a>(
    item: &'a HashMap<String, AttributeValue>,
    name: &str,
) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::Corrupt(format!("a feed item without {name}")))
}

#[async_trait]
impl EventFeed for DynamoFeed {
    /// One transaction per 33 entries, in order. An event named twice in one call is written
    /// once (a transaction may not touch one item twice).
    async fn append(&self, entries: &[FeedEntry]) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        let entries: Vec<&FeedEntry> = entries
            .iter()
            .filter(|entry| seen.insert(entry.event.id.clone()))
            .collect();
        for chunk in entries.chunks(TRANSACTION_ITEMS / ITEMS_PER_EVENT) {
            let mut writes = Vec::with_capacity(chunk.len() * ITEMS_PER_EVENT);
            for entry in chunk {
                writes.extend(self.writes(entry)?);
            }
            self.client
                .transact_write_items()
                .set_transact_items(Some(writes))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn first_positions(
        &self,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, FeedPosition>, StoreError> {
        let mut found = HashMap::new();
        let distinct: Vec<&EventId> = ids.iter().collect::<HashSet<_>>().into_iter().collect();
        for chunk in distinct.chunks(BATCH_KEYS) {
            let keys = chunk
                .iter()
                .map(|id| {
                    HashMap::from([
                        ("PK".to_owned(), AttributeValue::S(marker_pk(id))),
                        ("SK".to_owned(), AttributeValue::S(MARKER_SK.to_owned())),
                    ])
                })
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression("PK, #position")
                    .expression_attribute_names("#position", "position")
                    // A cursor may name an event published a moment ago.
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            );
            for _ in 0..BATCH_TRIES {
                let Some(asked) = request.take() else {
                    break;
                };
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, asked)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in answer
                    .responses
                    .and_then(|mut tables| tables.remove(&self.table))
                    .unwrap_or_default()
                {
                    let id = text_of(&item, "PK")?
                        .strip_prefix("EVENT#")
                        .and_then(|id| EventId::parse(id).ok())
                        .ok_or_else(|| StoreError::Corrupt("a feed marker's key".into()))?;
                    let position = FeedPosition::parse(text_of(&item, "position")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    found.insert(id, position);
                }
                request = answer
                    .unprocessed_keys
                    .and_then(|mut tables| tables.remove(&self.table))
                    .filter(|left| !left.keys.is_empty());
            }
            if request.is_some() {
                return Err(StoreError::Unavailable(
                    "the feed's positions were not all read (throttled)".into(),
                ));
            }
        }
        Ok(found)
    }

    async fn page(
        &self,
        scope: &FeedScope,
        bounds: &FeedBounds,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        if bounds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let pk = match scope {
            FeedScope::All => FEED_PK.to_owned(),
            FeedScope::Account(account) => account_feed_pk(account),
        };
        let mut entries = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :lower AND :upper")
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":lower", AttributeValue::S(bounds.lower.clone()))
                .expression_attribute_values(":upper", AttributeValue::S(bounds.upper.clone()))
                .limit(i32::try_from(limit - entries.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                let item: EntryItem = serde_dynamo::from_item(item).map_err(corrupt)?;
                let position = FeedPosition::parse(&item.sk)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let event: LifecycleEvent = serde_json::from_str(&item.event)
                    .map_err(|e| StoreError::Corrupt(format!("a feed entry's event: {e}")))?;
                entries.push(FeedEntry { position, event });
            }
            match page.last_evaluated_key {
                Some(key) if entries.len() < limit => start = Some(key),
                _ => return Ok(entries),
            }
        }
    }
}
