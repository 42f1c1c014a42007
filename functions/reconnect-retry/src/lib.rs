//! One cookie-reconnect attempt, invoked by EventBridge Scheduler with
//! `{"account_id","outage","attempt"}` (schedules made before outages were kept lack `outage`).
//! A failure it cannot finish (storage, KMS, mail) fails the invocation: Scheduler invokes
//! asynchronously, so Lambda retries it, then sends it to the dead-letter queue (see
//! `infra/template.yaml`), where `reconnect-retry dead-letters` ([`cli`]) lists, replays or
//! drains it; a bad input is logged and dropped.

pub mod cli;

use lambda_http::Error;
use serde_json::{Value, json};
use std::sync::Arc;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::{self, FollowUpDeps};
use unipile_connect::domain::reconnect::ReconnectAttempt;
use unipile_connect::flows::reconnect_retry::{AttemptOutcome, ReconnectPorts, run_attempt};
use unipile_connect::ports::Cipher;

pub struct ReconnectRetry {
    pub follow_ups: FollowUpDeps,
    /// Opens the stored cookie an attempt logs in with.
    pub cipher: Arc<dyn Cipher>,
}

impl ReconnectRetry {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            cipher: deps::kms_cipher(&env, &aws)?,
            follow_ups: FollowUpDeps::from_env(&env, &aws)?,
        })
    }

    pub fn ports(&self) -> ReconnectPorts<'_> {
        ReconnectPorts {
            follow_ups: self.follow_ups.ports(),
            cipher: self.cipher.as_ref(),
        }
    }
}

pub async fn handler(app: &ReconnectRetry, event: Value) -> Result<Value, Error> {
    let input: ReconnectAttempt = match serde_json::from_value(event) {
        Ok(input) => input,
        Err(error) => {
            tracing::error!(%error, "reconnect-retry input is not {{\"account_id\",\"outage\",\"attempt\"}}: dropped");
            return Ok(json!({"outcome": "invalid_input"}));
        }
    };
    let outcome = run_attempt(app.ports(), &app.follow_ups.settings, &input).await?;
    Ok(match outcome {
        AttemptOutcome::Skipped(reason) => json!({"outcome": "skipped", "reason": reason}),
        AttemptOutcome::Reconnected => json!({"outcome": "reconnected"}),
        AttemptOutcome::Retrying { next_attempt } => {
            json!({"outcome": "retrying", "next_attempt": next_attempt})
        }
        AttemptOutcome::Exhausted => json!({"outcome": "exhausted"}),
        AttemptOutcome::NeedsUser { checkpoint } => {
            json!({"outcome": "needs_user", "checkpoint": checkpoint})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use unipile_connect::adapters::cipher::LocalCipher;
    use unipile_connect::memory_world::MemoryWorld;

    fn app(world: &MemoryWorld) -> ReconnectRetry {
        ReconnectRetry {
            cipher: Arc::new(LocalCipher::random().expect("key")),
            follow_ups: world.follow_up_deps(),
        }
    }

    #[tokio::test]
    async fn an_input_that_is_not_an_attempt_is_dropped_not_retried() {
        let world = MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        );
        for input in [
            json!({}),
            json!({"account_id": "a", "attempt": -1}),
            json!("text"),
            json!({"account_id": "a", "attempt": 1, "x": 1}),
        ] {
            let outcome = handler(&app(&world), input.clone())
                .await
                .expect("not an error");
            assert_eq!(outcome["outcome"], "invalid_input", "{input}");
        }
    }

    #[tokio::test]
    async fn an_attempt_for_an_unknown_account_is_skipped() {
        let world = MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        );
        let outcome = handler(&app(&world), json!({"account_id": "gone", "attempt": 0}))
            .await
            .expect("ran");
        assert_eq!(
            outcome,
            json!({"outcome": "skipped", "reason": "no such account"})
        );
        assert!(world.unipile.cookie_logins().is_empty());
    }
}
