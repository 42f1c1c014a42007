//! The cookie-reconnect story of a LinkedIn account that fell into CREDENTIALS: attempt 0
//! shortly after, then one attempt an hour, attempts 1 to 4 (LinkedIn has downtimes); then the
//! user is told to reconnect. Pure, so the four hours test in microseconds.

use super::{AccountId, LinkedinMemberId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The last attempt: attempts 0 to 4 are five tries over four hours.
pub const LAST_ATTEMPT: u32 = 4;
pub const ATTEMPT_INTERVAL: Duration = Duration::hours(1);
/// How soon attempt 0 runs after the account is reported in CREDENTIALS.
pub const FIRST_ATTEMPT_DELAY: Duration = Duration::seconds(30);

/// What the scheduler hands `reconnect-retry`: `{"account_id","outage","attempt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconnectAttempt {
    pub account_id: AccountId,
    /// The outage this attempt belongs to: an attempt of another outage does nothing. `None`
    /// only in schedules created before outages were kept (`{"account_id","attempt"}`), which
    /// are taken for the outage in progress so that a reconnect running across the upgrade
    /// goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage: Option<String>,
    pub attempt: u32,
}

impl ReconnectAttempt {
    /// Whether this attempt belongs to the outage `current` (the account's, if one is open).
    pub fn is_for(&self, current: Option<&str>) -> bool {
        match &self.outage {
            Some(outage) => current == Some(outage.as_str()),
            None => true,
        }
    }
}

/// The reconnect in progress, kept on the account item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconnectState {
    pub member_id: LinkedinMemberId,
    /// When attempt 0 was due: attempt n is due `n` hours later.
    pub first_attempt_at: DateTime<Utc>,
    /// The attempt expected next; a delivery of any other one is stale.
    pub next_attempt: u32,
}

impl ReconnectState {
    pub fn start(member_id: LinkedinMemberId, now: DateTime<Utc>) -> Self {
        Self {
            member_id,
            first_attempt_at: now + FIRST_ATTEMPT_DELAY,
            next_attempt: 0,
        }
    }

    pub fn due_at(&self, attempt: u32) -> DateTime<Utc> {
        self.first_attempt_at + ATTEMPT_INTERVAL * attempt as i32
    }
}

/// What follows a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    Retry {
        attempt: u32,
        at: DateTime<Utc>,
    },
    /// Every attempt failed: tell the user.
    Exhausted,
}

pub fn after_failure(state: &ReconnectState, failed_attempt: u32) -> AfterFailure {
    if failed_attempt >= LAST_ATTEMPT {
        AfterFailure::Exhausted
    } else {
        let attempt = failed_attempt + 1;
        AfterFailure::Retry {
            attempt,
            at: state.due_at(attempt),
        }
    }
}

