//! The team's backend catching up on events (`GET /service/events`): the events of the last
//! 30 days in the order they were published, page by page, from the last one it handled.
//!
//! The cursor is an event id, and stands for the id's first position in the feed: a consumer
//! never skips what lies between an id's first and a later, repeated publication. Repeats
//! are left out where the first is still answered, so that every page goes forward from its
//! cursor (a page ending on a repeat would send the consumer back to the first position, and
//! round again for ever).

use super::FlowError;
use crate::domain::AccountId;
use crate::domain::events::{EventId, LifecycleEvent};
use crate::domain::feed::{DEFAULT_FEED_PAGE, FeedBounds, FeedEntry, FeedScope, MAX_FEED_PAGE};
use crate::ports::{Clock, EventFeed};
use serde::Serialize;

/// Entries one read of the feed takes: many, so that repeats left out seldom call for
/// another read.
const READ: usize = MAX_FEED_PAGE;

/// Reads one request makes at most, so that it answers in bounded time: a run of repeats
/// longer than this (thousands in a row) gives a page with fewer events than asked.
const MAX_READS: usize = 4;

/// First positions asked in one go (DynamoDB's BatchGetItem takes 100 keys).
const LOOKUP: usize = 100;

/// What `GET /service/events` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// The last event the consumer handled (`None`: from the oldest the feed answers).
    pub after: Option<EventId>,
    pub scope: FeedScope,
    pub limit: usize,
}

impl FeedQuery {
    /// The query from the route's parameters (`after`, `account_id`, `limit`).
    pub fn parse(
        after: Option<&str>,
        account_id: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, FlowError> {
        let limit = match limit {
            None => DEFAULT_FEED_PAGE,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_FEED_PAGE).contains(n))
                .ok_or_else(|| {
                    FlowError::InvalidRequest(format!(
                        "limit is a number from 1 to {MAX_FEED_PAGE}"
                    ))
                })?,
        };
        let after = after
            .map(|text| {
                EventId::parse(text.trim())
                    .map_err(|e| FlowError::InvalidRequest(format!("after: {e}")))
            })
            .transpose()?;
        let scope = match account_id {
            None => FeedScope::All,
            Some(text) => FeedScope::Account(
                AccountId::parse(text)
                    .map_err(|e| FlowError::InvalidRequest(format!("account_id: {e}")))?,
            ),
        };
        Ok(Self {
            after,
            scope,
            limit,
        })
    }
}

/// One page of the feed, as the route answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedPage {
    /// Each event as it was published.
    pub events: Vec<LifecycleEvent>,
    /// What to pass as `after` next time: the last event's id; the `after` given when the
    /// page is empty; `null` when neither is.
    pub next: Option<EventId>,
    /// The page is full: more may follow at once.
    pub more: bool,
}

