//! Publishing the facts the store recorded: the writer publishes its outbox right after the
//! write ([`super::publishing_store::PublishingStore`]); what a writer could not publish (the
//! bus down, the function stopped, the write's answer lost) the sweeper publishes.
//!
//! At least once, never out of order within an account: an outbox is published from its
//! first waiting fact, and a fact leaves it only once the bus took it. A repeat carries the
//! same id; consumers drop it.

use super::FlowError;
use crate::domain::events::{EventSubject, Outbox};
use crate::ports::{AccountStore, Clock, EventPublisher, OutboxKey};
use chrono::Duration;

/// How long a fact waits for its own writer before the sweeper publishes it: longer than the
/// writer takes from its write to its publication, so that the sweeper seldom repeats one.
pub const WRITER_GRACE: Duration = Duration::minutes(1);

/// Outboxes one sweep publishes at most: the sweeper's time is shared with follow-ups.
pub const SWEEP_LIMIT: usize = 100;

/// Publishes the waiting facts of the outbox at `key`, then takes them out of it. The number
/// of events published (a fact that reports no change is taken out with no event).
pub async fn relay(
    store: &dyn AccountStore,
    publisher: &dyn EventPublisher,
    key: &OutboxKey,
    subject: &EventSubject,
    outbox: &Outbox,
) -> Result<usize, FlowError> {
    if outbox.waiting.is_empty() {
        return Ok(0);
    }
    let events = outbox.events(subject);
    if !events.is_empty() {
        publisher
            .publish(&events)
            .await
            .map_err(|e| FlowError::Internal(e.to_string()))?;
    }
    for event in &events {
        tracing::info!(event_id = %event.id, event_type = event.kind.as_str(), account_id = %event.data.account_id, sequence = event.data.sequence, "event published");
    }
    if !store.clear_outbox(key, outbox).await? {
        tracing::info!(account_id = %key.account_id, "the outbox was published meanwhile by another publisher");
    }
    Ok(events.len())
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub outboxes: usize,
    pub published: usize,
    pub failed: usize,
}

/// Publishes the outboxes whose writer left facts waiting for longer than [`WRITER_GRACE`].
pub async fn sweep(
    store: &dyn AccountStore,
    publisher: &dyn EventPublisher,
    clock: &dyn Clock,
) -> Result<SweepReport, FlowError> {
    let before = clock.now() - WRITER_GRACE;
    let mut report = SweepReport::default();
    for key in store.waiting_outboxes(before, SWEEP_LIMIT).await? {
        report.outboxes += 1;
        let outcome = match store.outbox(&key).await {
            Ok(Some((subject, outbox))) => relay(store, publisher, &key, &subject, &outbox).await,
            Ok(None) => Ok(0),
            Err(error) => Err(error.into()),
        };
        match outcome {
            Ok(published) => report.published += published,
            Err(error) => {
                report.failed += 1;
                tracing::warn!(account_id = %key.account_id, %error, "waiting events not published: the next sweep tries again");
            }
        }
    }
    if report.failed > 0 {
        // Alarmed when it lasts: the team's backend has not heard of these changes yet.
        crate::metrics::value("EventsWaiting", report.failed as u64);
    }
    if report.published > 0 {
        crate::metrics::value("EventsSwept", report.published as u64);
        tracing::warn!(
            outboxes = report.outboxes,
            published = report.published,
            "events their writers left unpublished were published"
        );
    }
    Ok(report)
}
