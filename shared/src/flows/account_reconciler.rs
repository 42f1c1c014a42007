//! Unipile's accounts against the table, so that no billed account goes unseen.
//!
//! An account exists at Unipile before we record it, and the recording can fail: a notify
//! whose write (or whose confirming `GET`) failed, a cookie connect whose answer was lost or
//! whose record write failed. Each run reads the table once ([`AccountStore::inventory`]) and
//! Unipile's account list, then:
//!
//! - **settles** what it can attribute: an account Unipile lists, missing from the table, that
//!   exactly one user's cookie record or spent state token names, or whose LinkedIn profile id
//!   (`connection_params.im.id`) exactly one user holds, is recorded for that user with
//!   Unipile's status (the same upsert as a callback; an account stored for another user is
//!   never moved), and the cookie record whose connect it answers is tied to it;
//! - **confirms** what it missed: a recorded account whose listed status differs gets the
//!   follow-up a webhook delivery would record, for the sweeper to confirm;
//! - **marks DELETED** an account the table holds and Unipile no longer has (confirmed with
//!   `GET /api/v1/accounts/{id}`), as the status webhook does when Unipile reports DELETED:
//!   the row stays, so the user sees what became of it;
//! - **reports** the rest: one log line per account (id, type, created_at) and the
//!   `UnattributedAccounts` metric, every run, 0 included, for an alarm to watch. An operator
//!   then adopts or deletes each ([`adopt`], [`delete_unattributed`]).
//!
//! Every write is an idempotent upsert or a conditional status write: a second run, or two
//! runs at once, change nothing more. The work is bounded: at most
//! [`ReconcileSettings::max_pages`] pages of Unipile's list and
//! [`ReconcileSettings::max_gone_checks`] confirmations per run.

use super::FlowError;
pub use super::reconciliation_findings::{
    AbandonedLogin, DEFAULT_RECONCILE_MAX_PAGES, Evidence, OverdueReconnect, PossibleConnect,
    RECONCILE_MAX_PAGES_RANGE, ReconcileSettings, Settlement, StatusDrift, Survey, Unattributed,
};
use super::reconciliation_ledger::Ledger;
use crate::domain::events::{Fact, How, RecordedFact};
use crate::domain::transitions::{TransitionPolicy, plan};
use crate::domain::{
    Account, AccountId, AccountStatus, LinkedinMemberId, Outage, PendingAction, PendingKind,
    Provider, UserId,
};
#[cfg(test)]
use crate::ports::Inventory;
use crate::ports::{
    AccountStore, Clock, ConnectedAccount, CookieResult, MAX_ACCOUNT_PAGE, ReconnectStep,
    ReportRecord, StatusRecord, StoreError, Unipile, UnipileAccount,
};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeSet;

#[derive(Clone, Copy)]
pub struct ReconcilePorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    pub clock: &'a dyn Clock,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    pub settled: Vec<AccountId>,
    /// Accounts whose status Unipile lists otherwise, now recorded to be confirmed (the
    /// sweeper confirms them and does what the confirmed status calls for).
    pub to_confirm: Vec<AccountId>,
    /// Cookie reconnects ended because their next attempt was long overdue (the owner's
    /// email is recorded for the sweeper).
    pub reconnects_ended: Vec<AccountId>,
    pub marked_deleted: Vec<AccountId>,
    /// Accounts of custom sign-ins that expired unfinished, deleted at Unipile.
    pub abandoned_deleted: Vec<AccountId>,
    pub unattributed: Vec<Unattributed>,
    pub listing_complete: bool,
    /// Writes or confirmations that failed; the next run tries them again.
    pub failures: usize,
}

impl Reconciliation {
    /// One finding acted on: done (kept in the list `done` picks), nothing to do, or a failure
    /// the next run tries again.
    fn tally(
        &mut self,
        outcome: Result<bool, FlowError>,
        account_id: &AccountId,
        done: impl FnOnce(&mut Self) -> &mut Vec<AccountId>,
        failed: &str,
    ) {
        match outcome {
            Ok(true) => done(self).push(account_id.clone()),
            Ok(false) => {}
            Err(error) => {
                self.failures += 1;
                tracing::error!(account_id = %account_id, %error, "{failed}: the next run tries again");
            }
        }
    }
}

/// Reads the table and Unipile's list and decides; writes nothing (the CLI's `report`).
pub async fn survey(
    ports: ReconcilePorts<'_>,
    settings: &ReconcileSettings,
) -> Result<Survey, FlowError> {
    let now = ports.clock.now();
    // Unipile's list first, then the table page by page past it: an account recorded after
    // its page was read looks unrecorded, and is re-checked before anything is written for it;
    // one listed after the list was read is in neither, and waits for the next run.
    let (listed, listing_complete) = list_unipile(ports.unipile, settings.max_pages).await?;
    let mut ledger = Ledger::new(listed, listing_complete, now, settings);
    let mut cursor: Option<String> = None;
    loop {
        let page = ports.store.inventory_page(cursor.as_deref()).await?;
        ledger.add(page.items);
        cursor = page.next;
        if cursor.is_none() {
            return Ok(ledger.finish());
        }
    }
}

