//! The event feed in memory: what the local stack answers and tests page through. Entries
//! are kept by position as the table keeps them; nothing expires on its own (readers filter
//! by age, as they must on DynamoDB, whose TTL deletes late).

use crate::domain::AccountId;
use crate::domain::events::EventId;
use crate::domain::feed::{FeedBounds, FeedEntry, FeedPosition, FeedScope};
use crate::ports::{EventFeed, StoreError};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Default)]
struct Entries {
    all: BTreeMap<FeedPosition, FeedEntry>,
    by_account: HashMap<AccountId, BTreeMap<FeedPosition, FeedEntry>>,
    first: HashMap<EventId, FeedPosition>,
}

#[derive(Debug, Default)]
pub struct MemoryFeed {
    entries: Mutex<Entries>,
    failing: AtomicU32,
}

impl MemoryFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `count` appends fail as an unreachable table would (nothing written).
    pub fn fail_next(&self, count: u32) {
        self.failing.store(count, Ordering::SeqCst);
    }

    /// Every entry, in order, repeats included.
    pub fn entries(&self) -> Vec<FeedEntry> {
        self.lock().all.values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl EventFeed for MemoryFeed {
    async fn append(&self, entries: &[FeedEntry]) -> Result<(), StoreError> {
        let failing = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(StoreError::Unavailable("simulated outage".into()));
        }
        let mut stored = self.lock();
        for entry in entries {
            stored.all.insert(entry.position.clone(), entry.clone());
            stored
                .by_account
                .entry(entry.event.data.account_id.clone())
                .or_default()
                .insert(entry.position.clone(), entry.clone());
            stored
                .first
                .entry(entry.event.id.clone())
                .or_insert_with(|| entry.position.clone());
        }
        Ok(())
    }

    async fn first_positions(
        &self,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, FeedPosition>, StoreError> {
        let stored = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| Some((id.clone(), stored.first.get(id)?.clone())))
            .collect())
    }

    async fn page(
        &self,
        scope: &FeedScope,
        bounds: &FeedBounds,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let stored = self.lock();
        let entries = match scope {
            FeedScope::All => Some(&stored.all),
            FeedScope::Account(account) => stored.by_account.get(account),
        };
        Ok(entries
            .into_iter()
            .flat_map(|entries| entries.values())
            .filter(|entry| bounds.contains(&entry.position))
            .take(limit)
            .cloned()
            .collect())
    }
}
