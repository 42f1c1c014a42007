//! Acting on Unipile's word, not on a delivery's. A v1 webhook carries no timestamp and is
//! retried, so a delivery may be late, repeated or out of order; before a follow-up touches a
//! user's account (an email, a restart, a cookie reconnect started or ended) it asks Unipile
//! for the account (`GET /api/v1/accounts/{id}`) and goes by that. Pure: table-tested below.

use super::transitions::{StatusPlan, TransitionPolicy, plan};
use super::{AccountStatus, PendingKind};

/// One status for an account from the statuses of its sources (`sources[].status`), worst
/// first: a source that needs the user makes the account need them.
///
/// - any DELETED: the account is gone;
/// - else any CREDENTIALS: the user must reconnect;
/// - else any ERROR, else any STOPPED: a restart may help;
/// - else any PERMISSIONS, else any status this version does not know (kept as sent);
/// - else any CONNECTING: temporary, wait;
/// - else (every source OK, or reporting a success event): OK.
///
/// No sources at all: `None`, *unconfirmed*. Unipile answered, so the account exists, but it
/// did not say how it is; callers then keep the status they were told (the delivery's, or
/// the one stored), which is what this project did before it asked Unipile at all.
pub fn combined_status(sources: &[AccountStatus]) -> Option<AccountStatus> {
    use AccountStatus as S;
    if sources.is_empty() {
        return None;
    }
    let any = |wanted: &S| sources.iter().any(|s| s == wanted);
    let precedence = [
        S::Deleted,
        S::Credentials,
        S::Error,
        S::Stopped,
        S::Permissions,
    ];
    if let Some(found) = precedence.iter().find(|s| any(s)) {
        return Some(found.clone());
    }
    if let Some(unknown) = sources.iter().find(|s| matches!(s, S::Unknown(_))) {
        return Some(unknown.clone());
    }
    if any(&S::Connecting) {
        return Some(S::Connecting);
    }
    Some(S::Ok)
}

/// What Unipile says of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    /// Its status (as Unipile words it; [`plan`] turns it into what we store).
    Status(AccountStatus),
    /// Unipile answers 404: the account is gone. We record DELETED and act on nothing.
    Gone,
}

impl Truth {
    /// From Unipile's sources, falling back on `told` when they are unconfirmed.
    pub fn from_sources(sources: &[AccountStatus], told: &AccountStatus) -> Self {
        match combined_status(sources) {
            Some(AccountStatus::Deleted) => Self::Gone,
            Some(status) => Self::Status(status),
            None => Self::Status(told.clone()),
        }
    }
}

/// Whether a follow-up still makes sense for an account whose confirmed status is `confirmed`
/// (in its stored form). Anything else is dropped without its side effect.
pub fn still_called_for(
    kind: PendingKind,
    confirmed: &AccountStatus,
    policy: &TransitionPolicy,
) -> bool {
    use AccountStatus as S;
    match kind {
        // Its work is the confirming itself; what the status calls for follows from that.
        PendingKind::ConfirmStatus => false,
        PendingKind::CredentialsLost | PendingKind::CookieReconnectFailed => {
            *confirmed == S::Credentials
        }
        PendingKind::RestartAccount => {
            policy.auto_restart && matches!(confirmed, S::Error | S::Stopped)
        }
        // LinkedIn wants the user; Unipile shows that as CREDENTIALS or CONNECTING, or
        // anything short of healthy.
        PendingKind::CookieCheckpoint => !matches!(confirmed, S::Ok | S::Deleted),
    }
}

/// What a follow-up does once Unipile answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The status to record (with its effects: an outage begun or ended), when the stored one
    /// is not Unipile's, or an outage must be opened for it.
    pub record: Option<StatusPlan>,
    /// The follow-up to do now: the one found, if still called for; else the one the
    /// confirmed status calls for, if it is news; else none (the follow-up is dropped).
    pub then: Option<PendingKind>,
}

