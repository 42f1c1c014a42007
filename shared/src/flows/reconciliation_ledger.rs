//! The pure part of the reconciliation: Unipile's list is held, and the table goes past it
//! one page of its scan at a time. Of each page only what concerns a listed account is kept
//! (claims on it, the profile ids it shows, whether it is recorded); what the table alone
//! decides (a status Unipile lists otherwise, an account Unipile no longer has, a cookie
//! reconnect left hanging) is decided as its page goes by. So a run holds Unipile's list and
//! its findings, never the whole table.

use super::reconciliation_findings::{
    AbandonedLogin, Evidence, OverdueReconnect, PossibleConnect, ReconcileSettings, Settlement,
    StatusDrift, Survey, Unattributed,
};
use crate::domain::login_attempt::LoginAttempt;
use crate::domain::transitions::{TransitionPolicy, plan};
use crate::domain::{
    Account, AccountId, AccountStatus, LinkedinMemberId, LinkedinProfileId, Provider, UserId,
};
use crate::ports::{COOKIE_LOGIN_TIME, Inventory, UnipileAccount};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

pub(super) struct Ledger<'s> {
    settings: &'s ReconcileSettings,
    now: DateTime<Utc>,
    listed: Vec<UnipileAccount>,
    /// Where each listed account is in `listed`, and whether the table records it.
    index: HashMap<AccountId, (usize, bool)>,
    /// The LinkedIn profile ids the list shows: only claims on these can settle anything.
    listed_profiles: HashSet<LinkedinProfileId>,
    claims: HashMap<AccountId, BTreeMap<UserId, Vec<Evidence>>>,
    /// Whose each listed profile id is, and that user's cookie record of it still waiting for
    /// its connect's answer (if any).
    profiles: HashMap<LinkedinProfileId, BTreeMap<UserId, Option<LinkedinMemberId>>>,
    in_flight: Vec<PossibleConnect>,
    /// Unfinished custom sign-ins of listed accounts, by account.
    logins: HashMap<AccountId, LoginAttempt>,
    survey: Survey,
}

impl<'s> Ledger<'s> {
    pub(super) fn new(
        listed: Vec<UnipileAccount>,
        listing_complete: bool,
        now: DateTime<Utc>,
        settings: &'s ReconcileSettings,
    ) -> Self {
        let index = listed
            .iter()
            .enumerate()
            .map(|(at, a)| (a.account_id.clone(), (at, false)))
            .collect();
        let listed_profiles = listed
            .iter()
            .filter(|a| a.account_type == Provider::Linkedin)
            .filter_map(|a| a.linkedin_profile_id.clone())
            .collect();
        Self {
            settings,
            now,
            survey: Survey {
                listing_complete,
                unipile_accounts: listed.len(),
                ..Survey::default()
            },
            listed,
            index,
            listed_profiles,
            claims: HashMap::new(),
            profiles: HashMap::new(),
            in_flight: Vec::new(),
            logins: HashMap::new(),
        }
    }

    /// One page of the table's scan.
    pub(super) fn add(&mut self, page: Inventory) {
        self.survey.unreadable_items += page.unreadable;
        for account in page.accounts {
            self.add_account(account);
        }
        for claim in page.cookie_claims {
            if let Some(account_id) = &claim.account_id
                && self.index.contains_key(account_id)
            {
                self.claim(account_id.clone(), claim.user_id.clone())
                    .push(Evidence::CookieRecord(claim.member_id.clone()));
            }
            if let Some(profile) = claim
                .profile_id
                .as_ref()
                .filter(|p| self.listed_profiles.contains(*p))
            {
                let waiting = claim.account_id.is_none().then(|| claim.member_id.clone());
                let entry = self
                    .profiles
                    .entry(profile.clone())
                    .or_default()
                    .entry(claim.user_id.clone())
                    .or_default();
                if entry.is_none() {
                    *entry = waiting;
                }
            }
            if let Some(started_at) = claim.connect_started_at {
                self.in_flight.push(PossibleConnect {
                    user_id: claim.user_id,
                    linkedin_member_id: claim.member_id,
                    started_at,
                });
            }
        }
        for attempt in page.login_attempts {
            if self.index.contains_key(&attempt.account_id) {
                self.claim(attempt.account_id.clone(), attempt.user_id.clone())
                    .push(Evidence::LoginAttempt);
                if attempt.finished_at.is_none() && !attempt.reconnect {
                    self.logins.insert(attempt.account_id.clone(), attempt);
                }
            }
        }
        for state in page.spent_states {
            if self.index.contains_key(&state.account_id) {
                self.claim(state.account_id, state.user_id)
                    .push(Evidence::SpentLink);
            }
        }
    }

    fn claim(&mut self, account: AccountId, user: UserId) -> &mut Vec<Evidence> {
        self.claims
            .entry(account)
            .or_default()
            .entry(user)
            .or_default()
    }

