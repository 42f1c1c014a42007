//! The [`UserDirectory`] in memory.

use crate::domain::{Email, UserId};
use crate::ports::{DirectoryEmail, DirectoryError, UserDirectory};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// A [`UserDirectory`] a test fills, that counts its lookups and can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    users: Mutex<HashMap<UserId, DirectoryEmail>>,
    lookups: AtomicU32,
    failing: AtomicU32,
}

impl MemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// `user` is listed with `address`, verified or not.
    pub fn add(&self, user: &UserId, address: Email, verified: bool) {
        self.users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user.clone(), DirectoryEmail { address, verified });
    }

    /// How many times the directory was asked.
    pub fn lookups(&self) -> u32 {
        self.lookups.load(Ordering::SeqCst)
    }

    /// The next `count` lookups fail as an unreachable directory would.
    pub fn fail_next(&self, count: u32) {
        self.failing.store(count, Ordering::SeqCst);
    }
}

#[async_trait]
impl UserDirectory for MemoryDirectory {
    async fn email_of(&self, user: &UserId) -> Result<Option<DirectoryEmail>, DirectoryError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(DirectoryError("simulated outage".into()));
        }
        Ok(self
            .users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user)
            .cloned())
    }
}
