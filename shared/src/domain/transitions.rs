//! What a status reported by Unipile does to a stored account. Pure: table-tested below.
//!
//! The webhook records a change in one conditional write, before it knows the stored status:
//! the write is planned from the new status alone ([`plan`]), and the condition makes it apply
//! only when the stored status differs and is not terminal. That is sound because, for every
//! stored status the condition lets through, the outcome is the same ([`outcome`] is tested
//! to agree with [`plan`] for each such pair).

use super::{AccountStatus, PendingKind};

/// Switches a deployment may turn off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionPolicy {
    /// One automatic restart of an account that Unipile reports ERROR or STOPPED.
    pub auto_restart: bool,
}

impl Default for TransitionPolicy {
    fn default() -> Self {
        Self { auto_restart: true }
    }
}

/// The write that records a reported status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPlan {
    /// What we store: the account's health (CREATION_SUCCESS, RECONNECTED and SYNC_SUCCESS
    /// all mean OK).
    pub stored: AccountStatus,
    /// The follow-up to record with it; any earlier pending action is replaced.
    pub action: Option<PendingKind>,
    /// The account is healthy again: forget the outage (pending work, the restart marker).
    pub healthy: bool,
    /// May this status bring a DELETED account back? Only a new connection may.
    pub revives_deleted: bool,
}

impl StatusPlan {
    /// Recording this status ends the outage, if one is open: healthy again, or gone. Any
    /// other status begins one, or carries on the one open.
    pub fn ends_outage(&self) -> bool {
        self.healthy || self.stored == AccountStatus::Deleted
    }
}

pub fn plan(reported: &AccountStatus, policy: &TransitionPolicy) -> StatusPlan {
    use AccountStatus as S;
    let (stored, action) = match reported {
        S::Ok | S::CreationSuccess | S::Reconnected | S::SyncSuccess => (S::Ok, None),
        S::Credentials => (S::Credentials, Some(PendingKind::CredentialsLost)),
        S::Error | S::Stopped if policy.auto_restart => {
            (reported.clone(), Some(PendingKind::RestartAccount))
        }
        other => (other.clone(), None),
    };
    StatusPlan {
        healthy: stored == S::Ok,
        stored,
        action,
        revives_deleted: reported.is_connection_success(),
    }
}

/// What reporting `reported` for an account stored as `stored` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changes (same status, or a DELETED account hearing anything but a new connection).
    Unchanged,
    Changed(StatusPlan),
}

pub fn outcome(
    stored: &AccountStatus,
    reported: &AccountStatus,
    policy: &TransitionPolicy,
) -> Outcome {
    let plan = plan(reported, policy);
    if *stored == plan.stored || (*stored == AccountStatus::Deleted && !plan.revives_deleted) {
        Outcome::Unchanged
    } else {
        Outcome::Changed(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountStatus as S;

    fn all_statuses() -> Vec<AccountStatus> {
        let mut all: Vec<AccountStatus> =
            AccountStatus::KNOWN.iter().map(|s| S::from(*s)).collect();
        all.push(S::Unknown("PAUSED".into()));
        all
    }

    /// What a change leaves: the stored status and the follow-up.
    type Change = (S, Option<PendingKind>);

    /// (stored, reported) -> the change, if any, for every pair that matters.
    #[test]
    fn the_transition_table() {
        let on = TransitionPolicy::default();
        let notify = Some(PendingKind::CredentialsLost);
        let restart = Some(PendingKind::RestartAccount);
        let table: &[(S, S, Option<Change>)] = &[
            (S::Ok, S::Credentials, Some((S::Credentials, notify))),
            (
                S::Connecting,
                S::Credentials,
                Some((S::Credentials, notify)),
            ),
            (S::Error, S::Credentials, Some((S::Credentials, notify))),
            (S::Credentials, S::Credentials, None),
            (S::Credentials, S::Ok, Some((S::Ok, None))),
            (S::Credentials, S::Reconnected, Some((S::Ok, None))),
            (S::Credentials, S::CreationSuccess, Some((S::Ok, None))),
            (S::Ok, S::SyncSuccess, None),
            (S::Ok, S::Reconnected, None),
            (S::Ok, S::Error, Some((S::Error, restart))),
            (S::Ok, S::Stopped, Some((S::Stopped, restart))),
            (S::Error, S::Stopped, Some((S::Stopped, restart))),
            (S::Error, S::Error, None),
            (S::Ok, S::Connecting, Some((S::Connecting, None))),
            (S::Ok, S::Permissions, Some((S::Permissions, None))),
            (S::Ok, S::Deleted, Some((S::Deleted, None))),
            (S::Deleted, S::Ok, None),
            (S::Deleted, S::Credentials, None),
            (S::Deleted, S::Error, None),
            (S::Deleted, S::Reconnected, Some((S::Ok, None))),
            (S::Deleted, S::CreationSuccess, Some((S::Ok, None))),
            (
                S::Ok,
                S::Unknown("PAUSED".into()),
                Some((S::Unknown("PAUSED".into()), None)),
            ),
        ];
        for (stored, reported, expected) in table {
            let got = match outcome(stored, reported, &on) {
                Outcome::Unchanged => None,
                Outcome::Changed(plan) => Some((plan.stored, plan.action)),
            };
            assert_eq!(&got, expected, "{stored} then {reported}");
        }
    }

    #[test]
    fn restarts_can_be_turned_off() {
        let off = TransitionPolicy {
            auto_restart: false,
        };
        assert_eq!(plan(&S::Error, &off).action, None);
        assert_eq!(plan(&S::Stopped, &off).stored, S::Stopped);
    }

    #[test]
    fn healthy_statuses_clear_the_outage() {
        let on = TransitionPolicy::default();
        for reported in [S::Ok, S::Reconnected, S::CreationSuccess, S::SyncSuccess] {
            assert!(plan(&reported, &on).healthy, "{reported}");
        }
        assert!(!plan(&S::Credentials, &on).healthy);
    }

    /// The one-write approach is sound only if the plan does not depend on which stored
    /// status the write's condition lets through.
    #[test]
    fn every_stored_status_the_condition_admits_gets_the_same_plan() {
        for policy in [
            TransitionPolicy::default(),
            TransitionPolicy {
                auto_restart: false,
            },
        ] {
            for reported in all_statuses() {
                let planned = plan(&reported, &policy);
                for stored in all_statuses() {
                    let admitted = stored != planned.stored
                        && (stored != S::Deleted || planned.revives_deleted);
                    let expected = if admitted {
                        Outcome::Changed(planned.clone())
                    } else {
                        Outcome::Unchanged
                    };
                    assert_eq!(
                        outcome(&stored, &reported, &policy),
                        expected,
                        "{stored} then {reported}"
                    );
                }
            }
        }
    }
}