/// [`survey`]'s decision over one table read in one page (the tests' shorthand).
#[cfg(test)]
fn decide(
    inventory: &Inventory,
    listed: Vec<UnipileAccount>,
    listing_complete: bool,
    now: DateTime<Utc>,
    settings: &ReconcileSettings,
) -> Survey {
    let mut ledger = Ledger::new(listed, listing_complete, now, settings);
    ledger.add(inventory.clone());
    ledger.finish()
}

/// Unipile's accounts, page by page, up to `max_pages`: the accounts and whether the list
/// was read to its end.
async fn list_unipile(
    unipile: &dyn Unipile,
    max_pages: usize,
) -> Result<(Vec<UnipileAccount>, bool), FlowError> {
    let mut accounts = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let page = unipile
            .list_accounts(cursor.as_deref(), MAX_ACCOUNT_PAGE)
            .await?;
        accounts.extend(page.accounts);
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok((dedup(accounts), true));
        }
    }
    tracing::warn!(
        pages = max_pages,
        accounts = accounts.len(),
        "Unipile's account list is longer than one run reads: raise RECONCILE_MAX_PAGES"
    );
    Ok((dedup(accounts), false))
}

/// An account listed on two pages (the list moved while it was read) counts once.
fn dedup(accounts: Vec<UnipileAccount>) -> Vec<UnipileAccount> {
    let mut seen = BTreeSet::new();
    accounts
        .into_iter()
        .filter(|a| seen.insert(a.account_id.clone()))
        .collect()
}

/// The scheduled run: [`survey`], then settle, mark and report; publishes the metrics.
pub async fn reconcile(
    ports: ReconcilePorts<'_>,
    settings: &ReconcileSettings,
) -> Result<Reconciliation, FlowError> {
    let survey = survey(ports, settings).await?;
    let now = ports.clock.now();
    let mut run = Reconciliation {
        listing_complete: survey.listing_complete,
        ..Reconciliation::default()
    };
    for settlement in &survey.settle {
        let id = &settlement.account.account_id;
        let outcome = settle(ports, settlement, now).await;
        run.tally(
            outcome,
            id,
            |run| &mut run.settled,
            "could not settle the account",
        );
    }
    for drifted in &survey.drifted {
        let outcome = record_drift(ports, drifted, now).await;
        let id = &drifted.account_id;
        run.tally(
            outcome,
            id,
            |run| &mut run.to_confirm,
            "could not record a status to confirm",
        );
    }
    for overdue in &survey.overdue_reconnects {
        let outcome = end_overdue_reconnect(ports, overdue, now).await;
        let id = &overdue.account_id;
        run.tally(
            outcome,
            id,
            |run| &mut run.reconnects_ended,
            "could not end an overdue cookie reconnect",
        );
    }
    for account_id in survey.gone_candidates.iter().take(settings.max_gone_checks) {
        let outcome = mark_if_gone(ports, account_id, now).await;
        run.tally(
            outcome,
            account_id,
            |run| &mut run.marked_deleted,
            "could not check an account Unipile no longer lists",
        );
    }
    for abandoned in &survey.abandoned_logins {
        let outcome = delete_abandoned(ports, abandoned, now).await;
        let id = &abandoned.account_id;
        run.tally(
            outcome,
            id,
            |run| &mut run.abandoned_deleted,
            "could not delete an abandoned sign-in's account",
        );
    }
    for unattributed in &survey.unattributed {
        let account = &unattributed.account;
        tracing::warn!(
            account_id = %account.account_id,
            account_type = %account.account_type,
            created_at = ?account.created_at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
            claimed_by = ?unattributed.claimed_by.iter().map(UserId::as_str).collect::<Vec<_>>(),
            possible_connects = unattributed.possible_connects.len(),
            "unattributed Unipile account: adopt it for its user or delete it (account-reconciler report)"
        );
    }
    run.unattributed = survey.unattributed;
    tracing::info!(
        unipile_accounts = survey.unipile_accounts,
        table_accounts = survey.table_accounts,
        settled = run.settled.len(),
        to_confirm = run.to_confirm.len(),
        reconnects_ended = run.reconnects_ended.len(),
        marked_deleted = run.marked_deleted.len(),
        unattributed = run.unattributed.len(),
        too_recent = survey.too_recent,
        unreadable_items = survey.unreadable_items,
        listing_complete = run.listing_complete,
        failures = run.failures,
        "reconciliation done"
    );
    // Every run, zeros included: an alarm on UnattributedAccounts > 0 (or on missing data)
    // then watches that no billed account goes unseen.
    crate::metrics::value("UnattributedAccounts", run.unattributed.len() as u64);
    crate::metrics::value("SettledAccounts", run.settled.len() as u64);
    // Each one is a status webhook that never reached us.
    crate::metrics::value("StatusesMissed", run.to_confirm.len() as u64);
    crate::metrics::value("ReconnectsOverdue", run.reconnects_ended.len() as u64);
    crate::metrics::value("AccountsGoneAtUnipile", run.marked_deleted.len() as u64);
    crate::metrics::value(
        "AbandonedSignInsDeleted",
        run.abandoned_deleted.len() as u64,
    );
    crate::metrics::value(
        "ReconciliationIncomplete",
        u64::from(!run.listing_complete || run.failures > 0 || survey.unreadable_items > 0),
    );
    Ok(run)
}