/// The extension is meant to sync every few minutes: a cookie older than `stale_after` means it
/// stopped (uninstalled, logged out, browser closed for days).
pub fn cookie_is_stale(
    last_cookie: DateTime<Utc>,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> bool {
    now - last_cookie > stale_after
}

/// The EventBridge Scheduler name of one attempt of one outage,
/// `reconnect-<account>-<outage>-<attempt>`: deterministic, so creating it twice is harmless;
/// per outage, so a schedule left by one outage never stands in for the next one's attempt;
/// within the 64 characters of `[0-9a-zA-Z-_.]` Scheduler allows.
pub fn schedule_name(account_id: &AccountId, outage: Option<&str>, attempt: u32) -> String {
    let safe = safe_part(account_id.as_str());
    let prefix = format!("reconnect-{safe}");
    let suffix = match outage {
        Some(outage) => format!("-{}-{attempt}", safe_part(outage)),
        None => format!("-{attempt}"),
    };
    if prefix.len() + suffix.len() <= 64 && safe == account_id.as_str() {
        return format!("{prefix}{suffix}");
    }
    // Long or rewritten ids: keep them distinct with a digest.
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(account_id.as_str().as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let keep = 64usize.saturating_sub("reconnect-".len() + 1 + hash.len() + suffix.len());
    format!("reconnect-{}-{hash}{suffix}", &safe[..safe.len().min(keep)])
}

fn safe_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn state() -> ReconnectState {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("date");
        ReconnectState::start(LinkedinMemberId::parse("42").expect("id"), now)
    }

    #[test]
    fn attempts_run_at_t0_then_hourly_for_four_hours_then_stop() {
        let state = state();
        let t0 = state.first_attempt_at;
        assert_eq!(
            t0,
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 30)
                .single()
                .expect("date")
        );
        let mut times = vec![state.due_at(0)];
        let mut attempt = 0;
        while let AfterFailure::Retry { attempt: next, at } = after_failure(&state, attempt) {
            times.push(at);
            attempt = next;
        }
        let offsets: Vec<i64> = times.iter().map(|t| (*t - t0).num_hours()).collect();
        assert_eq!(offsets, vec![0, 1, 2, 3, 4]);
        assert_eq!(after_failure(&state, 4), AfterFailure::Exhausted);
    }

    #[test]
    fn a_cookie_is_stale_after_the_configured_hours() {
        let now = Utc::now();
        assert!(!cookie_is_stale(
            now - Duration::hours(23),
            now,
            Duration::hours(24)
        ));
        assert!(cookie_is_stale(
            now - Duration::hours(25),
            now,
            Duration::hours(24)
        ));
    }

    #[test]
    fn schedule_names_are_deterministic_valid_short_and_per_outage() {
        let id = AccountId::parse("e54m8LR22bA7G5qsAc8w").expect("id");
        let outage = Some("0a1b2c3d4e5f");
        assert_eq!(
            schedule_name(&id, outage, 3),
            "reconnect-e54m8LR22bA7G5qsAc8w-0a1b2c3d4e5f-3"
        );
        assert_eq!(
            schedule_name(&id, None, 3),
            "reconnect-e54m8LR22bA7G5qsAc8w-3"
        );
        assert_ne!(
            schedule_name(&id, outage, 0),
            schedule_name(&id, Some("ffffffffffff"), 0),
            "another outage, another name"
        );
        let long = AccountId::parse("x".repeat(120)).expect("id");
        let weird = AccountId::parse("a/b:c@d").expect("id");
        for (id, attempt) in [(&long, 4), (&weird, 0)] {
            for outage in [outage, None] {
                let name = schedule_name(id, outage, attempt);
                assert!(name.len() <= 64, "{name}");
                assert!(
                    name.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
                    "{name}"
                );
                assert_eq!(name, schedule_name(id, outage, attempt));
                assert_ne!(name, schedule_name(id, outage, attempt + 1));
            }
            assert_ne!(
                schedule_name(id, outage, attempt),
                schedule_name(id, Some("ffffffffffff"), attempt)
            );
        }
        assert_ne!(
            schedule_name(&weird, outage, 0),
            schedule_name(&AccountId::parse("a_b_c_d").expect("id"), outage, 0)
        );
    }

    #[test]
    fn the_scheduler_input_is_account_outage_and_attempt_and_the_old_shape_still_reads() {
        let input: ReconnectAttempt =
            serde_json::from_str(r#"{"account_id":"acc_1","outage":"0a1b2c3d4e5f","attempt":2}"#)
                .expect("parses");
        assert_eq!(input.attempt, 2);
        assert!(input.is_for(Some("0a1b2c3d4e5f")));
        assert!(!input.is_for(Some("ffffffffffff")) && !input.is_for(None));
        let old: ReconnectAttempt =
            serde_json::from_str(r#"{"account_id":"acc_1","attempt":2}"#).expect("parses");
        assert!(
            old.is_for(Some("0a1b2c3d4e5f")),
            "taken for the outage in progress"
        );
        assert!(serde_json::from_str::<ReconnectAttempt>(r#"{"account_id":"acc_1"}"#).is_err());
        assert!(
            serde_json::from_str::<ReconnectAttempt>(r#"{"account_id":"a","attempt":1,"x":1}"#)
                .is_err()
        );
    }
}
