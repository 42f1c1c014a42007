//! Reconnect attempts as EventBridge Scheduler one-time schedules, and an in-memory scheduler
//! for tests and the local stack (whose clock can be moved forward).

use super::lazy_client::LazyClient;
use crate::domain::AccountId;
use crate::domain::reconnect::{LAST_ATTEMPT, ReconnectAttempt, schedule_name};
use crate::ports::{Clock, RetryScheduler, SchedulerError};
use async_trait::async_trait;
use aws_sdk_scheduler::error::DisplayErrorContext;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, Target,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;

/// Where schedules go and what they invoke.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    pub group: String,
    pub target_arn: String,
    pub role_arn: String,
    pub dead_letter_arn: Option<String>,
}

pub struct EventBridgeScheduler {
    client: LazyClient<aws_sdk_scheduler::Client>,
    settings: SchedulerSettings,
    clock: Arc<dyn Clock>,
}

impl EventBridgeScheduler {
    pub fn new(
        client: impl Into<LazyClient<aws_sdk_scheduler::Client>>,
        settings: SchedulerSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client: client.into(),
            settings,
            clock,
        }
    }
}

fn failed<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: aws_sdk_scheduler::error::SdkError<E, R>,
) -> SchedulerError {
    SchedulerError(DisplayErrorContext(&error).to_string())
}

/// A one-time schedule must lie in the future: anything due sooner than this (a late attempt,
/// say after the function's own retries) runs this long from now instead.
const EARLIEST: chrono::Duration = chrono::Duration::seconds(15);

/// `at(yyyy-mm-ddThh:mm:ss)`, read in the schedule's time zone (UTC here).
pub fn at_expression(at: DateTime<Utc>) -> String {
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

#[async_trait]
impl RetryScheduler for EventBridgeScheduler {
    async fn schedule(
        &self,
        attempt: &ReconnectAttempt,
        at: DateTime<Utc>,
    ) -> Result<(), SchedulerError> {
        let input = serde_json::to_string(attempt).map_err(|e| SchedulerError(e.to_string()))?;
        let built = (|| {
            let mut target = Target::builder()
                .arn(&self.settings.target_arn)
                .role_arn(&self.settings.role_arn)
                .input(input)
                // Scheduler retries an invocation it could not make; the function is idempotent per attempt.
                .retry_policy(
                    RetryPolicy::builder()
                        .maximum_retry_attempts(3)
                        .maximum_event_age_in_seconds(3600)
                        .build(),
                );
            if let Some(dlq) = &self.settings.dead_letter_arn {
                target = target.dead_letter_config(DeadLetterConfig::builder().arn(dlq).build());
            }
            Ok::<_, aws_sdk_scheduler::error::BuildError>((
                target.build()?,
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Off)
                    .build()?,
            ))
        })();
        let (target, window) = built.map_err(|e| SchedulerError(e.to_string()))?;
        let result = self
            .client
            .get()
            .create_schedule()
            .name(schedule_name(
                &attempt.account_id,
                attempt.outage.as_deref(),
                attempt.attempt,
            ))
            .group_name(&self.settings.group)
            .schedule_expression(at_expression(at.max(self.clock.now() + EARLIEST)))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Deterministic names: it exists, so this attempt is already scheduled.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conflict_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(failed(error)),
        }
    }

    async fn cancel(
        &self,
        account_id: &AccountId,
        outage: Option<&str>,
        from_attempt: u32,
    ) -> Result<(), SchedulerError> {
        for attempt in from_attempt..=LAST_ATTEMPT {
            let result = self
                .client
                .get()
                .delete_schedule()
                .name(schedule_name(account_id, outage, attempt))
                .group_name(&self.settings.group)
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) => {}
                Err(error) => return Err(failed(error)),
            }
        }
        Ok(())
    }
}

/// A pending schedule of the in-memory scheduler.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingSchedule {
    pub name: String,
    pub at: DateTime<Utc>,
    pub input: ReconnectAttempt,
}

/// Schedules kept in memory; nothing fires by itself: [`MemoryScheduler::take_next_due`] hands
/// over what is due, as the scheduler would invoke it, and forgets it (ActionAfterCompletion).
#[derive(Debug, Default)]
pub struct MemoryScheduler {
    schedules: Mutex<BTreeMap<String, PendingSchedule>>,
}

impl MemoryScheduler {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PendingSchedule>> {
        self.schedules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pending schedules, soonest first.
    pub fn pending(&self) -> Vec<PendingSchedule> {
        let mut pending: Vec<PendingSchedule> = self.lock().values().cloned().collect();
        pending.sort_by_key(|s| (s.at, s.name.clone()));
        pending
    }

    /// The soonest schedule due at or before `limit`, removed as it runs.
    pub fn take_next_due(&self, limit: DateTime<Utc>) -> Option<PendingSchedule> {
        let mut schedules = self.lock();
        let next = schedules
            .values()
            .filter(|s| s.at <= limit)
            .min_by_key(|s| (s.at, s.name.clone()))?
            .name
            .clone();
        schedules.remove(&next)
    }
}

#[async_trait]
impl RetryScheduler for MemoryScheduler {
    async fn schedule(
        &self,
        attempt: &ReconnectAttempt,
        at: DateTime<Utc>,
    ) -> Result<(), SchedulerError> {
        let name = schedule_name(
            &attempt.account_id,
            attempt.outage.as_deref(),
            attempt.attempt,
        );
        self.lock().entry(name.clone()).or_insert(PendingSchedule {
            name,
            at,
            input: attempt.clone(),
        });
        Ok(())
    }

    async fn cancel(
        &self,
        account_id: &AccountId,
        outage: Option<&str>,
        from_attempt: u32,
    ) -> Result<(), SchedulerError> {
        let mut schedules = self.lock();
        for attempt in from_attempt..=LAST_ATTEMPT {
            schedules.remove(&schedule_name(account_id, outage, attempt));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn at_expressions_have_no_zone_suffix() {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 1, 13, 0, 30)
            .single()
            .expect("date");
        assert_eq!(at_expression(at), "at(2026-03-01T13:00:30)");
    }

    #[tokio::test]
    async fn the_memory_scheduler_is_idempotent_and_hands_over_what_is_due() {
        let scheduler = MemoryScheduler::new();
        let t0 = Utc
            .with_ymd_and_hms(2026, 3, 1, 13, 0, 0)
            .single()
            .expect("date");
        let account_id = AccountId::parse("acc_1").expect("id");
        for attempt in 0..3 {
            let input = ReconnectAttempt {
                account_id: account_id.clone(),
                outage: Some("0a1b2c3d4e5f".into()),
                attempt,
            };
            scheduler
                .schedule(&input, t0 + chrono::Duration::hours(attempt as i64))
                .await
                .expect("scheduled");
            scheduler
                .schedule(&input, t0 + chrono::Duration::hours(9))
                .await
                .expect("again: no change");
        }
        assert_eq!(scheduler.pending().len(), 3);
        let limit = t0 + chrono::Duration::minutes(90);
        let due: Vec<u32> = std::iter::from_fn(|| scheduler.take_next_due(limit))
            .map(|s| s.input.attempt)
            .collect();
        assert_eq!(due, vec![0, 1]);
        scheduler
            .cancel(&account_id, Some("ffffffffffff"), 2)
            .await
            .expect("another outage's: nothing");
        assert_eq!(scheduler.pending().len(), 1);
        scheduler
            .cancel(&account_id, Some("0a1b2c3d4e5f"), 2)
            .await
            .expect("cancelled");
        assert!(scheduler.pending().is_empty());
    }
}
