//! In-memory adapters: the same contracts as the AWS ones, for unit tests and the local stack.

use crate::domain::{Account, AccountId, AccountStatus, Provider, UserId};
use crate::ports::{
    AccountStore, Clock, ConnectedAccount, HostedLinkRequest, StoreError, Unipile, UnipileAccount,
    UnipileError, UnipileErrorType, UserProfile,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use url::Url;

#[derive(Debug, Default)]
struct Tables {
    accounts: HashMap<AccountId, Account>,
    profiles: HashMap<UserId, UserProfile>,
}

/// An [`AccountStore`] in a mutex: each call is atomic, as each DynamoDB write is.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-written record: every write is
        // a single insert or remove, so the data is still consistent.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn get_account(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self.lock().accounts.get(account_id).cloned())
    }

    async fn record_connection(
        &self,
        connection: &ConnectedAccount,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let mut tables = self.lock();
        let existing = tables.accounts.get(&connection.account_id);
        if existing.is_some_and(|a| !a.is_owned_by(&connection.user_id)) {
            return Err(StoreError::OwnedByAnotherUser);
        }
        let account = Account {
            account_id: connection.account_id.clone(),
            user_id: connection.user_id.clone(),
            account_type: connection.account_type.clone(),
            status: connection.status.clone(),
            last_update: now,
            created_on: existing.map_or(now, |a| a.created_on),
        };
        tables
            .accounts
            .insert(account.account_id.clone(), account.clone());
        Ok(account)
    }

    async fn accounts_of(&self, user: &UserId) -> Result<Vec<Account>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .values()
            .filter(|a| a.is_owned_by(user))
            .cloned()
            .collect())
    }

    async fn delete_account(
        &self,
        account_id: &AccountId,
        owner: &UserId,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        match tables.accounts.get(account_id) {
            Some(account) if !account.is_owned_by(owner) => Err(StoreError::OwnedByAnotherUser),
            _ => {
                tables.accounts.remove(account_id);
                Ok(())
            }
        }
    }

    async fn save_profile(&self, profile: &UserProfile) -> Result<(), StoreError> {
        self.lock()
            .profiles
            .insert(profile.user_id.clone(), profile.clone());
        Ok(())
    }

    async fn profile_of(&self, user: &UserId) -> Result<Option<UserProfile>, StoreError> {
        Ok(self.lock().profiles.get(user).cloned())
    }
}

/// A clock that only moves when told to, so time-dependent rules test in microseconds.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A Unipile that lives in memory: it knows the accounts it is given, records the links it is
/// asked for, and can be told to fail, so flows and handlers test without a network.
#[derive(Debug, Default)]
pub struct MemoryUnipile {
    state: Mutex<MemoryUnipileState>,
}

#[derive(Debug, Default)]
struct MemoryUnipileState {
    accounts: HashMap<AccountId, Provider>,
    links: Vec<HostedLinkRequest>,
    deleted: Vec<AccountId>,
    failure: Option<UnipileError>,
}

impl MemoryUnipile {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemoryUnipileState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_account(&self, account_id: &AccountId, account_type: Provider) {
        self.lock()
            .accounts
            .insert(account_id.clone(), account_type);
    }

    /// Every call fails with `error` until [`Self::recover`].
    pub fn fail_with(&self, error: UnipileError) {
        self.lock().failure = Some(error);
    }

    pub fn recover(&self) {
        self.lock().failure = None;
    }

    pub fn links(&self) -> Vec<HostedLinkRequest> {
        self.lock().links.clone()
    }

    pub fn deleted(&self) -> Vec<AccountId> {
        self.lock().deleted.clone()
    }

    fn check(&self) -> Result<(), UnipileError> {
        self.lock().failure.clone().map_or(Ok(()), Err)
    }
}

fn not_found(account_id: &AccountId) -> UnipileError {
    UnipileError::Api {
        status: 404,
        error_type: UnipileErrorType::ResourceNotFound,
        title: format!("no account {account_id}"),
        detail: None,
    }
}

#[async_trait]
impl Unipile for MemoryUnipile {
    async fn create_hosted_link(&self, request: &HostedLinkRequest) -> Result<Url, UnipileError> {
        self.check()?;
        let mut state = self.lock();
        state.links.push(request.clone());
        Url::parse(&format!(
            "https://account.unipile.test/link/{}",
            state.links.len()
        ))
        .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))
    }

    async fn account(&self, account_id: &AccountId) -> Result<UnipileAccount, UnipileError> {
        self.check()?;
        let state = self.lock();
        let account_type = state
            .accounts
            .get(account_id)
            .ok_or_else(|| not_found(account_id))?;
        Ok(UnipileAccount {
            account_id: account_id.clone(),
            account_type: account_type.clone(),
            source_statuses: vec![AccountStatus::Ok],
        })
    }

    async fn delete_account(&self, account_id: &AccountId) -> Result<(), UnipileError> {
        self.check()?;
        let mut state = self.lock();
        state.accounts.remove(account_id);
        state.deleted.push(account_id.clone());
        Ok(())
    }
}

/// Every port in memory, with handles kept so a test can arrange and inspect them.
pub struct MemoryWorld {
    pub store: std::sync::Arc<MemoryStore>,
    pub unipile: std::sync::Arc<MemoryUnipile>,
    pub clock: std::sync::Arc<ManualClock>,
}

impl MemoryWorld {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            store: std::sync::Arc::new(MemoryStore::new()),
            unipile: std::sync::Arc::new(MemoryUnipile::new()),
            clock: std::sync::Arc::new(ManualClock::at(now)),
        }
    }

    pub fn deps(&self) -> crate::deps::Deps {
        crate::deps::Deps {
            store: self.store.clone(),
            unipile: self.unipile.clone(),
            clock: self.clock.clone(),
        }
    }
}
