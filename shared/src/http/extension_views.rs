//! What the extension's routes answer once their flow has decided: a cookie synced
//! (`POST /extension/cookies`), a verification answered (`POST /extension/checkpoint`), every
//! cookie deleted (`DELETE /extension/cookies`). The identities' own views (and the
//! [`CheckpointView`] in them) are the identities flow's. No cookie, ever.

use crate::domain::LinkedinMemberId;
use crate::flows::checkpoint::CheckpointOutcome;
use crate::flows::cookie_sync::SyncOutcome;
use crate::flows::extension_identities::CheckpointView;
use serde::Serialize;

/// `POST /extension/cookies` and `POST /extension/checkpoint`'s answer, by what became of
/// the cookie or the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ExtensionStepView {
    /// `connected`, `reconnected` or `linked`: the account the cookie is tied to now.
    Account {
        account_id: String,
        status: &'static str,
    },
    /// A verification waits for the user; a first connect may have no account yet (`null`).
    Checkpoint {
        account_id: Option<String>,
        checkpoint: CheckpointView,
        status: &'static str,
    },
    /// Stored; `connect` says why no connect was tried now, when one was not.
    Stored {
        #[serde(skip_serializing_if = "Option::is_none")]
        connect: Option<&'static str>,
        status: &'static str,
    },
    /// The user disconnected this identity: nothing was stored.
    Paused {
        linkedin_member_id: String,
        status: &'static str,
    },
}

impl ExtensionStepView {
    /// A synced cookie's answer and its HTTP status: 201 for a new account, 202 at a
    /// verification, 200 otherwise.
    pub fn of_sync(outcome: SyncOutcome, member: &LinkedinMemberId) -> (u16, Self) {
        let account = |status, account_id: crate::domain::AccountId| Self::Account {
            account_id: account_id.as_str().to_owned(),
            status,
        };
        let stored = |connect| Self::Stored {
            connect,
            status: "stored",
        };
        match outcome {
            SyncOutcome::Connected(account_id) => (201, account("connected", account_id)),
            SyncOutcome::Checkpoint {
                account_id,
                checkpoint,
            } => (
                202,
                Self::Checkpoint {
                    account_id: account_id.map(String::from),
                    checkpoint: CheckpointView::from(&checkpoint),
                    status: "checkpoint",
                },
            ),
            SyncOutcome::Reconnected(account_id) => (200, account("reconnected", account_id)),
            SyncOutcome::Stored => (200, stored(None)),
            SyncOutcome::Throttled => (200, stored(Some("throttled"))),
            SyncOutcome::Linked(account_id) => (200, account("linked", account_id)),
            SyncOutcome::Settling => (200, stored(Some("settling"))),
            SyncOutcome::Paused => (
                200,
                Self::Paused {
                    linkedin_member_id: member.as_str().to_owned(),
                    status: "paused",
                },
            ),
        }
    }

    /// An answered verification's answer and its HTTP status: 200 once the account is
    /// connected (or reconnected), 202 while a verification still waits.
    pub fn of_checkpoint(outcome: CheckpointOutcome) -> (u16, Self) {
        match outcome {
            CheckpointOutcome::Done {
                account_id,
                reconnect,
            } => (
                200,
                Self::Account {
                    account_id: account_id.as_str().to_owned(),
                    status: if reconnect {
                        "reconnected"
                    } else {
                        "connected"
                    },
                },
            ),
            CheckpointOutcome::Waiting {
                account_id,
                checkpoint,
            } => (
                202,
                Self::Checkpoint {
                    account_id: Some(account_id.as_str().to_owned()),
                    checkpoint: CheckpointView::from(&checkpoint),
                    status: "checkpoint",
                },
            ),
        }
    }
}

/// `DELETE /extension/cookies`'s answer: how many stored cookies were deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CookiesDeletedView {
    pub deleted: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;
    use crate::domain::checkpoint::{CheckpointKind, WaitingCheckpoint};
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn text(view: &impl Serialize) -> String {
        serde_json::to_string(view).expect("serializes")
    }

    fn waiting() -> WaitingCheckpoint {
        WaitingCheckpoint {
            kind: CheckpointKind::from("2FA"),
            expires_at: Utc
                .with_ymd_and_hms(2025, 1, 2, 3, 4, 5)
                .single()
                .expect("time"),
        }
    }

    #[test]
    fn each_synced_cookie_answers_its_status_and_words() {
        let member = LinkedinMemberId::parse("ACoAAA1").expect("member");
        let id = || AccountId::parse("acc-1").expect("id");
        let checkpoint = text(&CheckpointView::from(&waiting()));
        let cases = [
            (
                SyncOutcome::Connected(id()),
                201,
                json!({"status": "connected", "account_id": "acc-1"}).to_string(),
            ),
            (
                SyncOutcome::Checkpoint {
                    account_id: None,
                    checkpoint: waiting(),
                },
                202,
                format!(r#"{{"account_id":null,"checkpoint":{checkpoint},"status":"checkpoint"}}"#),
            ),
            (
                SyncOutcome::Checkpoint {
                    account_id: Some(id()),
                    checkpoint: waiting(),
                },
                202,
                format!(
                    r#"{{"account_id":"acc-1","checkpoint":{checkpoint},"status":"checkpoint"}}"#
                ),
            ),
            (
                SyncOutcome::Reconnected(id()),
                200,
                json!({"status": "reconnected", "account_id": "acc-1"}).to_string(),
            ),
            (
                SyncOutcome::Stored,
                200,
                json!({"status": "stored"}).to_string(),
            ),
            (
                SyncOutcome::Throttled,
                200,
                json!({"status": "stored", "connect": "throttled"}).to_string(),
            ),
            (
                SyncOutcome::Linked(id()),
                200,
                json!({"status": "linked", "account_id": "acc-1"}).to_string(),
            ),
            (
                SyncOutcome::Settling,
                200,
                json!({"status": "stored", "connect": "settling"}).to_string(),
            ),
            (
                SyncOutcome::Paused,
                200,
                json!({"status": "paused", "linkedin_member_id": "ACoAAA1"}).to_string(),
            ),
        ];
        for (outcome, status, body) in cases {
            let (got_status, view) = ExtensionStepView::of_sync(outcome, &member);
            assert_eq!((got_status, text(&view)), (status, body));
        }
    }

    #[test]
    fn each_answered_checkpoint_answers_its_status_and_words() {
        let id = || AccountId::parse("acc-1").expect("id");
        let checkpoint = text(&CheckpointView::from(&waiting()));
        let cases = [
            (
                CheckpointOutcome::Done {
                    account_id: id(),
                    reconnect: false,
                },
                200,
                json!({"status": "connected", "account_id": "acc-1"}).to_string(),
            ),
            (
                CheckpointOutcome::Done {
                    account_id: id(),
                    reconnect: true,
                },
                200,
                json!({"status": "reconnected", "account_id": "acc-1"}).to_string(),
            ),
            (
                CheckpointOutcome::Waiting {
                    account_id: id(),
                    checkpoint: waiting(),
                },
                202,
                format!(
                    r#"{{"account_id":"acc-1","checkpoint":{checkpoint},"status":"checkpoint"}}"#
                ),
            ),
        ];
        for (outcome, status, body) in cases {
            let (got_status, view) = ExtensionStepView::of_checkpoint(outcome);
            assert_eq!((got_status, text(&view)), (status, body));
        }
    }

    #[test]
    fn deleted_cookies_answer_their_count() {
        assert_eq!(
            text(&CookiesDeletedView { deleted: 3 }),
            json!({"deleted": 3}).to_string()
        );
    }
}