/// Records the follow-up a webhook delivery of the listed status would: confirm it with
/// Unipile, due now, for the sweeper (the list is the evidence; the follow-up asks Unipile
/// for the account itself before anything changes). The same conditional write as a
/// delivery's: nothing when the table caught up meanwhile or work is already recorded.
async fn record_drift(
    ports: ReconcilePorts<'_>,
    drifted: &StatusDrift,
    now: DateTime<Utc>,
) -> Result<bool, FlowError> {
    let reported = plan(&drifted.listed, &TransitionPolicy::default());
    let mut action =
        PendingAction::due(PendingKind::ConfirmStatus, now).map_err(FlowError::Internal)?;
    action.reported = Some(drifted.listed.clone());
    let recorded = ports
        .store
        .record_report(&drifted.account_id, &reported, &action, now)
        .await?;
    let done = matches!(recorded, ReportRecord::Recorded(_));
    if done {
        tracing::warn!(account_id = %drifted.account_id, stored = %drifted.stored, listed = %drifted.listed, "Unipile lists another status than the table holds (a status webhook was missed): recorded to be confirmed");
    }
    Ok(done)
}

/// Ends a cookie reconnect stuck at an attempt that never ran through, as when every attempt
/// failed: the "reconnect failed" email is recorded for the sweeper (which confirms with
/// Unipile first). Only while it still expects that attempt, so a replayed attempt and this
/// never both act.
async fn end_overdue_reconnect(
    ports: ReconcilePorts<'_>,
    overdue: &OverdueReconnect,
    now: DateTime<Utc>,
) -> Result<bool, FlowError> {
    let email =
        PendingAction::due(PendingKind::CookieReconnectFailed, now).map_err(FlowError::Internal)?;
    let exhausted =
        RecordedFact::new(Fact::ReconnectExhausted, now).map_err(FlowError::Internal)?;
    let step = ReconnectStep::Finished {
        reconnected: false,
        pending: Some(email),
        fact: Some(Box::new(exhausted)),
    };
    let ended = ports
        .store
        .advance_reconnect(&overdue.account_id, overdue.attempt, &step, now)
        .await?;
    if ended {
        tracing::warn!(account_id = %overdue.account_id, attempt = overdue.attempt, due_at = %overdue.due_at, "cookie reconnect ended: its attempt never ran through (see the dead-letter queue); the owner's email is recorded");
    }
    Ok(ended)
}

/// Deletes at Unipile the account of a custom sign-in that expired unfinished, and marks the
/// sign-in finished; unless it connected meanwhile (then it is the user's, and the next run
/// records it).
async fn delete_abandoned(
    ports: ReconcilePorts<'_>,
    abandoned: &AbandonedLogin,
    now: DateTime<Utc>,
) -> Result<bool, FlowError> {
    let id = &abandoned.account_id;
    match ports.unipile.account(id).await {
        Ok(found) if found.status() == AccountStatus::Ok => return Ok(false),
        Ok(_) => {}
        Err(error) if error.is_not_found() => {}
        Err(error) => return Err(error.into()),
    }
    ports.unipile.delete_account(id).await?;
    if let Some(attempt) = ports.store.login_attempt(id).await? {
        let finished = crate::domain::login_attempt::LoginAttempt {
            finished_at: Some(now),
            ..attempt
        };
        ports.store.put_login_attempt(&finished).await?;
    }
    tracing::info!(account_id = %id, user_id = %abandoned.user_id, expired_at = %abandoned.expired_at, "abandoned sign-in's account deleted at Unipile");
    Ok(true)
}

