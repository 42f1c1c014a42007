//! The [`AccountStore`] in memory.

use crate::domain::events::{EventSubject, Fact, How, Outbox, RecordedFact};
use crate::domain::login_attempt::{LoginAttempt, LoginSlot};
use crate::domain::transitions::{StatusPlan, TransitionPolicy, plan};
use crate::domain::{
    Account, AccountId, AccountStatus, CookieRecord, LinkNonce, LinkedinIdentities,
    LinkedinMemberId, LinkedinProfileId, Outage, PausedIdentity, PendingAction, Provider, UserId,
};
use crate::ports::{
    AccountStore, Completion, ConnectedAccount, CookieClaim, CookieResult, CookieUpdate,
    Disconnection, Inventory, InventoryPage, LoginAttempts, OutboxKey, ReconnectStep, ReportRecord,
    SettleBasis, Settled, StateUse, StatusRecord, StoreError, StoredAccountPage, UserProfile,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Tables {
    accounts: HashMap<AccountId, Account>,
    profiles: HashMap<UserId, UserProfile>,
    cookies: HashMap<(UserId, LinkedinMemberId), CookieRecord>,
    /// Paused identities: in DynamoDB the same item as the cookie record, so a key is in at
    /// most one of `cookies` and `paused`.
    paused: HashMap<(UserId, LinkedinMemberId), PausedIdentity>,
    /// Spent state tokens. Never expired here: one small entry per connection is nothing for
    /// a test or a local session, and an expired token is refused before it is looked up.
    states: HashMap<LinkNonce, StateUse>,
    /// Each user's counted LinkedIn identities (the cap's list).
    identities: HashMap<UserId, BTreeSet<LinkedinMemberId>>,
    /// The outboxes of disconnected accounts, until their facts are published.
    disconnected: HashMap<AccountId, (EventSubject, Outbox)>,
    /// Custom-auth slots, per user and provider.
    login_slots: HashMap<(UserId, Provider), LoginSlot>,
    /// Custom-auth attempts, by the account id Unipile gave them.
    login_attempts: HashMap<AccountId, LoginAttempt>,
}

/// An [`AccountStore`] in a mutex: each call is atomic, as each DynamoDB write is.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    failing_writes: std::sync::atomic::AtomicU32,
    failing_connections: std::sync::atomic::AtomicU32,
    failing_cookie_results: std::sync::atomic::AtomicU32,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `count` status and pending-action writes fail as an unreachable table would.
    pub fn fail_next_writes(&self, count: u32) {
        self.failing_writes
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `count` connection records fail as an unreachable table would (the writes
    /// before them, such as spending a state token, go through).
    pub fn fail_next_connections(&self, count: u32) {
        self.failing_connections
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `count` writes of a login's result on a cookie record fail as an unreachable
    /// table would (the writes before them go through).
    pub fn fail_next_cookie_results(&self, count: u32) {
        self.failing_cookie_results
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every item it holds, counted as DynamoDB would: to prove a refused request wrote nothing.
    pub fn item_count(&self) -> usize {
        let tables = self.lock();
        tables.accounts.len()
            + tables.profiles.len()
            + tables.cookies.len()
            + tables.paused.len()
            + tables.states.len()
            + tables.identities.len()
            + tables.disconnected.len()
            + tables.login_slots.len()
            + tables.login_attempts.len()
    }

    /// Every item it holds, one line each, sorted: what a test compares to prove that a
    /// request changed nothing of someone's.
    pub fn contents(&self) -> Vec<String> {
        let tables = self.lock();
        let mut lines: Vec<String> = tables
            .accounts
            .values()
            .map(|v| format!("{v:?}"))
            .chain(tables.profiles.values().map(|v| format!("{v:?}")))
            .chain(tables.cookies.iter().map(|v| format!("{v:?}")))
            .chain(tables.paused.iter().map(|v| format!("{v:?}")))
            .chain(tables.states.values().map(|v| format!("{v:?}")))
            .chain(tables.identities.iter().map(|v| format!("{v:?}")))
            .chain(tables.disconnected.iter().map(|v| format!("{v:?}")))
            .chain(tables.login_slots.values().map(|v| format!("{v:?}")))
            .chain(tables.login_attempts.values().map(|v| format!("{v:?}")))
            .collect();
        lines.sort();
        lines
    }

    /// The record of a spent state token, if it was spent.
    pub fn state_use(&self, nonce: &LinkNonce) -> Option<StateUse> {
        self.lock().states.get(nonce).cloned()
    }

    fn check_write(&self) -> Result<(), StoreError> {
        Self::take_failure(&self.failing_writes)
    }

    fn take_failure(counter: &std::sync::atomic::AtomicU32) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let failing =
            counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        match failing {
            Ok(_) => Err(StoreError::Unavailable("simulated outage".into())),
            Err(_) => Ok(()),
        }
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
impl LoginAttempts for MemoryStore {
    async fn login_slot(
        &self,
        user: &UserId,
        provider: &Provider,
    ) -> Result<Option<LoginSlot>, StoreError> {
        Ok(self
            .lock()
            .login_slots
            .get(&(user.clone(), provider.clone()))
            .cloned())
    }

    async fn put_login_slot(&self, slot: &LoginSlot) -> Result<bool, StoreError> {
        self.check_write()?;
        let mut tables = self.lock();
        let key = (slot.user_id.clone(), slot.provider.clone());
        let stored = tables.login_slots.get(&key).map_or(0, |s| s.version);
        if stored != slot.version {
            return Ok(false);
        }
        let written = LoginSlot {
            version: slot.version + 1,
            ..slot.clone()
        };
        tables.login_slots.insert(key, written);
        Ok(true)
    }

    async fn put_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        self.check_write()?;
        let mut tables = self.lock();
        if tables
            .login_attempts
            .get(&attempt.account_id)
            .is_some_and(|a| a.user_id != attempt.user_id)
        {
            return Err(StoreError::OwnedByAnotherUser);
        }
        tables
            .login_attempts
            .insert(attempt.account_id.clone(), attempt.clone());
        Ok(())
    }

    async fn login_attempt(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<LoginAttempt>, StoreError> {
        Ok(self.lock().login_attempts.get(account_id).cloned())
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn get_account(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self.lock().accounts.get(account_id).cloned())
    }

    async fn record_confirmed_connection(
        &self,
        connection: &ConnectedAccount,
        outage: &Outage,
        follow_up: Option<&PendingAction>,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let fact = RecordedFact::new(Fact::Status { how }, now).map_err(StoreError::Unavailable)?;
        let mut tables = self.lock();
        Self::take_failure(&self.failing_connections)?;
        let existing = tables.accounts.get(&connection.account_id);
        if existing.is_some_and(|a| !a.is_owned_by(&connection.user_id)) {
            return Err(StoreError::OwnedByAnotherUser);
        }
        let kept = existing.cloned();
        let mut account = Account {
            account_id: connection.account_id.clone(),
            user_id: connection.user_id.clone(),
            account_type: connection.account_type.clone(),
            display_name: connection.display_name.clone(),
            status: connection.status.clone(),
            last_update: now,
            created_on: kept.as_ref().map_or(now, |a| a.created_on),
            pending: kept.as_ref().and_then(|a| a.pending.clone()),
            restart_attempted_at: kept.as_ref().and_then(|a| a.restart_attempted_at),
            linkedin_member_id: connection
                .linkedin_member_id
                .clone()
                .or_else(|| kept.as_ref().and_then(|a| a.linkedin_member_id.clone())),
            linkedin_profile_id: connection
                .linkedin_profile_id
                .clone()
                .or_else(|| kept.as_ref().and_then(|a| a.linkedin_profile_id.clone())),
            cookie_reconnect: kept.as_ref().and_then(|a| a.cookie_reconnect.clone()),
            outage: kept.as_ref().and_then(|a| a.outage.clone()),
            emailed_outage: kept.as_ref().and_then(|a| a.emailed_outage.clone()),
            emailed_by: kept.as_ref().and_then(|a| a.emailed_by.clone()),
            email_sent_at: kept.as_ref().and_then(|a| a.email_sent_at),
            email_uncertain_at: kept.as_ref().and_then(|a| a.email_uncertain_at),
            outbox: kept.as_ref().map(|a| a.outbox.clone()).unwrap_or_default(),
        };
        let confirmed = plan(&connection.status, &TransitionPolicy::default());
        account = account.with_outage_for(&confirmed, outage);
        if let Some(follow_up) = follow_up.filter(|_| !confirmed.ends_outage()) {
            account.pending = Some(follow_up.clone());
        }
        account = account.with_fact(kept.map(|a| a.status), fact);
        tables
            .accounts
            .insert(account.account_id.clone(), account.clone());
        Ok(account)
    }

    async fn consume_state(&self, state: &StateUse) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        // The DynamoDB condition: unused, or spent on this same account.
        match tables.states.get(&state.nonce) {
            Some(spent) if spent.account_id != state.account_id => Ok(false),
            _ => {
                tables.states.insert(state.nonce.clone(), state.clone());
                Ok(true)
            }
        }
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

    async fn disconnect(
        &self,
        seen: &Account,
        fact: &RecordedFact,
    ) -> Result<Disconnection, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let id = &seen.account_id;
        let Some(current) = tables.accounts.get(id) else {
            return Ok(Disconnection::Absent);
        };
        if !current.is_owned_by(&seen.user_id) {
            return Err(StoreError::OwnedByAnotherUser);
        }
        if current.outbox.recorded != seen.outbox.recorded {
            return Ok(Disconnection::Changed);
        }
        let Some(gone) = tables.accounts.remove(id) else {
            return Ok(Disconnection::Absent);
        };
        let status = gone.status.clone();
        let last = gone.clone().with_fact(Some(status), fact.clone());
        let (subject, outbox) = (last.subject(), last.outbox);
        // Like the item DynamoDB puts: an account id is disconnected once (Unipile deletes
        // the account first), so nothing waits there from an earlier disconnection.
        tables
            .disconnected
            .insert(id.clone(), (subject, outbox.clone()));
        Ok(Disconnection::Done(
            OutboxKey {
                account_id: id.clone(),
                disconnected: true,
            },
            outbox,
        ))
    }

    async fn record_status(
        &self,
        account_id: &AccountId,
        plan: &StatusPlan,
        outage: &Outage,
        how: How,
        now: DateTime<Utc>,
    ) -> Result<StatusRecord, StoreError> {
        let fact = RecordedFact::new(Fact::Status { how }, now).map_err(StoreError::Unavailable)?;
        let mut tables = self.lock();
        self.check_write()?;
        let Some(current) = tables.accounts.get(account_id).cloned() else {
            return Ok(StatusRecord::UnknownAccount);
        };
        let blocked = current.status == AccountStatus::Deleted && !plan.revives_deleted;
        if current.status == plan.stored || blocked {
            return Ok(StatusRecord::Unchanged(current));
        }
        let previous = current.status.clone();
        let mut record = StatusRecord::changed(current, plan, outage, now);
        if let StatusRecord::Changed { account, .. } = &mut record {
            *account = account.clone().with_fact(Some(previous), fact);
            tables.accounts.insert(account_id.clone(), account.clone());
        }
        Ok(record)
    }

    async fn record_report(
        &self,
        account_id: &AccountId,
        reported: &StatusPlan,
        action: &PendingAction,
        _now: DateTime<Utc>,
    ) -> Result<ReportRecord, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let Some(account) = tables.accounts.get_mut(account_id) else {
            return Ok(ReportRecord::UnknownAccount);
        };
        let same = account.status == reported.stored;
        let blocked = account.status == AccountStatus::Deleted && !reported.revives_deleted;
        let busy = account.pending.as_ref().is_some_and(|p| !p.is_abandoned());
        if same || blocked || busy {
            return Ok(ReportRecord::NotRecorded(account.clone()));
        }
        account.pending = Some(action.clone());
        Ok(ReportRecord::Recorded(account.clone()))
    }

    async fn settle_confirmed(
        &self,
        account_id: &AccountId,
        basis: SettleBasis<'_>,
        settled: &Settled,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let Some(account) = tables.accounts.get_mut(account_id) else {
            return Ok(None);
        };
        let holds_basis = match basis {
            SettleBasis::AsSeen(seen) => {
                account.status == seen.status
                    && account.outage_id() == seen.outage_id()
                    && account.pending.is_none()
            }
            SettleBasis::Holding(claim) => holds(account, claim),
        };
        let mark = settled
            .mark
            .as_ref()
            .zip(settled.then.as_ref().and_then(|t| t.claim.as_ref()));
        let marked_by_another = mark.is_some_and(|(outage, claim)| {
            account.emailed_outage.as_ref() == Some(outage)
                && account.emailed_by.as_ref() != Some(claim)
        });
        if !holds_basis || marked_by_another {
            return Ok(None);
        }
        let mut next = account.clone();
        let previous = next.status.clone();
        if let Some(plan) = &settled.status {
            next = next.with_status(plan, &settled.outage, now);
        }
        let ended = settled.status.as_ref().is_some_and(|p| p.ends_outage());
        if !ended {
            next.pending = settled.then.clone();
            if let Some((outage, claim)) = mark {
                next.emailed_outage = Some(outage.clone());
                next.emailed_by = Some(claim.clone());
                next.email_sent_at = None;
                next.email_uncertain_at = None;
            }
        }
        if let Some(fact) = settled.fact.clone().filter(|_| settled.status.is_some()) {
            next = next.with_fact(Some(previous), fact);
        }
        *account = next.clone();
        Ok(Some(next))
    }

    async fn owe_email(
        &self,
        account_id: &AccountId,
        claim: &str,
        owed: &PendingAction,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        match tables.accounts.get_mut(account_id) {
            Some(account) if account.emailed_by.as_deref() == Some(claim) => {
                account.emailed_outage = None;
                account.emailed_by = None;
                account.pending = Some(owed.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn claim_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        claim: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<PendingAction>, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let pending = tables
            .accounts
            .get_mut(account_id)
            .and_then(|a| a.pending.as_mut());
        match pending {
            Some(p) if p.id == pending_id && p.is_claimable_at(now) => {
                p.claim = Some(claim.to_owned());
                p.claimed_until = Some(until);
                p.attempts += 1;
                Ok(Some(p.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn complete_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        completion: &Completion,
    ) -> Result<Option<Account>, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let Some(account) = tables.accounts.get_mut(account_id) else {
            return Ok(None);
        };
        if !holds(account, claim) {
            return Ok(None);
        }
        account.pending = None;
        if completion.restart_attempted_at.is_some() {
            account.restart_attempted_at = completion.restart_attempted_at;
        }
        if completion.reconnect.is_some() {
            account.cookie_reconnect = completion.reconnect.clone();
        }
        if completion.email_sent_at.is_some() {
            account.email_sent_at = completion.email_sent_at;
        }
        if completion.email_uncertain_at.is_some() {
            account.email_uncertain_at = completion.email_uncertain_at;
        }
        if let Some(fact) = &completion.fact {
            *account = account
                .clone()
                .with_fact(Some(account.status.clone()), fact.clone());
        }
        Ok(Some(account.clone()))
    }

    async fn abandon_pending(
        &self,
        account_id: &AccountId,
        pending_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let pending = tables
            .accounts
            .get_mut(account_id)
            .and_then(|a| a.pending.as_mut());
        match pending {
            Some(p) if p.id == pending_id && p.is_claimable_at(now) => {
                p.abandoned_at = Some(now);
                p.claim = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn mark_emailing(
        &self,
        account_id: &AccountId,
        claim: &str,
        outage: &str,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let Some(account) = tables.accounts.get_mut(account_id) else {
            return Ok(false);
        };
        let free = holds(account, claim)
            && account.outage_id() == Some(outage)
            && (account.emailed_outage.as_deref() != Some(outage)
                || account.emailed_by.as_deref() == Some(claim));
        if free {
            account.emailed_outage = Some(outage.to_owned());
            account.emailed_by = Some(claim.to_owned());
            account.email_sent_at = None;
            account.email_uncertain_at = None;
        }
        Ok(free)
    }

    async fn due_follow_ups(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AccountId>, StoreError> {
        let tables = self.lock();
        let mut due: Vec<(DateTime<Utc>, AccountId)> = tables
            .accounts
            .values()
            .filter_map(|a| {
                let p = a.pending.as_ref()?;
                (!p.is_abandoned() && p.due_at() <= now).then(|| (p.due_at(), a.account_id.clone()))
            })
            .collect();
        due.sort();
        Ok(due.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn advance_reconnect(
        &self,
        account_id: &AccountId,
        expected_attempt: u32,
        step: &ReconnectStep,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let Some(account) = tables.accounts.get_mut(account_id) else {
            return Ok(false);
        };
        let Some(state) = account
            .cookie_reconnect
            .as_mut()
            .filter(|s| s.next_attempt == expected_attempt)
        else {
            return Ok(false);
        };
        match step {
            ReconnectStep::Next(attempt) => state.next_attempt = *attempt,
            ReconnectStep::Finished {
                reconnected,
                pending,
                fact,
            } => {
                let previous = account.status.clone();
                account.cookie_reconnect = None;
                if *reconnected {
                    account.status = AccountStatus::Ok;
                    account.last_update = now;
                    account.end_outage();
                }
                if pending.is_some() {
                    account.pending = pending.clone();
                }
                if let Some(fact) = fact {
                    *account = account.clone().with_fact(Some(previous), (**fact).clone());
                }
            }
        }
        Ok(true)
    }

    async fn tie_linkedin_identity(
        &self,
        account_id: &AccountId,
        owner: &UserId,
        member: &LinkedinMemberId,
        profile: Option<&LinkedinProfileId>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let Some(account) = tables
            .accounts
            .get_mut(account_id)
            .filter(|a| a.is_owned_by(owner))
        else {
            return Ok(false);
        };
        account.linkedin_member_id = Some(member.clone());
        if let Some(profile) = profile {
            account.linkedin_profile_id = Some(profile.clone());
        }
        Ok(true)
    }

    async fn save_cookie(
        &self,
        update: &CookieUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<CookieRecord>, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let key = (update.user_id.clone(), update.member_id.clone());
        if tables.paused.contains_key(&key) {
            return Ok(None);
        }
        let existing = tables.cookies.get(&key);
        let record = CookieRecord {
            user_id: update.user_id.clone(),
            member_id: update.member_id.clone(),
            profile_id: update
                .profile_id
                .clone()
                .or_else(|| existing.and_then(|r| r.profile_id.clone())),
            unipile_account_id: existing.and_then(|r| r.unipile_account_id.clone()),
            unipile_status: existing.and_then(|r| r.unipile_status.clone()),
            date_last_cookie: now,
            date_last_status_unipile: existing.and_then(|r| r.date_last_status_unipile),
            li_at: update.li_at.clone(),
            li_a: update.li_a.clone(),
            cookie_digest: update.digest.clone(),
            user_agent: update.user_agent.clone(),
            ip: update.ip,
            country: update.country.clone(),
            date_last_try_connect: existing.and_then(|r| r.date_last_try_connect),
            checkpoint: existing.and_then(|r| r.checkpoint.clone()),
            checkpoint_expires_at: existing.and_then(|r| r.checkpoint_expires_at),
            last_error: existing.and_then(|r| r.last_error.clone()),
            connect_started_at: existing.and_then(|r| r.connect_started_at),
            expires_at: Some(update.expires_at),
        };
        tables.cookies.insert(key, record.clone());
        Ok(Some(record))
    }

    async fn touch_cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        match tables.cookies.get_mut(&(user.clone(), member.clone())) {
            Some(record) => {
                record.date_last_cookie = now;
                record.expires_at = Some(expires_at);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn pause_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let key = (user.clone(), member.clone());
        tables.cookies.remove(&key);
        tables.paused.entry(key).or_insert_with(|| PausedIdentity {
            user_id: user.clone(),
            member_id: member.clone(),
            paused_at: now,
        });
        Ok(())
    }

    async fn resume_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        Ok(tables
            .paused
            .remove(&(user.clone(), member.clone()))
            .is_some())
    }

    async fn delete_cookies(&self, user: &UserId) -> Result<usize, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let before = tables.cookies.len();
        tables.cookies.retain(|(owner, _), _| owner != user);
        Ok(before - tables.cookies.len())
    }

    async fn cookie(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<Option<CookieRecord>, StoreError> {
        Ok(self
            .lock()
            .cookies
            .get(&(user.clone(), member.clone()))
            .cloned())
    }

    async fn claim_connect_attempt(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        now: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let Some(record) = tables.cookies.get_mut(&(user.clone(), member.clone())) else {
            return Ok(false);
        };
        if record
            .date_last_try_connect
            .is_some_and(|last| last >= not_after)
        {
            return Ok(false);
        }
        record.date_last_try_connect = Some(now);
        Ok(true)
    }

    async fn record_cookie_result(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        result: &CookieResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        Self::take_failure(&self.failing_cookie_results)?;
        // Another user's account is never named here (DynamoDB: a transaction's check).
        let foreign = result
            .unipile_account_id
            .as_ref()
            .and_then(|id| tables.accounts.get(id))
            .is_some_and(|account| !account.is_owned_by(user));
        if foreign {
            return Err(StoreError::OwnedByAnotherUser);
        }
        if let Some(record) = tables.cookies.get_mut(&(user.clone(), member.clone())) {
            if result.connect_settled {
                record.connect_started_at = None;
            }
            if result.unipile_account_id.is_some() {
                record.unipile_account_id = result.unipile_account_id.clone();
            }
            if result.unipile_status.is_some() {
                record.unipile_status = result.unipile_status.clone();
                record.date_last_status_unipile = Some(now);
            }
            record.checkpoint = result.checkpoint.clone();
            record.checkpoint_expires_at = result.checkpoint_expires_at;
            record.last_error = result.last_error.clone();
        }
        Ok(())
    }

    async fn release_pending(
        &self,
        account_id: &AccountId,
        claim: &str,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        let pending = tables
            .accounts
            .get_mut(account_id)
            .and_then(|a| a.pending.as_mut());
        if let Some(p) = pending.filter(|p| p.claim.as_deref() == Some(claim)) {
            p.claim = None;
            p.claimed_until = Some(due);
        }
        Ok(())
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

    async fn identities_of(&self, user: &UserId) -> Result<LinkedinIdentities, StoreError> {
        let tables = self.lock();
        let mut syncing: Vec<_> = tables
            .cookies
            .values()
            .filter(|r| r.user_id == *user)
            .cloned()
            .collect();
        syncing.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        let mut paused: Vec<_> = tables
            .paused
            .values()
            .filter(|p| p.user_id == *user)
            .cloned()
            .collect();
        paused.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        Ok(LinkedinIdentities { syncing, paused })
    }

    async fn claim_linkedin_identity(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        known: &[LinkedinMemberId],
        cap: u32,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        // The DynamoDB condition: no list yet, already counted, or room left.
        let admitted = match tables.identities.get(user) {
            None => true,
            Some(counted) => counted.contains(member) || counted.len() < cap as usize,
        };
        if admitted {
            let counted = tables.identities.entry(user.clone()).or_default();
            counted.extend(known.iter().cloned());
            counted.insert(member.clone());
        }
        Ok(admitted)
    }

    async fn mark_connect_started(
        &self,
        user: &UserId,
        member: &LinkedinMemberId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        self.check_write()?;
        match tables.cookies.get_mut(&(user.clone(), member.clone())) {
            Some(record) => {
                record.connect_started_at = Some(at);
                Ok(())
            }
            None => Err(StoreError::Corrupt("no cookie record to mark".into())),
        }
    }

    async fn accounts_in_status(
        &self,
        status: &AccountStatus,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<StoredAccountPage, StoreError> {
        let tables = self.lock();
        // The cursor is the last account id given: ids order the accounts, as a scan's
        // order is its own.
        let after = cursor
            .map(|c| {
                AccountId::parse(c).map_err(|_| StoreError::BadCursor(format!("{c:?} is not one")))
            })
            .transpose()?;
        let mut accounts: Vec<Account> = tables
            .accounts
            .values()
            .filter(|a| &a.status == status)
            .filter(|a| after.as_ref().is_none_or(|after| &a.account_id > after))
            .cloned()
            .collect();
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let next = (accounts.len() > limit).then(|| accounts[limit - 1].account_id.to_string());
        accounts.truncate(limit);
        Ok(StoredAccountPage { accounts, next })
    }

    async fn inventory_page(&self, cursor: Option<&str>) -> Result<InventoryPage, StoreError> {
        let tables = self.lock();
        let start = match cursor {
            Some(cursor) => cursor
                .parse::<usize>()
                .map_err(|_| StoreError::Corrupt(format!("bad inventory cursor {cursor:?}")))?,
            None => 0,
        };
        // One list in a stable order, as a scan of the same table would give twice, cut into
        // pages as a scan is.
        let mut accounts: Vec<_> = tables.accounts.values().cloned().collect();
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let mut claims: Vec<_> = tables
            .cookies
            .values()
            .map(|r| CookieClaim {
                user_id: r.user_id.clone(),
                member_id: r.member_id.clone(),
                profile_id: r.profile_id.clone(),
                account_id: r.unipile_account_id.clone(),
                connect_started_at: r.connect_started_at,
            })
            .collect();
        claims.sort_by(|a, b| (&a.user_id, &a.member_id).cmp(&(&b.user_id, &b.member_id)));
        let mut states: Vec<_> = tables.states.values().cloned().collect();
        states.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let mut attempts: Vec<_> = tables.login_attempts.values().cloned().collect();
        attempts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let total = accounts.len() + claims.len() + states.len() + attempts.len();
        let end = (start + INVENTORY_PAGE).min(total);
        let mut items = Inventory::default();
        for at in start..end {
            if at < accounts.len() {
                items.accounts.push(accounts[at].clone());
            } else if at < accounts.len() + claims.len() {
                items
                    .cookie_claims
                    .push(claims[at - accounts.len()].clone());
            } else if at < accounts.len() + claims.len() + states.len() {
                items
                    .spent_states
                    .push(states[at - accounts.len() - claims.len()].clone());
            } else {
                items
                    .login_attempts
                    .push(attempts[at - accounts.len() - claims.len() - states.len()].clone());
            }
        }
        Ok(InventoryPage {
            items,
            next: (end < total).then(|| end.to_string()),
        })
    }

    async fn waiting_outboxes(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxKey>, StoreError> {
        let tables = self.lock();
        let mut waiting: Vec<_> = Self::outboxes(&tables)
            .into_iter()
            .filter(|(at, _)| *at < before)
            .collect();
        waiting.sort_by(|a, b| {
            (a.0, &a.1.account_id, a.1.disconnected).cmp(&(b.0, &b.1.account_id, b.1.disconnected))
        });
        Ok(waiting
            .into_iter()
            .take(limit)
            .map(|(_, key)| key)
            .collect())
    }

    async fn outbox(&self, key: &OutboxKey) -> Result<Option<(EventSubject, Outbox)>, StoreError> {
        let tables = self.lock();
        Ok(if key.disconnected {
            tables.disconnected.get(&key.account_id).cloned()
        } else {
            tables
                .accounts
                .get(&key.account_id)
                .map(|a| (a.subject(), a.outbox.clone()))
        })
    }

    async fn clear_outbox(&self, key: &OutboxKey, published: &Outbox) -> Result<bool, StoreError> {
        let published = published.ids();
        let mut tables = self.lock();
        self.check_write()?;
        let outbox = if key.disconnected {
            tables.disconnected.get_mut(&key.account_id).map(|(_, o)| o)
        } else {
            tables
                .accounts
                .get_mut(&key.account_id)
                .map(|a| &mut a.outbox)
        };
        let Some(outbox) = outbox else {
            return Ok(false);
        };
        let first = outbox.waiting.first().map(|f| &f.id);
        if published.is_empty()
            || first != published.first()
            || outbox.waiting.len() < published.len()
        {
            return Ok(false);
        }
        *outbox = std::mem::take(outbox).without_first(published.len());
        if key.disconnected && outbox.waiting.is_empty() {
            tables.disconnected.remove(&key.account_id);
        }
        Ok(true)
    }
}

impl MemoryStore {
    /// Every outbox with a fact waiting, and when its oldest was recorded.
    fn outboxes(tables: &Tables) -> Vec<(DateTime<Utc>, OutboxKey)> {
        let on_accounts = tables.accounts.values().filter_map(|a| {
            let first = a.outbox.waiting.first()?;
            Some((first.at, OutboxKey::account(&a.account_id)))
        });
        let disconnected = tables.disconnected.iter().filter_map(|(id, (_, outbox))| {
            let first = outbox.waiting.first()?;
            Some((
                first.at,
                OutboxKey {
                    account_id: id.clone(),
                    disconnected: true,
                },
            ))
        });
        on_accounts.chain(disconnected).collect()
    }
}

/// Items of one [`MemoryStore::inventory_page`]: small, so that tests read several.
const INVENTORY_PAGE: usize = 25;

/// Whether `claim` holds the account's follow-up.
fn holds(account: &Account, claim: &str) -> bool {
    account
        .pending
        .as_ref()
        .is_some_and(|p| p.claim.as_deref() == Some(claim))
}
