//! The follow-up sweeper (`follow-up-sweeper`, every 5 minutes): finishes every recorded
//! follow-up whose claim lease or back-off is over, so that no recorded work waits for a
//! later delivery. Each is resumed the way the webhook would resume it (claim, confirm with
//! Unipile, do, clear); after [`MAX_FOLLOW_UP_ATTEMPTS`] claims it is abandoned with an alarm
//! metric (`FollowUpAbandoned`).
//!
//! [`MAX_FOLLOW_UP_ATTEMPTS`]: crate::domain::MAX_FOLLOW_UP_ATTEMPTS

use super::FlowError;
use super::follow_ups::{FollowUpPorts, FollowUpSettings};
use super::settle::{Resumed, resume};
use std::time::Duration;

/// Follow-ups taken per run: each may take a Unipile read, an email and a few writes, and
/// whatever is left is found by the next run.
pub const SWEEP_BATCH: usize = 100;

/// A follow-up is only started with this much of the invocation left (Unipile's read with its
/// retries, the directory, SES), so none is cut off half-way.
const TIME_PER_FOLLOW_UP: Duration = Duration::from_secs(15);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Follow-ups found due.
    pub due: usize,
    pub finished: usize,
    /// Failed again: due again after a back-off.
    pub failed: usize,
    pub abandoned: usize,
    /// Taken by someone else meanwhile, or gone.
    pub skipped: usize,
    /// Left for the next run (out of time).
    pub left: usize,
}

pub async fn sweep(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
) -> Result<SweepReport, FlowError> {
    let now = ports.clock.now();
    let due = ports.store.due_follow_ups(now, SWEEP_BATCH).await?;
    let mut report = SweepReport {
        due: due.len(),
        ..SweepReport::default()
    };
    for (done, id) in due.iter().enumerate() {
        if !crate::deadline::allows(TIME_PER_FOLLOW_UP) {
            report.left = due.len() - done;
            break;
        }
        let Some(account) = ports.store.get_account(id).await? else {
            report.skipped += 1;
            continue;
        };
        match resume(ports, settings, &account).await {
            Ok(Resumed::Done) => report.finished += 1,
            Ok(Resumed::Abandoned) => report.abandoned += 1,
            Ok(Resumed::Held | Resumed::NothingDue) => report.skipped += 1,
            // One account's failure does not stop the others; it is due again later.
            Err(error) => {
                tracing::warn!(account_id = %id, %error, "swept follow-up failed");
                report.failed += 1;
            }
        }
    }
    if report.due > 0 {
        tracing::info!(
            due = report.due,
            finished = report.finished,
            failed = report.failed,
            abandoned = report.abandoned,
            skipped = report.skipped,
            left = report.left,
            "follow-ups swept"
        );
    }
    Ok(report)
}