pub fn settle(
    stored: &AccountStatus,
    outage_open: bool,
    follow_up: PendingKind,
    truth: &Truth,
    policy: &TransitionPolicy,
) -> Settlement {
    let reported = match truth {
        Truth::Gone => &AccountStatus::Deleted,
        Truth::Status(status) => status,
    };
    let confirmed = plan(reported, policy);
    let news = confirmed.stored != *stored;
    let record = (news || (!confirmed.ends_outage() && !outage_open)).then(|| confirmed.clone());
    let then = if still_called_for(follow_up, &confirmed.stored, policy) {
        Some(follow_up)
    } else if news {
        confirmed.action
    } else {
        None
    };
    Settlement { record, then }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountStatus as S;
    use PendingKind as K;

    #[test]
    fn sources_combine_worst_first_and_none_is_unconfirmed() {
        let table: &[(&[S], Option<S>)] = &[
            (&[S::Ok], Some(S::Ok)),
            (&[S::Ok, S::Credentials], Some(S::Credentials)),
            (&[S::Error, S::Credentials], Some(S::Credentials)),
            (&[S::Connecting, S::Stopped], Some(S::Stopped)),
            (&[S::Stopped, S::Error], Some(S::Error)),
            (&[S::Ok, S::Connecting], Some(S::Connecting)),
            (&[S::Permissions, S::Connecting], Some(S::Permissions)),
            (
                &[S::Ok, S::Unknown("PAUSED".into())],
                Some(S::Unknown("PAUSED".into())),
            ),
            (&[S::Ok, S::SyncSuccess], Some(S::Ok)),
            (&[S::Deleted, S::Ok], Some(S::Deleted)),
            (&[], None),
        ];
        for (sources, expected) in table {
            assert_eq!(&combined_status(sources), expected, "{sources:?}");
        }
        assert_eq!(
            Truth::from_sources(&[], &S::Credentials),
            Truth::Status(S::Credentials)
        );
        assert_eq!(Truth::from_sources(&[S::Deleted], &S::Ok), Truth::Gone);
    }

    /// (stored, outage open, follow-up found, Unipile says) -> (status recorded, follow-up done)
    #[test]
    fn the_settlement_table() {
        let on = TransitionPolicy::default();
        let ok = Truth::Status(S::Ok);
        let credentials = Truth::Status(S::Credentials);
        let connecting = Truth::Status(S::Connecting);
        let error = Truth::Status(S::Error);
        type Row<'a> = (S, bool, K, &'a Truth, Option<S>, Option<K>);
        let table: &[Row] = &[
            // A CREDENTIALS delivery Unipile confirms: recorded, and its email follows.
            (
                S::Ok,
                false,
                K::ConfirmStatus,
                &credentials,
                Some(S::Credentials),
                Some(K::CredentialsLost),
            ),
            // A CREDENTIALS retried after RECONNECTED: Unipile says OK; nothing happens.
            (S::Ok, false, K::ConfirmStatus, &ok, None, None),
            // A late CONNECTING in a CREDENTIALS outage: Unipile still says CREDENTIALS.
            (
                S::Credentials,
                true,
                K::ConfirmStatus,
                &credentials,
                None,
                None,
            ),
            // A real recovery ends the outage.
            (
                S::Credentials,
                true,
                K::ConfirmStatus,
                &ok,
                Some(S::Ok),
                None,
            ),
            // An owed email whose account recovered meanwhile is dropped.
            (
                S::Credentials,
                true,
                K::CredentialsLost,
                &ok,
                Some(S::Ok),
                None,
            ),
            (
                S::Credentials,
                true,
                K::CredentialsLost,
                &credentials,
                None,
                Some(K::CredentialsLost),
            ),
            // A stored CREDENTIALS from before outages were kept: one is opened.
            (
                S::Credentials,
                false,
                K::CredentialsLost,
                &credentials,
                Some(S::Credentials),
                Some(K::CredentialsLost),
            ),
            (
                S::Credentials,
                true,
                K::RestartAccount,
                &error,
                Some(S::Error),
                Some(K::RestartAccount),
            ),
            (
                S::Ok,
                false,
                K::ConfirmStatus,
                &connecting,
                Some(S::Connecting),
                None,
            ),
            (
                S::Credentials,
                true,
                K::CookieCheckpoint,
                &connecting,
                Some(S::Connecting),
                Some(K::CookieCheckpoint),
            ),
            (
                S::Credentials,
                true,
                K::CookieReconnectFailed,
                &ok,
                Some(S::Ok),
                None,
            ),
            (
                S::Credentials,
                true,
                K::CredentialsLost,
                &Truth::Gone,
                Some(S::Deleted),
                None,
            ),
            (
                S::Deleted,
                false,
                K::ConfirmStatus,
                &Truth::Gone,
                None,
                None,
            ),
        ];
        for (stored, open, kind, truth, recorded, then) in table {
            let settled = settle(stored, *open, *kind, truth, &on);
            assert_eq!(
                (settled.record.map(|p| p.stored), settled.then),
                (recorded.clone(), *then),
                "{stored} (outage open: {open}) {kind:?} then Unipile says {truth:?}"
            );
        }
    }

    #[test]
    fn with_restarts_off_a_restart_is_never_called_for() {
        let off = TransitionPolicy {
            auto_restart: false,
        };
        let settled = settle(
            &S::Ok,
            false,
            K::ConfirmStatus,
            &Truth::Status(S::Error),
            &off,
        );
        assert_eq!(settled.then, None);
        assert!(!still_called_for(K::RestartAccount, &S::Error, &off));
    }
}
