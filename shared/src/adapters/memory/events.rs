//! Lifecycle events in memory: what the local stack shows and tests inspect.

use crate::domain::events::LifecycleEvent;
use crate::ports::{EventPublisher, PublishError};
use async_trait::async_trait;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// Every event published, in order; repeats kept, as a bus would deliver them.
#[derive(Debug, Default)]
pub struct MemoryEvents {
    published: Mutex<Vec<LifecycleEvent>>,
    failing: AtomicU32,
}

impl MemoryEvents {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `count` publications fail as an unreachable bus would (nothing published).
    pub fn fail_next(&self, count: u32) {
        self.failing.store(count, Ordering::SeqCst);
    }

    /// Every publication so far, in order, repeats included.
    pub fn published(&self) -> Vec<LifecycleEvent> {
        self.published
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Each event once (its first publication), in order: what a consumer that drops
    /// repeated ids keeps.
    pub fn distinct(&self) -> Vec<LifecycleEvent> {
        let mut seen = std::collections::HashSet::new();
        self.published()
            .into_iter()
            .filter(|e| seen.insert(e.id.clone()))
            .collect()
    }
}

#[async_trait]
impl EventPublisher for MemoryEvents {
    async fn publish(&self, events: &[LifecycleEvent]) -> Result<(), PublishError> {
        let failing = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(PublishError::Unavailable("simulated outage".into()));
        }
        self.published
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(events);
        Ok(())
    }
}
