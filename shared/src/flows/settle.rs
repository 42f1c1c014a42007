//! The one path from Unipile's word to a recorded change and what it calls for. A status
//! webhook's delivery that finds the account free, and whoever holds a recorded follow-up
//! (the delivery that recorded it, a reconnect attempt, the sweeper), both go this way:
//! ask Unipile for the account, record what it says in one conditional write (with the
//! follow-up it calls for, held by the writer, and the email's "sending" mark when that can
//! go in the same write), do the follow-up, complete it. Every change of an account's status
//! that Unipile confirmed is written here, and a recorded follow-up is finished
//! ([`resume`], [`carry_out`]) the same way.

use super::FlowError;
use super::follow_ups::{
    EMAIL_SEND_TIME, FollowUpPorts, FollowUpSettings, Owner, cancel_schedules, complete_held,
    confirm, new_action, owner_email, perform,
};
use crate::domain::events::{Fact, How, RecordedFact};
use crate::domain::pending::random_id;
use crate::domain::truth;
use crate::domain::{
    Account, AccountStatus, CLAIM_LEASE, MAX_FOLLOW_UP_ATTEMPTS, Outage, PendingAction,
    PendingKind, retry_at,
};
use crate::ports::{SettleBasis, Settled};

/// What [`resume`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// No live follow-up on the account.
    NothingDue,
    /// Another caller holds it (its lease is running).
    Held,
    /// Done and cleared.
    Done,
    /// Too many attempts: given up, marked abandoned, and an alarm metric counted.
    Abandoned,
}

/// Finishes a follow-up an earlier caller left, unless someone holds it. An error means it
/// failed again: it is let go, due again after a back-off.
pub async fn resume(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
) -> Result<Resumed, FlowError> {
    let Some(action) = account.pending.as_ref().filter(|p| !p.is_abandoned()) else {
        return Ok(Resumed::NothingDue);
    };
    let id = &account.account_id;
    let now = ports.clock.now();
    if action.is_held_at(now) {
        return Ok(Resumed::Held);
    }
    if action.attempts >= MAX_FOLLOW_UP_ATTEMPTS {
        if ports.store.abandon_pending(id, &action.id, now).await? {
            crate::metrics::count("FollowUpAbandoned");
            tracing::error!(account_id = %id, user_id = %account.user_id, follow_up = action.kind.as_str(), attempts = action.attempts, "follow-up abandoned: it stays on the account item, marked abandoned");
            return Ok(Resumed::Abandoned);
        }
        return Ok(Resumed::Held);
    }
    let claim = random_id().map_err(FlowError::Internal)?;
    let Some(held) = ports
        .store
        .claim_pending(id, &action.id, &claim, now, now + CLAIM_LEASE)
        .await?
    else {
        return Ok(Resumed::Held);
    };
    tracing::info!(account_id = %id, follow_up = held.kind.as_str(), attempt = held.attempts, "finishing a recorded follow-up");
    carry_out(ports, settings, account, &held).await?;
    Ok(Resumed::Done)
}

/// Does the follow-up `action`, held by the caller (its `claim`), then clears it: the one
/// settle path ([`settle`]). On failure the claim is let go, the follow-up due again after a
/// back-off, and the error returned.
pub async fn carry_out(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    action: &PendingAction,
) -> Result<(), FlowError> {
    if action.claim.is_none() {
        return Err(FlowError::Internal(
            "a follow-up was carried out without its claim".into(),
        ));
    }
    let told = action.reported.as_ref().unwrap_or(&account.status);
    match settle(ports, settings, account, Holder::FollowUp(action), told).await {
        Ok(_) => Ok(()),
        Err(Unsettled::Unconfirmed(error)) => {
            release(ports, account, action).await;
            Err(error)
        }
        Err(Unsettled::Unfinished(error)) => Err(error),
    }
}