/// The page `query` asks for, as the feed stands at the clock's now.
pub async fn page(
    feed: &dyn EventFeed,
    clock: &dyn Clock,
    query: &FeedQuery,
) -> Result<FeedPage, FlowError> {
    let now = clock.now();
    let after = match &query.after {
        None => None,
        Some(id) => Some(
            feed.position_of(id)
                .await?
                .filter(|position| position.retained_at(now))
                .ok_or_else(|| FlowError::UnknownEvent(format!("no event {id} in the feed")))?,
        ),
    };
    let mut bounds = FeedBounds::new(after.as_ref(), now);
    let mut events: Vec<LifecycleEvent> = Vec::new();
    for _ in 0..MAX_READS {
        if bounds.is_empty() || events.len() == query.limit {
            break;
        }
        let read = feed.page(&query.scope, &bounds, READ).await?;
        let Some(last) = read.last() else {
            break;
        };
        bounds = bounds.after(&last.position);
        let exhausted = read.len() < READ;
        for chunk in read.chunks(LOOKUP) {
            let firsts = feed
                .first_positions(&chunk.iter().map(|e| e.event.id.clone()).collect::<Vec<_>>())
                .await?;
            for FeedEntry { position, event } in chunk {
                // A repeat whose first is still answered: the consumer has it, or gets it
                // by going on from where it is.
                let repeat = firsts
                    .get(&event.id)
                    .is_some_and(|first| first != position && first.retained_at(now));
                if !repeat {
                    events.push(event.clone());
                }
                if events.len() == query.limit {
                    break;
                }
            }
            if events.len() == query.limit {
                break;
            }
        }
        if exhausted {
            break;
        }
    }
    let more = events.len() == query.limit;
    let next = events
        .last()
        .map(|event| event.id.clone())
        .or_else(|| query.after.clone());
    Ok(FeedPage { events, next, more })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::clock::ManualClock;
    use crate::adapters::memory::{MemoryEvents, MemoryFeed};
    use crate::domain::events::{EventData, EventType};
    use crate::domain::feed::{FEED_RETENTION, FEED_SETTLE, FeedPosition};
    use crate::domain::{AccountStatus, Provider, UserId};
    use crate::flows::fanout::FanOut;
    use crate::ports::EventPublisher;
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use std::sync::Arc;

    struct Feed {
        feed: Arc<MemoryFeed>,
        clock: Arc<ManualClock>,
        publisher: FanOut,
    }

    impl Feed {
        fn new() -> Self {
            let start = Utc
                .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date");
            let feed = Arc::new(MemoryFeed::new());
            let clock = Arc::new(ManualClock::at(start));
            let publisher = FanOut::new(feed.clone(), Arc::new(MemoryEvents::new()), clock.clone());
            Self {
                feed,
                clock,
                publisher,
            }
        }

        /// An event of `account` recorded and published now; then the clock moves a second.
        async fn publish(&self, account: &str) -> LifecycleEvent {
            let event = event(account, self.clock.now());
            self.again(&event).await;
            event
        }

        async fn again(&self, event: &LifecycleEvent) {
            self.publisher
                .publish(std::slice::from_ref(event))
                .await
                .expect("published");
            self.clock.advance(Duration::seconds(1));
        }

        async fn read(
            &self,
            after: Option<&LifecycleEvent>,
            account: Option<&str>,
            limit: usize,
        ) -> FeedPage {
            self.ask(after.map(|e| e.id.as_str()), account, limit)
                .await
                .expect("a page")
        }

        async fn ask(
            &self,
            after: Option<&str>,
            account: Option<&str>,
            limit: usize,
        ) -> Result<FeedPage, FlowError> {
            let query = FeedQuery::parse(after, account, Some(&limit.to_string()))?;
            page(self.feed.as_ref(), self.clock.as_ref(), &query).await
        }

        fn settle(&self) {
            self.clock.advance(FEED_SETTLE);
        }
    }

    fn event(account: &str, at: DateTime<Utc>) -> LifecycleEvent {
        LifecycleEvent {
            id: EventId::new(at).expect("an id"),
            kind: EventType::StatusChanged,
            timestamp: at,
            data: EventData {
                user_id: UserId::parse("u1").expect("user"),
                account_id: AccountId::parse(account).expect("account"),
                provider: Provider::Linkedin,
                status: AccountStatus::Credentials,
                previous_status: Some(AccountStatus::Ok),
                outage: None,
                sequence: 1,
                how: None,
                action: None,
                by: None,
            },
        }
    }

    fn ids(page: &FeedPage) -> Vec<EventId> {
        page.events.iter().map(|e| e.id.clone()).collect()
    }

    #[tokio::test]
    async fn given_events_published_when_read_then_they_come_in_order_page_by_page_once_settled() {
        let feed = Feed::new();
        let mut published = Vec::new();
        for account in ["a1", "a2", "a1", "a3", "a2"] {
            published.push(feed.publish(account).await.id);
        }
        let unsettled = feed.read(None, None, 100).await;
        assert!(
            unsettled.events.is_empty(),
            "the newest 30 seconds are held back"
        );
        feed.settle();
        let mut seen = Vec::new();
        let mut after: Option<LifecycleEvent> = None;
        let mut fulls = Vec::new();
        loop {
            let page = feed.read(after.as_ref(), None, 2).await;
            fulls.push(page.more);
            seen.extend(ids(&page));
            match page.events.last() {
                Some(last) => after = Some(last.clone()),
                None => {
                    assert_eq!(
                        page.next,
                        after.map(|e| e.id),
                        "an empty page names its after"
                    );
                    break;
                }
            }
        }
        assert_eq!(seen, published);
        assert_eq!(fulls, vec![true, true, false, false]);
        let of_a1 = feed.read(None, Some("a1"), 100).await;
        assert_eq!(
            ids(&of_a1),
            vec![published[0].clone(), published[2].clone()]
        );
        let empty = Feed::new().read(None, None, 100).await;
        assert_eq!(
            (empty.events.len(), empty.next, empty.more),
            (0, None, false)
        );
    }

    #[tokio::test]
    async fn given_a_write_that_lands_late_when_a_reader_read_meanwhile_then_it_still_gets_it_in_order()
     {
        let feed = Feed::new();
        let start = feed.clock.now();
        // A writer takes its position now, but its write lands only after another's.
        let late = event("a1", start);
        let late_entry = FeedEntry {
            position: FeedPosition::new(start, &late.id),
            event: late.clone(),
        };
        feed.clock.advance(Duration::seconds(5));
        let on_time = feed.publish("a2").await;
        let early_read = feed.read(None, None, 100).await;
        assert!(
            early_read.events.is_empty(),
            "nothing younger than 30 seconds: the late write could still land behind it"
        );
        feed.feed.append(&[late_entry]).await.expect("written");
        feed.settle();
        let page = feed.read(None, None, 100).await;
        assert_eq!(ids(&page), vec![late.id, on_time.id]);
    }

    #[tokio::test]
    async fn given_an_event_published_twice_when_read_after_it_then_nothing_between_is_skipped_and_the_repeat_is_left_out()
     {
        let feed = Feed::new();
        let repeated = feed.publish("a1").await;
        let between = feed.publish("a2").await;
        feed.clock.advance(Duration::minutes(5));
        feed.again(&repeated).await;
        let after = feed.publish("a3").await;
        feed.settle();
        assert_eq!(feed.feed.entries().len(), 4, "the repeat is in the feed");
        let page = feed.read(Some(&repeated), None, 100).await;
        assert_eq!(ids(&page), vec![between.id.clone(), after.id.clone()]);
        // A page that would end on the repeat goes on past it: a cursor always moves on.
        let one = feed.read(Some(&between), None, 1).await;
        assert_eq!(ids(&one), vec![after.id.clone()]);
        let from_start = feed.read(None, None, 100).await;
        assert_eq!(ids(&from_start), vec![repeated.id, between.id, after.id]);
    }

    #[tokio::test]
    async fn given_events_older_than_30_days_then_they_are_not_answered_and_their_id_is_unknown() {
        let feed = Feed::new();
        let old = feed.publish("a1").await;
        feed.clock.advance(FEED_RETENTION - Duration::seconds(1));
        let recent = feed.publish("a1").await;
        feed.settle();
        let page = feed.read(None, None, 100).await;
        assert_eq!(ids(&page), vec![recent.id]);
        assert!(matches!(
            feed.ask(Some(old.id.as_str()), None, 100).await,
            Err(FlowError::UnknownEvent(_))
        ));
    }

    #[tokio::test]
    async fn a_cursor_never_published_is_unknown_and_a_bad_query_is_refused() {
        let feed = Feed::new();
        let never = EventId::new(feed.clock.now()).expect("an id");
        assert!(matches!(
            feed.ask(Some(never.as_str()), None, 10).await,
            Err(FlowError::UnknownEvent(_))
        ));
        for (after, account, limit) in [
            (Some("evt_1"), None, None),
            (None, Some(""), None),
            (None, None, Some("0")),
            (None, None, Some("501")),
            (None, None, Some("ten")),
        ] {
            assert!(
                matches!(
                    FeedQuery::parse(after, account, limit),
                    Err(FlowError::InvalidRequest(_))
                ),
                "{after:?} {account:?} {limit:?}"
            );
        }
        assert_eq!(
            FeedQuery::parse(None, None, None).map(|q| q.limit).ok(),
            Some(DEFAULT_FEED_PAGE)
        );
        assert_eq!(
            FeedQuery::parse(None, Some("acc_1"), Some("500")).ok(),
            Some(FeedQuery {
                after: None,
                scope: FeedScope::Account(AccountId::parse("acc_1").expect("id")),
                limit: MAX_FEED_PAGE
            })
        );
    }
}