/// Records a settled account for its user, unless the table got it meanwhile (then the
/// callback or sync that recorded it was right, and its follow-ups must not be reset).
async fn settle(
    ports: ReconcilePorts<'_>,
    settlement: &Settlement,
    now: DateTime<Utc>,
) -> Result<bool, FlowError> {
    let account = &settlement.account;
    if ports
        .store
        .get_account(&account.account_id)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let connection = ConnectedAccount {
        account_id: account.account_id.clone(),
        user_id: settlement.user_id.clone(),
        account_type: account.account_type.clone(),
        status: account.status(),
        display_name: account.display_name.clone(),
        linkedin_member_id: settlement.linkedin_member_id(),
        linkedin_profile_id: account.linkedin_profile_id.clone(),
    };
    let how = Evidence::how_of(&settlement.evidence);
    match ports.store.record_connection(&connection, how, now).await {
        Ok(_) => {
            tracing::info!(account_id = %account.account_id, user_id = %settlement.user_id, status = %connection.status, evidence = ?settlement.evidence, "orphan account recorded for its user");
            // The connect whose answer was lost is answered: its record names the account and
            // its next sync connects nothing more.
            if let Some(member) = settlement.unanswered_record() {
                let answered = CookieResult {
                    unipile_account_id: Some(account.account_id.clone()),
                    unipile_status: Some(connection.status.clone()),
                    connect_settled: true,
                    ..CookieResult::default()
                };
                ports
                    .store
                    .record_cookie_result(&settlement.user_id, &member, &answered, now)
                    .await?;
            }
            Ok(true)
        }
        Err(StoreError::OwnedByAnotherUser) => {
            tracing::warn!(account_id = %account.account_id, user_id = %settlement.user_id, "orphan account recorded meanwhile for another user: left as it is");
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// Marks DELETED an account Unipile confirms it no longer has (404): the same write as the
/// status webhook's DELETED.
async fn mark_if_gone(
    ports: ReconcilePorts<'_>,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, FlowError> {
    match ports.unipile.account(account_id).await {
        Ok(_) => Ok(false),
        Err(error) if error.is_not_found() => {
            let deleted = plan(&AccountStatus::Deleted, &TransitionPolicy::default());
            // Gone ends any outage: the candidate is never opened.
            let unused = Outage::begin(now).map_err(FlowError::Internal)?;
            let record = ports
                .store
                .record_status(account_id, &deleted, &unused, How::Unipile, now)
                .await?;
            let changed = matches!(record, StatusRecord::Changed { .. });
            if changed {
                tracing::info!(account_id = %account_id, "account Unipile no longer has: marked DELETED");
            }
            Ok(changed)
        }
        Err(error) => Err(error.into()),
    }
}

/// What [`adopt`] recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    pub account: Account,
    /// The cookie record now tied to the account, when a LinkedIn member was given.
    pub cookie_record_linked: bool,
}

/// An operator's decision: `account_id` is `user_id`'s. Unipile must have the account; one
/// recorded for another user is refused. With `member`, the user's cookie record for that
/// LinkedIn identity is tied to it and its unknown connect ends.
pub async fn adopt(
    ports: ReconcilePorts<'_>,
    account_id: &AccountId,
    user_id: &UserId,
    member: Option<&LinkedinMemberId>,
) -> Result<Adopted, FlowError> {
    let now = ports.clock.now();
    let found = ports.unipile.account(account_id).await.map_err(|error| {
        if error.is_not_found() {
            FlowError::NotFound(format!("Unipile has no account {account_id}"))
        } else {
            FlowError::Unipile(error)
        }
    })?;
    if member.is_some() && found.account_type != Provider::Linkedin {
        return Err(FlowError::InvalidRequest(format!(
            "account {account_id} is a {} account, not LinkedIn",
            found.account_type
        )));
    }
    let connection = ConnectedAccount {
        account_id: account_id.clone(),
        user_id: user_id.clone(),
        status: found.status(),
        account_type: found.account_type,
        display_name: found.display_name,
        linkedin_member_id: member.cloned(),
        linkedin_profile_id: found.linkedin_profile_id,
    };
    let account = ports
        .store
        // An operator's adoption names no way in: a LinkedIn identity means the cookie did.
        .record_connection(
            &connection,
            if member.is_some() {
                How::Cookie
            } else {
                How::Hosted
            },
            now,
        )
        .await
        .map_err(|error| match error {
            StoreError::OwnedByAnotherUser => {
                FlowError::Conflict(format!("account {account_id} belongs to another user"))
            }
            other => FlowError::Store(other),
        })?;
    let mut cookie_record_linked = false;
    if let Some(member) = member
        && ports.store.cookie(user_id, member).await?.is_some()
    {
        let linked = CookieResult {
            unipile_account_id: Some(account_id.clone()),
            unipile_status: Some(connection.status.clone()),
            connect_settled: true,
            ..CookieResult::default()
        };
        ports
            .store
            .record_cookie_result(user_id, member, &linked, now)
            .await?;
        cookie_record_linked = true;
    }
    tracing::info!(account_id = %account_id, user_id = %user_id, "account adopted by an operator");
    Ok(Adopted {
        account,
        cookie_record_linked,
    })
}

/// An operator's decision: nobody's account, delete it at Unipile (it is billed). Refused for
/// an account the table records or any record claims: those are settled, not deleted.
pub async fn delete_unattributed(
    ports: ReconcilePorts<'_>,
    account_id: &AccountId,
) -> Result<(), FlowError> {
    if let Some(account) = ports.store.get_account(account_id).await? {
        return Err(FlowError::Conflict(format!(
            "account {account_id} is recorded for user {}: disconnect it through the API instead",
            account.user_id
        )));
    }
    let mut claimed = false;
    let mut cursor: Option<String> = None;
    loop {
        let page = ports.store.inventory_page(cursor.as_deref()).await?;
        claimed |= page
            .items
            .cookie_claims
            .iter()
            .any(|c| c.account_id.as_ref() == Some(account_id))
            || page
                .items
                .spent_states
                .iter()
                .any(|s| s.account_id == *account_id);
        cursor = page.next;
        if claimed || cursor.is_none() {
            break;
        }
    }
    if claimed {
        return Err(FlowError::Conflict(format!(
            "account {account_id} is claimed by a user's records: the reconciliation records it for them"
        )));
    }
    ports.unipile.delete_account(account_id).await?;
    tracing::info!(account_id = %account_id, "unattributed account deleted at Unipile by an operator");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LinkedinProfileId;
    use crate::memory_world::MemoryWorld;
    use crate::ports::{CookieClaim, StateUse};
    use chrono::Duration;
    use chrono::TimeZone;

    fn world() -> MemoryWorld {
        MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        )
    }

    fn ports(world: &MemoryWorld) -> ReconcilePorts<'_> {
        ReconcilePorts {
            store: world.store.as_ref(),
            unipile: world.unipile.as_ref(),
            clock: world.clock.as_ref(),
        }
    }

    fn id(s: &str) -> AccountId {
        AccountId::parse(s).expect("id")
    }

    fn user(s: &str) -> UserId {
        UserId::parse(s).expect("user")
    }

    fn listed(account_id: &str, provider: Provider, created_at: DateTime<Utc>) -> UnipileAccount {
        UnipileAccount {
            account_id: id(account_id),
            account_type: provider,
            linkedin_profile_id: None,
            display_name: None,
            source_statuses: vec![AccountStatus::Ok],
            created_at: Some(created_at),
        }
    }

    #[test]
    fn an_account_claimed_by_two_users_is_reported_not_given_to_either() {
        let now = Utc::now();
        let inventory = Inventory {
            spent_states: vec![StateUse {
                nonce: crate::domain::LinkNonce::parse("n1").expect("nonce"),
                account_id: id("a1"),
                user_id: user("u1"),
                expires_at: now,
            }],
            cookie_claims: vec![CookieClaim {
                user_id: user("u2"),
                member_id: LinkedinMemberId::parse("7").expect("member"),
                profile_id: None,
                account_id: Some(id("a1")),
                connect_started_at: None,
            }],
            ..Inventory::default()
        };
        let survey = decide(
            &inventory,
            vec![listed("a1", Provider::Linkedin, now - Duration::hours(2))],
            true,
            now,
            &ReconcileSettings::default(),
        );
        assert!(survey.settle.is_empty());
        assert_eq!(survey.unattributed.len(), 1);
        assert_eq!(
            survey.unattributed[0].claimed_by,
            vec![user("u1"), user("u2")]
        );
    }

    #[test]
    fn an_unclaimed_account_is_reported_once_past_the_grace_and_with_the_connects_that_may_be_its()
    {
        let now = Utc::now();
        let started = now - Duration::hours(1);
        let inventory = Inventory {
            cookie_claims: vec![CookieClaim {
                user_id: user("u1"),
                member_id: LinkedinMemberId::parse("7").expect("member"),
                profile_id: None,
                account_id: None,
                connect_started_at: Some(started),
            }],
            ..Inventory::default()
        };
        let survey = decide(
            &inventory,
            vec![
                listed("young", Provider::Whatsapp, now - Duration::minutes(1)),
                listed("old", Provider::Linkedin, started + Duration::seconds(10)),
                listed("other", Provider::Linkedin, started - Duration::hours(3)),
            ],
            true,
            now,
            &ReconcileSettings::default(),
        );
        assert_eq!(survey.too_recent, 1);
        let reported: Vec<_> = survey
            .unattributed
            .iter()
            .map(|u| (u.account.account_id.as_str(), u.possible_connects.len()))
            .collect();
        assert_eq!(reported, vec![("old", 1), ("other", 0)]);
        let line = survey.unattributed[0].describe();
        assert!(line.starts_with("old\tLINKEDIN\t"), "{line}");
        assert!(line.contains("maybe user u1 (linkedin member 7)"), "{line}");
    }

    fn profile(text: &str) -> LinkedinProfileId {
        LinkedinProfileId::parse(text).expect("profile id")
    }

    fn showing(account_id: &str, shown: &str, created_at: DateTime<Utc>) -> UnipileAccount {
        UnipileAccount {
            linkedin_profile_id: Some(profile(shown)),
            ..listed(account_id, Provider::Linkedin, created_at)
        }
    }

    fn waiting_record(who: &str, member: &str, shown: &str) -> CookieClaim {
        CookieClaim {
            user_id: user(who),
            member_id: LinkedinMemberId::parse(member).expect("member"),
            profile_id: Some(profile(shown)),
            account_id: None,
            connect_started_at: Some(Utc::now() - Duration::hours(5)),
        }
    }

    #[test]
    fn an_account_showing_one_user_s_profile_id_is_theirs_and_answers_their_waiting_connect() {
        let now = Utc::now();
        let inventory = Inventory {
            cookie_claims: vec![waiting_record("u1", "42", "ACoAABjane")],
            ..Inventory::default()
        };
        let survey = decide(
            &inventory,
            // Created long before or after the connect: the profile id decides, not the time.
            vec![showing("li_1", "ACoAABjane", now - Duration::days(2))],
            true,
            now,
            &ReconcileSettings::default(),
        );
        assert!(survey.unattributed.is_empty());
        assert_eq!(survey.settle.len(), 1);
        let settlement = &survey.settle[0];
        assert_eq!(settlement.user_id, user("u1"));
        assert_eq!(
            settlement.unanswered_record(),
            Some(LinkedinMemberId::parse("42").expect("member"))
        );
        assert_eq!(
            settlement.linkedin_member_id().map(String::from).as_deref(),
            Some("42")
        );
    }

    #[test]
    fn an_account_showing_a_profile_id_two_users_hold_is_reported_not_given() {
        let now = Utc::now();
        let inventory = Inventory {
            cookie_claims: vec![
                waiting_record("u1", "42", "ACoAABjane"),
                waiting_record("u2", "42", "ACoAABjane"),
            ],
            ..Inventory::default()
        };
        let survey = decide(
            &inventory,
            vec![
                showing("li_1", "ACoAABjane", now - Duration::hours(2)),
                // Nobody's profile: reported as before.
                showing("li_2", "ACoAABnobody", now - Duration::hours(2)),
            ],
            true,
            now,
            &ReconcileSettings::default(),
        );
        assert!(survey.settle.is_empty());
        let claimed: Vec<_> = survey
            .unattributed
            .iter()
            .map(|u| (u.account.account_id.as_str(), u.claimed_by.len()))
            .collect();
        assert_eq!(claimed, vec![("li_1", 2), ("li_2", 0)]);
    }

    #[tokio::test]
    async fn given_a_connect_whose_answer_was_lost_when_the_reconciliation_runs_then_the_account_is_recorded_and_the_record_answered()
     {
        let world = world();
        let u1 = user("u1");
        let member = LinkedinMemberId::parse("42").expect("member");
        // The extension's record, its connect marked and never answered.
        world
            .store
            .save_cookie(
                &crate::ports::CookieUpdate {
                    user_id: u1.clone(),
                    member_id: member.clone(),
                    li_at: crate::domain::cookies::Sealed(vec![1, 2, 3]),
                    li_a: None,
                    user_agent: "Mozilla/5.0".into(),
                    ip: None,
                    country: None,
                    expires_at: world.clock.now() + Duration::days(30),
                    digest: None,
                    profile_id: Some(profile("ACoAABjane")),
                },
                world.clock.now(),
            )
            .await
            .expect("saved");
        world
            .store
            .mark_connect_started(&u1, &member, world.clock.now())
            .await
            .expect("marked");
        world
            .unipile
            .add_linkedin_account(&id("li_1"), &profile("ACoAABjane"));
        world.clock.advance(Duration::hours(1));
        let run = reconcile(ports(&world), &ReconcileSettings::default())
            .await
            .expect("reconciled");
        assert_eq!(run.settled, vec![id("li_1")]);
        assert!(run.unattributed.is_empty());
        assert_eq!(
            owner_of(&world, &id("li_1")).await,
            Some((u1.clone(), AccountStatus::Ok))
        );
        let record = world
            .store
            .cookie(&u1, &member)
            .await
            .expect("read")
            .expect("record");
        assert_eq!(record.unipile_account_id, Some(id("li_1")));
        assert_eq!(record.connect_started_at, None, "the connect is answered");
    }

    #[tokio::test]
    async fn given_a_table_read_in_many_pages_then_the_run_decides_as_over_one_read() {
        let world = world();
        // 60 accounts (the memory store's scan pages hold 25 items): 3 whose status Unipile
        // lists otherwise, 2 Unipile no longer has, and one orphan a spent link claims.
        for n in 0..60 {
            let account = id(&format!("acc_{n:02}"));
            world.unipile.add_account(&account, Provider::Whatsapp);
            world
                .store
                .record_connection(
                    &ConnectedAccount {
                        account_id: account.clone(),
                        user_id: user(&format!("u{}", n % 7)),
                        account_type: Provider::Whatsapp,
                        status: AccountStatus::Ok,
                        display_name: None,
                        linkedin_member_id: None,
                        linkedin_profile_id: None,
                    },
                    crate::domain::events::How::Hosted,
                    world.clock.now(),
                )
                .await
                .expect("stored");
        }
        for n in [5, 31, 58] {
            world
                .unipile
                .set_status(&id(&format!("acc_{n:02}")), AccountStatus::Credentials);
        }
        for n in [12, 44] {
            world
                .unipile
                .set_status(&id(&format!("acc_{n:02}")), AccountStatus::Deleted);
        }
        world.unipile.add_account(&id("orphan"), Provider::Whatsapp);
        world
            .store
            .consume_state(&StateUse {
                nonce: crate::domain::LinkNonce::parse("n-orphan").expect("nonce"),
                account_id: id("orphan"),
                user_id: user("u3"),
                expires_at: world.clock.now() + Duration::days(1),
            })
            .await
            .expect("spent");
        world.clock.advance(Duration::hours(1));
        let first = world.store.inventory_page(None).await.expect("a page");
        assert!(first.next.is_some(), "the table takes several pages");
        let run = reconcile(ports(&world), &ReconcileSettings::default())
            .await
            .expect("reconciled");
        let mut confirmed = run.to_confirm.clone();
        confirmed.sort();
        assert_eq!(confirmed, vec![id("acc_05"), id("acc_31"), id("acc_58")]);
        let mut gone = run.marked_deleted.clone();
        gone.sort();
        assert_eq!(gone, vec![id("acc_12"), id("acc_44")]);
        assert_eq!(run.settled, vec![id("orphan")]);
        assert!(run.unattributed.is_empty());
        assert_eq!(run.failures, 0);
    }

    #[tokio::test]
    async fn given_an_account_gone_at_unipile_when_the_reconciliation_runs_twice_then_it_is_marked_deleted_once()
     {
        let world = world();
        let gone = id("gone_1");
        world.unipile.add_account(&gone, Provider::Telegram);
        world
            .store
            .record_connection(
                &ConnectedAccount {
                    account_id: gone.clone(),
                    user_id: user("u1"),
                    account_type: Provider::Telegram,
                    status: AccountStatus::Ok,
                    display_name: None,
                    linkedin_member_id: None,
                    linkedin_profile_id: None,
                },
                crate::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        world.unipile.delete_account(&gone).await.expect("deleted");

        let settings = ReconcileSettings::default();
        let first = reconcile(ports(&world), &settings).await.expect("ran");
        assert_eq!(first.marked_deleted, vec![gone.clone()]);
        let account = world
            .store
            .get_account(&gone)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(account.status, AccountStatus::Deleted);
        let second = reconcile(ports(&world), &settings).await.expect("ran");
        assert_eq!(
            second,
            Reconciliation {
                listing_complete: true,
                ..Reconciliation::default()
            }
        );
    }

    #[tokio::test]
    async fn given_a_list_longer_than_a_run_reads_then_nothing_is_marked_deleted() {
        let world = world();
        for n in 0..3 {
            world
                .unipile
                .add_account(&id(&format!("x{n}")), Provider::Whatsapp);
        }
        world
            .store
            .record_connection(
                &ConnectedAccount {
                    account_id: id("not_listed_yet"),
                    user_id: user("u1"),
                    account_type: Provider::Telegram,
                    status: AccountStatus::Ok,
                    display_name: None,
                    linkedin_member_id: None,
                    linkedin_profile_id: None,
                },
                crate::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        // One page of 250 holds all three; a limit of zero pages reads none.
        let settings = ReconcileSettings {
            max_pages: 0,
            ..ReconcileSettings::default()
        };
        let run = reconcile(ports(&world), &settings).await.expect("ran");
        assert!(!run.listing_complete);
        assert!(run.marked_deleted.is_empty());
    }

    // Stories across flows: what failed before, then what the reconciliation makes of it.

    const STATE_KEY: &[u8] = b"reconciliation-test-key-0123456789abcdef";

    fn state_key() -> crate::domain::state_token::StateKey {
        crate::domain::state_token::StateKey::new(STATE_KEY.to_vec()).expect("key")
    }

    /// Unipile's notify_url call for a create link `user` asked for, telling of `account`.
    async fn notify(world: &MemoryWorld, user: &str, account: &str) -> Result<(), FlowError> {
        let state = state_key()
            .sign(
                &self::user(user),
                &crate::domain::LinkPurpose::Create,
                world.clock.now() + Duration::minutes(45),
            )
            .expect("signed");
        let body =
            format!(r#"{{"status":"CREATION_SUCCESS","account_id":"{account}","name":"{user}"}}"#);
        let ports = crate::flows::connect_callback::CallbackPorts {
            store: world.store.as_ref(),
            unipile: world.unipile.as_ref(),
            clock: world.clock.as_ref(),
            scheduler: world.scheduler.as_ref(),
        };
        crate::flows::connect_callback::record_callback(
            ports,
            &state_key(),
            Some(&state),
            body.as_bytes(),
        )
        .await
        .map(|_| ())
    }

    async fn owner_of(world: &MemoryWorld, account: &AccountId) -> Option<(UserId, AccountStatus)> {
        world
            .store
            .get_account(account)
            .await
            .expect("read")
            .map(|a| (a.user_id, a.status))
    }

    #[tokio::test]
    async fn given_a_notify_whose_unipile_check_failed_when_the_reconciliation_runs_then_the_account_is_recorded_for_its_user()
     {
        let world = world();
        let account = id("hosted_1");
        world.unipile.add_account(&account, Provider::Whatsapp);
        world
            .unipile
            .fail_with(crate::ports::UnipileError::Transport("timed out".into()));
        let failed = notify(&world, "u1", "hosted_1").await;
        assert!(matches!(failed, Err(FlowError::Unipile(_))), "{failed:?}");
        assert_eq!(owner_of(&world, &account).await, None, "nothing recorded");
        world.unipile.recover();
        world
            .unipile
            .set_status(&account, AccountStatus::Credentials);

        world.clock.advance(Duration::hours(1));
        let run = reconcile(ports(&world), &ReconcileSettings::default())
            .await
            .expect("ran");
        assert_eq!(run.settled, vec![account.clone()]);
        assert!(run.unattributed.is_empty());
        assert_eq!(
            owner_of(&world, &account).await,
            Some((user("u1"), AccountStatus::Credentials)),
            "recorded for its user, with Unipile's status"
        );
        let again = reconcile(ports(&world), &ReconcileSettings::default())
            .await
            .expect("ran");
        assert!(again.settled.is_empty(), "a second run changes nothing");
    }

    #[tokio::test]
    async fn given_a_notify_whose_recording_failed_when_the_reconciliation_runs_then_the_account_is_recorded_for_its_user()
     {
        let world = world();
        let account = id("hosted_2");
        world.unipile.add_account(&account, Provider::Instagram);
        world.store.fail_next_connections(1);
        assert!(notify(&world, "u7", "hosted_2").await.is_err());
        assert_eq!(owner_of(&world, &account).await, None);

        world.clock.advance(Duration::hours(1));
        let run = reconcile(ports(&world), &ReconcileSettings::default())
            .await
            .expect("ran");
        assert_eq!(run.settled, vec![account.clone()]);
        assert_eq!(
            owner_of(&world, &account).await,
            Some((user("u7"), AccountStatus::Ok))
        );
    }

    #[tokio::test]
    async fn given_an_account_another_user_holds_then_the_reconciliation_never_moves_it() {
        let world = world();
        let account = id("taken_1");
        world.unipile.add_account(&account, Provider::Whatsapp);
        world.store.fail_next_connections(1);
        assert!(notify(&world, "u1", "taken_1").await.is_err());
        // Recorded meanwhile for someone else (the survey ran before this write).
        let inventory_then = world.store.inventory_page(None).await.expect("read").items;
        world
            .store
            .record_connection(
                &ConnectedAccount {
                    account_id: account.clone(),
                    user_id: user("u2"),
                    account_type: Provider::Whatsapp,
                    status: AccountStatus::Ok,
                    display_name: None,
                    linkedin_member_id: None,
                    linkedin_profile_id: None,
                },
                crate::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        let listed = world
            .unipile
            .list_accounts(None, MAX_ACCOUNT_PAGE)
            .await
            .expect("listed");
        let survey = decide(
            &inventory_then,
            listed.accounts,
            true,
            world.clock.now(),
            &ReconcileSettings::default(),
        );
        assert_eq!(survey.settle.len(), 1);
        let settled = settle(ports(&world), &survey.settle[0], world.clock.now())
            .await
            .expect("ran");
        assert!(!settled);
        assert_eq!(
            owner_of(&world, &account).await,
            Some((user("u2"), AccountStatus::Ok))
        );
    }

    #[tokio::test]
    async fn given_an_account_nobody_claims_then_it_is_reported_every_run_and_adopt_records_it() {
        let world = world();
        let stray = id("stray_1");
        world.unipile.add_account(&stray, Provider::Telegram);
        world.clock.advance(Duration::hours(1));

        let report = survey(ports(&world), &ReconcileSettings::default())
            .await
            .expect("surveyed");
        assert_eq!(report.unattributed.len(), 1);
        assert_eq!(report.unattributed[0].account.account_id, stray);
        let run = reconcile(ports(&world), &ReconcileSettings::default())
            .await
            .expect("ran");
        assert_eq!(run.unattributed.len(), 1, "reported by the run too");
        assert_eq!(owner_of(&world, &stray).await, None, "and not recorded");
        let line = crate::metrics::value_line("UnattributedAccounts", 1);
        assert!(line.contains(r#""UnattributedAccounts":1"#), "{line}");

        // The operator adopts it for u3.
        let adopted = adopt(ports(&world), &stray, &user("u3"), None)
            .await
            .expect("adopted");
        assert_eq!(adopted.account.user_id, user("u3"));
        let after = reconcile(ports(&world), &ReconcileSettings::default())
            .await
            .expect("ran");
        assert!(after.unattributed.is_empty());
        // Adopting it for someone else now is refused; deleting it too.
        let refused = adopt(ports(&world), &stray, &user("u4"), None).await;
        assert!(
            matches!(refused, Err(FlowError::Conflict(_))),
            "{refused:?}"
        );
        let refused = delete_unattributed(ports(&world), &stray).await;
        assert!(
            matches!(refused, Err(FlowError::Conflict(_))),
            "{refused:?}"
        );
        assert!(world.unipile.deleted().is_empty());
        // An account Unipile does not have cannot be adopted.
        let missing = adopt(ports(&world), &id("nope"), &user("u3"), None).await;
        assert!(
            matches!(missing, Err(FlowError::NotFound(_))),
            "{missing:?}"
        );
    }

    #[tokio::test]
    async fn given_an_unattributed_account_then_delete_removes_it_at_unipile_but_a_claimed_one_is_refused()
     {
        let world = world();
        let stray = id("stray_2");
        world.unipile.add_account(&stray, Provider::Telegram);
        delete_unattributed(ports(&world), &stray)
            .await
            .expect("deleted");
        assert_eq!(world.unipile.deleted(), vec![stray]);

        let claimed = id("claimed_1");
        world.unipile.add_account(&claimed, Provider::Whatsapp);
        world.store.fail_next_connections(1);
        assert!(notify(&world, "u1", "claimed_1").await.is_err());
        let refused = delete_unattributed(ports(&world), &claimed).await;
        assert!(
            matches!(refused, Err(FlowError::Conflict(_))),
            "{refused:?}"
        );
    }
}