/// Who settles: what the write is conditioned on, and who holds the follow-up it records.
#[derive(Debug, Clone, Copy)]
pub(super) enum Holder<'a> {
    /// A status webhook's delivery, the account as it read it with no follow-up recorded:
    /// written only if it is still so; the follow-up it calls for is recorded held by it.
    Delivery,
    /// The recorded follow-up, held (its claim): written only while the claim holds it.
    FollowUp(&'a PendingAction),
}

/// What settling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settling {
    /// Unipile confirms what is stored and nothing is owed: nothing written.
    Unchanged,
    /// The basis moved (the account changed, or the follow-up was taken over or replaced):
    /// nothing written.
    Moved,
    /// Recorded, and what it called for done.
    Done,
}

/// Why settling stopped.
#[derive(Debug)]
pub(super) enum Unsettled {
    /// Before anything was written (Unipile could not be asked): for the caller to record or
    /// let go.
    Unconfirmed(FlowError),
    /// After the write: the follow-up it recorded is let go, due again after a back-off.
    Unfinished(FlowError),
}

/// Settles `account` on Unipile's word (`told` standing in when Unipile shows no status).
pub(super) async fn settle(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    holder: Holder<'_>,
    told: &AccountStatus,
) -> Result<Settling, Unsettled> {
    let id = &account.account_id;
    let kind = match holder {
        Holder::Delivery => PendingKind::ConfirmStatus,
        Holder::FollowUp(held) => held.kind,
    };
    let truth = confirm(ports.unipile, id, told)
        .await
        .map_err(Unsettled::Unconfirmed)?;
    let settlement = truth::settle(
        &account.status,
        account.outage.is_some(),
        kind,
        &truth,
        &settings.policy,
    );
    let now = ports.clock.now();
    let internal = |e: String| Unsettled::Unconfirmed(FlowError::Internal(e));
    // The follow-up left to do, held by this holder: the one it holds, moved on, or a new one.
    let then = match (settlement.then, holder) {
        (None, _) => None,
        (Some(next), Holder::FollowUp(held)) => Some(PendingAction {
            kind: next,
            reported: None,
            ..held.clone()
        }),
        (Some(next), Holder::Delivery) => {
            Some(new_action(next, now).map_err(Unsettled::Unconfirmed)?)
        }
    };
    let unchanged = settlement.record.is_none()
        && match holder {
            Holder::Delivery => then.is_none(),
            Holder::FollowUp(held) => settlement.then == Some(held.kind),
        };
    let outage = Outage::begin(now).map_err(internal)?;
    // A delivery's email goes in the write that records its status, with its "sending" mark,
    // when its address is known and there is time to send it: one write and the email.
    let (premarked, owner) = match (&then, holder) {
        (Some(email), Holder::Delivery) => mark_at_once(ports, account, email, &outage).await,
        _ => (None, Owner::Unknown),
    };
    let written = if unchanged {
        if matches!(holder, Holder::Delivery) {
            tracing::info!(account_id = %id, told = %told, stored = %account.status, "Unipile does not confirm the delivery: nothing to change");
            return Ok(Settling::Unchanged);
        }
        account.clone()
    } else {
        // A change after the restart is the restart's doing; any other, Unipile's own.
        let how = if kind == PendingKind::RestartAccount {
            How::Restart
        } else {
            How::Unipile
        };
        let fact = match &settlement.record {
            Some(_) => Some(RecordedFact::new(Fact::Status { how }, now).map_err(internal)?),
            None => None,
        };
        let settled = Settled {
            status: settlement.record.clone(),
            outage,
            then: then.clone(),
            mark: premarked.clone(),
            fact,
        };
        let basis = match holder {
            Holder::Delivery => SettleBasis::AsSeen(account),
            Holder::FollowUp(held) => SettleBasis::Holding(held.claim.as_deref().unwrap_or("")),
        };
        let claim = then.as_ref().and_then(|t| t.claim.clone());
        match ports.store.settle_confirmed(id, basis, &settled, now).await {
            Ok(Some(written)) => written,
            Ok(None) => {
                tracing::info!(account_id = %id, follow_up = kind.as_str(), "the account changed, or its follow-up was taken over, meanwhile: left to its next holder");
                return Ok(Settling::Moved);
            }
            // A lost answer may hide a write that was made: with a mark, the mark tells (read
            // back, a mark of this claim means nothing was sent yet, so the email is sent).
            Err(error) => match ports.store.get_account(id).await {
                Ok(Some(stored)) if premarked.is_some() && stored.emailed_by == claim => stored,
                _ => return Err(Unsettled::Unconfirmed(error.into())),
            },
        }
    };
    if settlement.record.is_some() {
        tracing::info!(
            account_id = %id,
            user_id = %account.user_id,
            from = %account.status,
            to = %written.status,
            told = %told,
            outage = written.outage_id(),
            "account status changed (confirmed with Unipile)"
        );
        crate::metrics::count_by("StatusChanged", "Status", written.status.as_str());
    }
    let ended = settlement.record.as_ref().is_some_and(|p| p.ends_outage());
    if ended && account.cookie_reconnect.is_some() {
        cancel_schedules(ports.scheduler, id, account.outage_id(), 0).await;
    }
    let Some(held) = then.filter(|_| !ended) else {
        if kind != PendingKind::ConfirmStatus && settlement.then.is_none() {
            tracing::info!(account_id = %id, follow_up = kind.as_str(), unipile = ?truth, "follow-up dropped: Unipile does not confirm what it was for");
        }
        return Ok(Settling::Done);
    };
    let done = match perform(ports, settings, &written, &held, owner).await {
        Ok(completion) => complete_held(ports, &written, &held, &completion).await,
        Err(error) => Err(error),
    };
    match done {
        Ok(()) => Ok(Settling::Done),
        Err(error) => {
            release(ports, &written, &held).await;
            Err(Unsettled::Unfinished(error))
        }
    }
}

