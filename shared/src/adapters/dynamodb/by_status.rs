//! Accounts in one status, for the team's backend: a filtered Scan, page by page.
//!
//! A Scan, not an index: CloudFormation adds one global secondary index per stack update,
//! and this release adds GSI3 (the outbox). Its cost is the table's size over the pages a
//! caller reads (about 0.5 read units per 4 KB scanned; 100,000 accounts with a cookie record
//! each, some 60 MB, cost about 7,500 read units, under a cent, to list through), and one
//! request reads at most [`SCAN_BUDGET`] items, so a page answers in bounded time even when
//! few accounts match.

use super::expression::unavailable;
use super::items::ACCOUNT_SK;
use super::{DynamoStore, account_of};
use crate::domain::{Account, AccountStatus};
use crate::ports::{StoreError, StoredAccountPage};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use std::collections::HashMap;

/// Items one request reads at most before it answers with what it found and a cursor.
pub(super) const SCAN_BUDGET: i32 = 2_000;

/// The opaque cursor: the table key (`PK`, `SK`) to go on after, as base64url JSON.
fn encode(key: &HashMap<String, AttributeValue>) -> Result<String, StoreError> {
    let key: HashMap<&str, &str> = ["PK", "SK"]
        .into_iter()
        .filter_map(|name| Some((name, key.get(name)?.as_s().ok()?.as_str())))
        .collect();
    if key.len() != 2 {
        return Err(StoreError::Corrupt("a scan key without PK and SK".into()));
    }
    let json = serde_json::to_vec(&key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(B64URL.encode(json))
}

fn decode(cursor: &str) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let bad = || StoreError::BadCursor("not a cursor this listing gave".into());
    let json = B64URL.decode(cursor.trim()).map_err(|_| bad())?;
    let key: HashMap<String, String> = serde_json::from_slice(&json).map_err(|_| bad())?;
    let (Some(pk), Some(sk)) = (key.get("PK"), key.get("SK")) else {
        return Err(bad());
    };
    if key.len() != 2 || !pk.starts_with("ACCOUNT#") || sk != ACCOUNT_SK {
        return Err(bad());
    }
    Ok(key
        .into_iter()
        .map(|(name, value)| (name, AttributeValue::S(value)))
        .collect())
}

impl DynamoStore {
    pub(super) async fn scan_status(
        &self,
        status: &AccountStatus,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<StoredAccountPage, StoreError> {
        let mut start = cursor.map(decode).transpose()?;
        let mut accounts: Vec<Account> = Vec::new();
        let mut budget = SCAN_BUDGET;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("SK = :account AND #status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":account", AttributeValue::S(ACCOUNT_SK.into()))
                .expression_attribute_values(":status", AttributeValue::S(status.to_string()))
                .limit(budget.min(self.scan_page_items.unwrap_or(SCAN_BUDGET)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            budget -= page.scanned_count;
            let last = page.last_evaluated_key;
            let items = page.items.unwrap_or_default();
            let count = items.len();
            for (index, item) in items.into_iter().enumerate() {
                let key: HashMap<String, AttributeValue> = ["PK", "SK"]
                    .into_iter()
                    .filter_map(|name| Some((name.to_owned(), item.get(name)?.clone())))
                    .collect();
                accounts.push(account_of(item)?);
                if accounts.len() == limit {
                    // Full: go on after this very item, unless it ended the table.
                    let ended = index + 1 == count && last.is_none();
                    let next = if ended { None } else { Some(encode(&key)?) };
                    return Ok(StoredAccountPage { accounts, next });
                }
            }
            match last {
                None => {
                    return Ok(StoredAccountPage {
                        accounts,
                        next: None,
                    });
                }
                Some(key) if budget <= 0 => {
                    return Ok(StoredAccountPage {
                        accounts,
                        next: Some(encode(&key)?),
                    });
                }
                Some(key) => start = Some(key),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_an_account_key_and_nothing_else_passes() {
        let key = HashMap::from([
            ("PK".to_owned(), AttributeValue::S("ACCOUNT#acc_1".into())),
            ("SK".to_owned(), AttributeValue::S("ACCOUNT".into())),
        ]);
        let cursor = encode(&key).expect("encoded");
        assert_eq!(decode(&cursor).expect("decoded"), key);
        for bad in [
            "",
            "not base64!",
            &B64URL.encode(b"[]"),
            &B64URL.encode(br#"{"PK":"USER#u1","SK":"ACCOUNT"}"#),
            &B64URL.encode(br#"{"PK":"ACCOUNT#a","SK":"COOKIE#1"}"#),
            &B64URL.encode(br#"{"PK":"ACCOUNT#a","SK":"ACCOUNT","x":"y"}"#),
        ] {
            assert!(
                matches!(decode(bad), Err(StoreError::BadCursor(_))),
                "{bad}"
            );
        }
    }
}
