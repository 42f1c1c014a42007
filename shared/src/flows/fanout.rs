//! Publication as every function does it: each event is written to the event feed first,
//! then put on the bus. Written at publication rather than with the fact, so the feed holds
//! what was published, in the order it was, and a write that records a fact stays one item.
//!
//! Feed first: a publication the feed refused is not put on the bus, and the whole
//! publication is an error, so the facts stay in their outbox and are published again (the
//! feed never lacks what the bus carried). A bus failure after the feed took them leaves a
//! repeat in the feed when they are published again; consumers drop repeated ids.

use crate::domain::events::LifecycleEvent;
use crate::domain::feed::{FeedEntry, FeedPosition};
use crate::ports::{Clock, EventFeed, EventPublisher, PublishError};
use async_trait::async_trait;
use chrono::Duration;
use std::sync::Arc;

/// An [`EventPublisher`] that writes to the feed, then publishes to `bus`.
pub struct FanOut {
    feed: Arc<dyn EventFeed>,
    bus: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl FanOut {
    pub fn new(
        feed: Arc<dyn EventFeed>,
        bus: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { feed, bus, clock }
    }
}

/// The feed's entries for `events` published now: the position is taken from the clock just
/// before the write. Each event takes the millisecond after the one before it, so that the
/// feed keeps their order (two facts recorded in the same millisecond would otherwise sort by
/// the random part of their ids).
pub fn entries(events: &[LifecycleEvent], clock: &dyn Clock) -> Vec<FeedEntry> {
    let now = clock.now();
    events
        .iter()
        .zip(0..)
        .map(|(event, index)| FeedEntry {
            position: FeedPosition::new(now + Duration::milliseconds(index), &event.id),
            event: event.clone(),
        })
        .collect()
}

#[async_trait]
impl EventPublisher for FanOut {
    async fn publish(&self, events: &[LifecycleEvent]) -> Result<(), PublishError> {
        if events.is_empty() {
            return Ok(());
        }
        self.feed
            .append(&entries(events, self.clock.as_ref()))
            .await
            .map_err(|e| PublishError::Unavailable(format!("the event feed: {e}")))?;
        self.bus.publish(events).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::clock::ManualClock;
    use crate::adapters::memory::{MemoryEvents, MemoryFeed};
    use crate::domain::events::{EventData, EventId, EventType};
    use crate::domain::{AccountId, AccountStatus, Provider, UserId};
    use chrono::{DateTime, TimeZone, Utc};

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("date")
    }

    fn event(at: DateTime<Utc>, sequence: u64) -> LifecycleEvent {
        LifecycleEvent {
            id: EventId::new(at).expect("an id"),
            kind: EventType::StatusChanged,
            timestamp: at,
            data: EventData {
                user_id: UserId::parse("u1").expect("user"),
                account_id: AccountId::parse("acc_1").expect("account"),
                provider: Provider::Linkedin,
                status: AccountStatus::Credentials,
                previous_status: Some(AccountStatus::Ok),
                outage: None,
                sequence,
                how: None,
                action: None,
                by: None,
            },
        }
    }

    struct Publication {
        publisher: FanOut,
        feed: Arc<MemoryFeed>,
        bus: Arc<MemoryEvents>,
        clock: Arc<ManualClock>,
    }

    fn fan_out(now: DateTime<Utc>) -> Publication {
        let (feed, bus) = (Arc::new(MemoryFeed::new()), Arc::new(MemoryEvents::new()));
        let clock = Arc::new(ManualClock::at(now));
        Publication {
            publisher: FanOut::new(feed.clone(), bus.clone(), clock.clone()),
            feed,
            bus,
            clock,
        }
    }

    #[tokio::test]
    async fn given_two_facts_of_one_millisecond_when_published_then_the_feed_keeps_their_order() {
        let now = start();
        let (first, second) = (event(now, 1), event(now, 2));
        let Publication {
            publisher,
            feed,
            bus,
            ..
        } = fan_out(now);
        publisher
            .publish(&[first.clone(), second.clone()])
            .await
            .expect("published");
        let kept: Vec<u64> = feed
            .entries()
            .iter()
            .map(|e| e.event.data.sequence)
            .collect();
        assert_eq!(kept, vec![1, 2]);
        assert_eq!(feed.entries()[0].position.at(), Some(now));
        assert_eq!(bus.published(), vec![first, second]);
    }

    #[tokio::test]
    async fn given_the_feed_down_when_publishing_then_nothing_reaches_the_bus_and_it_fails() {
        let now = start();
        let Publication {
            publisher,
            feed,
            bus,
            ..
        } = fan_out(now);
        feed.fail_next(1);
        assert!(publisher.publish(&[event(now, 1)]).await.is_err());
        assert!(bus.published().is_empty());
        assert!(feed.entries().is_empty());
    }

    #[tokio::test]
    async fn given_the_bus_down_when_publishing_again_then_the_feed_holds_a_repeat_and_the_first_position()
     {
        let now = start();
        let Publication {
            publisher,
            feed,
            bus,
            clock,
        } = fan_out(now);
        let published = event(now, 1);
        bus.fail_next(1);
        assert!(
            publisher
                .publish(std::slice::from_ref(&published))
                .await
                .is_err()
        );
        clock.advance(Duration::minutes(5));
        publisher
            .publish(std::slice::from_ref(&published))
            .await
            .expect("published");
        assert_eq!(feed.entries().len(), 2);
        assert_eq!(
            feed.position_of(&published.id).await.expect("read"),
            Some(feed.entries()[0].position.clone())
        );
        assert_eq!(bus.published(), vec![published]);
    }
}