/// The outage whose email a delivery may mark in its settling write, and what is known of the
/// owner's address: a "please reconnect" email to a known address, not yet started for this
/// outage, with time left to send it. A LinkedIn account the extension connected may be
/// mended with its cookie first, so its email is decided by the follow-up.
async fn mark_at_once(
    ports: FollowUpPorts<'_>,
    account: &Account,
    then: &PendingAction,
    outage: &Outage,
) -> (Option<String>, Owner) {
    if then.kind != PendingKind::CredentialsLost || account.linkedin_member_id.is_some() {
        return (None, Owner::Unknown);
    }
    let marked = account.outage_id().unwrap_or(outage.id.as_str()).to_owned();
    if account.emailed_outage.as_deref() == Some(marked.as_str()) {
        return (None, Owner::Unknown);
    }
    // With too little time, the follow-up decides (and the sweeper sends).
    if !crate::deadline::allows(EMAIL_SEND_TIME) {
        tracing::info!(account_id = %account.account_id, "too little time left to send the email now: left to its follow-up");
        return (None, Owner::Unknown);
    }
    match owner_email(ports, account).await {
        Ok(Some(to)) => (Some(marked), Owner::Marked(to)),
        Ok(None) => (None, Owner::Nobody),
        Err(_) => (None, Owner::Unknown),
    }
}

/// Lets go of a held follow-up after a failure: due again after a back-off, for whoever comes
/// first (the sweeper at the latest).
pub(super) async fn release(ports: FollowUpPorts<'_>, account: &Account, held: &PendingAction) {
    let Some(claim) = held.claim.as_deref() else {
        return;
    };
    let due = retry_at(held.attempts.max(1), ports.clock.now());
    if let Err(error) = ports
        .store
        .release_pending(&account.account_id, claim, due)
        .await
    {
        tracing::warn!(account_id = %account.account_id, %error, "could not release a follow-up claim: it is due again when the lease ends");
    }
    tracing::warn!(account_id = %account.account_id, follow_up = held.kind.as_str(), attempt = held.attempts, %due, "follow-up not finished: due again later");
}
