use super::events::{EventSubject, Outbox, RecordedFact};
use super::reconnect::ReconnectState;
use super::transitions::StatusPlan;
use super::{
    AccountId, AccountStatus, LinkedinMemberId, LinkedinProfileId, Outage, PendingAction, Provider,
    UserId,
};
use chrono::{DateTime, Utc};

/// A Unipile account connected by one of our users, as we keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub account_type: Provider,
    /// The person or mailbox behind the account, as Unipile names it.
    pub display_name: Option<String>,
    pub status: AccountStatus,
    pub last_update: DateTime<Utc>,
    pub created_on: DateTime<Utc>,
    /// Follow-up work recorded with the last status change and not yet done.
    pub pending: Option<PendingAction>,
    /// When the one automatic restart of the current outage was made.
    pub restart_attempted_at: Option<DateTime<Utc>>,
    /// The LinkedIn member whose extension cookies connected it, if they did.
    pub linkedin_member_id: Option<LinkedinMemberId>,
    /// The LinkedIn member's profile id (`ACoAA…`), as Unipile's account or the extension
    /// named it: how a sync of the same member finds this account.
    pub linkedin_profile_id: Option<LinkedinProfileId>,
    /// The cookie reconnect in progress, if any.
    pub cookie_reconnect: Option<ReconnectState>,
    /// The outage in progress, if any: from a status other than OK until healthy or gone.
    pub outage: Option<Outage>,
    /// The outage whose email was started ("sending" is recorded before the mail service is
    /// called): one email per outage, never two.
    pub emailed_outage: Option<String>,
    /// The claim that recorded "sending": asked again by the same holder (the answer of its
    /// first ask was lost), the mark is still its own to send with.
    pub emailed_by: Option<String>,
    /// When the mail service accepted the marked email. A mark without it (nor
    /// `email_uncertain_at`) past its holder's lease is an email that may be lost.
    pub email_sent_at: Option<DateTime<Utc>>,
    /// When the mail service answered nothing about the marked email (it may have sent it).
    pub email_uncertain_at: Option<DateTime<Utc>>,
    /// The facts recorded for the team's backend and not yet published (the events' outbox).
    pub outbox: Outbox,
}

impl Account {
    pub fn is_owned_by(&self, user: &UserId) -> bool {
        &self.user_id == user
    }

    /// The account after a status is recorded: the same change the store's conditional write
    /// makes, so adapters and tests agree on it. Healthy or gone ends the outage and all its
    /// state (pending work, the restart marker, a cookie reconnect); any other status opens
    /// `outage` when none is open.
    pub fn with_status(mut self, plan: &StatusPlan, outage: &Outage, now: DateTime<Utc>) -> Self {
        self.status = plan.stored.clone();
        self.last_update = now;
        self.with_outage_for(plan, outage)
    }

    /// The outage part of [`Self::with_status`] alone.
    pub fn with_outage_for(mut self, plan: &StatusPlan, outage: &Outage) -> Self {
        if plan.ends_outage() {
            self.end_outage();
        } else if self.outage.is_none() {
            self.outage = Some(outage.clone());
        }
        self
    }

    /// Forgets the outage and everything that belonged to it.
    pub fn end_outage(&mut self) {
        self.pending = None;
        self.restart_attempted_at = None;
        self.cookie_reconnect = None;
        self.outage = None;
        self.emailed_outage = None;
        self.emailed_by = None;
        self.email_sent_at = None;
        self.email_uncertain_at = None;
    }

    /// The outage's email was marked "sending" and nothing says what the mail service did
    /// with it: its sender stopped between the mark and the answer.
    pub fn email_unaccounted_for(&self) -> bool {
        self.outage_id().is_some()
            && self.emailed_outage.as_deref() == self.outage_id()
            && self.email_sent_at.is_none()
            && self.email_uncertain_at.is_none()
    }

    /// The account with `fact` recorded by the write that made it what it now is, over
    /// `previous` (the status that write replaced; `None`: the write created the account).
    pub fn with_fact(mut self, previous: Option<AccountStatus>, fact: RecordedFact) -> Self {
        let fact = fact.written(previous, &self.status, self.outage.as_ref());
        self.outbox = std::mem::take(&mut self.outbox).with(fact);
        self
    }

    /// Whose account this is, as its events name it.
    pub fn subject(&self) -> EventSubject {
        EventSubject {
            user_id: self.user_id.clone(),
            account_id: self.account_id.clone(),
            provider: self.account_type.clone(),
        }
    }

    /// The current outage's id, if one is open.
    pub fn outage_id(&self) -> Option<&str> {
        self.outage.as_ref().map(|o| o.id.as_str())
    }

    /// Newest first, the order the landing page shows; ties broken by id so the order is stable.
    pub fn sort_newest_first(accounts: &mut [Account]) {
        accounts.sort_by(|a, b| {
            b.created_on
                .cmp(&a.created_on)
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
    }
}