    fn add_account(&mut self, account: Account) {
        self.survey.table_accounts += 1;
        if let Some(profile) = account
            .linkedin_profile_id
            .as_ref()
            .filter(|p| self.listed_profiles.contains(*p))
        {
            self.profiles
                .entry(profile.clone())
                .or_default()
                .entry(account.user_id.clone())
                .or_default();
        }
        if let Some(overdue) = overdue_reconnect(&account, self.now, self.settings) {
            self.survey.overdue_reconnects.push(overdue);
        }
        match self.index.get_mut(&account.account_id) {
            Some((at, recorded)) => {
                *recorded = true;
                if let Some(drift) = drift(&account, &self.listed[*at]) {
                    self.survey.drifted.push(drift);
                }
            }
            // Absence from a partial list proves nothing.
            None if self.survey.listing_complete && account.status != AccountStatus::Deleted => {
                self.survey.gone_candidates.push(account.account_id);
            }
            None => {}
        }
    }

    /// What the whole scan decides of the listed accounts the table does not record.
    pub(super) fn finish(mut self) -> Survey {
        let mut recorded = vec![false; self.listed.len()];
        for (at, is_recorded) in self.index.values() {
            recorded[*at] = *is_recorded;
        }
        let listed = std::mem::take(&mut self.listed);
        for (account, recorded) in listed.into_iter().zip(recorded) {
            if !recorded {
                self.unrecorded(account);
            }
        }
        self.survey
    }

    fn unrecorded(&mut self, account: UnipileAccount) {
        let mut owners = self.claims.remove(&account.account_id).unwrap_or_default();
        // The profile id it shows names its user (contract §6 does not confirm `im.id` for
        // this; an account that shows none is left to the other evidence).
        if account.account_type == Provider::Linkedin
            && let Some(profile) = &account.linkedin_profile_id
            && let Some(users) = self.profiles.get(profile)
        {
            for (user, unanswered_record) in users {
                owners
                    .entry(user.clone())
                    .or_default()
                    .push(Evidence::LinkedinProfile {
                        profile: profile.clone(),
                        unanswered_record: unanswered_record.clone(),
                    });
            }
        }
        // A custom sign-in's account that never connected: gone once the sign-in expired
        // (nobody can finish it), left alone while it may still.
        if let Some(attempt) = self.logins.get(&account.account_id)
            && owners.len() == 1
            && account.status() != AccountStatus::Ok
        {
            if attempt.is_expired(self.now) {
                self.survey.abandoned_logins.push(AbandonedLogin {
                    account_id: account.account_id.clone(),
                    user_id: attempt.user_id.clone(),
                    expired_at: attempt.expires_at,
                });
            } else {
                self.survey.too_recent += 1;
            }
            return;
        }
        if owners.len() == 1 {
            if let Some((user_id, evidence)) = owners.into_iter().next() {
                self.survey.settle.push(Settlement {
                    account,
                    user_id,
                    evidence,
                });
            }
            return;
        }
        let young = account
            .created_at
            .is_some_and(|at| self.now - at < self.settings.report_grace);
        if owners.is_empty() && young {
            self.survey.too_recent += 1;
            return;
        }
        let possible_connects = if account.account_type == Provider::Linkedin {
            self.in_flight
                .iter()
                .filter(|c| {
                    account
                        .created_at
                        .is_none_or(|at| could_have_created(c, at))
                })
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        self.survey.unattributed.push(Unattributed {
            claimed_by: owners.into_keys().collect(),
            possible_connects,
            account,
        });
    }
}

/// The listed status of a recorded account, when it is news the table missed: what a webhook
/// delivery of it would record a follow-up for. Work already recorded on the account will
/// confirm with Unipile itself; a deleted account is revived only by a new connection.
fn drift(stored: &Account, listed: &UnipileAccount) -> Option<StatusDrift> {
    let status = listed.status();
    let reported = plan(&status, &TransitionPolicy::default());
    let blocked = stored.status == AccountStatus::Deleted && !reported.revives_deleted;
    let busy = stored.pending.as_ref().is_some_and(|p| !p.is_abandoned());
    (stored.status != reported.stored && !blocked && !busy).then(|| StatusDrift {
        account_id: stored.account_id.clone(),
        stored: stored.status.clone(),
        listed: status,
    })
}

/// A cookie reconnect whose next attempt is long overdue: its schedule fired and failed (the
/// attempt sits in the dead-letter queue), so nothing will move it on, and while it is set a
/// CREDENTIALS delivery emails nobody.
fn overdue_reconnect(
    account: &Account,
    now: DateTime<Utc>,
    settings: &ReconcileSettings,
) -> Option<OverdueReconnect> {
    let state = account.cookie_reconnect.as_ref()?;
    let due_at = state.due_at(state.next_attempt);
    (now - due_at > settings.reconnect_overdue).then(|| OverdueReconnect {
        account_id: account.account_id.clone(),
        attempt: state.next_attempt,
        due_at,
    })
}

/// A connect started at `c.started_at` could have created an account at `created_at`
/// (with two minutes of clock difference either way).
fn could_have_created(c: &PossibleConnect, created_at: DateTime<Utc>) -> bool {
    let skew = Duration::minutes(2);
    let login = Duration::from_std(COOKIE_LOGIN_TIME).unwrap_or_else(|_| Duration::seconds(30));
    c.started_at - skew <= created_at && created_at <= c.started_at + login + skew
}
