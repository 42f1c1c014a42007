//! The event feed: every lifecycle event of the last 30 days in the order it was published,
//! so that a consumer that was away catches up by asking (`GET /service/events`) rather than
//! by being called.
//!
//! An entry's place is its [`FeedPosition`]: the time its publication was written, then its
//! id. A publication repeated (the sweeper publishing what a writer that stopped had written
//! already) adds a second entry of the same id further on; the id's first position is kept
//! beside it, and a reader's cursor (an event id) stands for that first position.

use super::AccountId;
use super::events::{EventId, LifecycleEvent};
use chrono::{DateTime, Duration, Utc};

/// How long the feed answers an event for.
pub const FEED_RETENTION: Duration = Duration::days(30);

/// How far behind the present readers are held. A writer takes its position from the clock
/// before its write lands; an entry whose write lands late must not land behind a cursor a
/// reader already passed, or that reader never sees it. Three times the SDK's whole-call
/// timeout (10 s, `config::aws_sdk_config`): a feed write lands well within it or not at all.
pub const FEED_SETTLE: Duration = Duration::seconds(30);

/// Entries a page holds unless the reader asks for fewer.
pub const DEFAULT_FEED_PAGE: usize = 100;

/// Entries a page holds at most.
pub const MAX_FEED_PAGE: usize = 500;

/// A character above every one a position holds after its time: `<key>~` sorts after `<key>`
/// and after everything that starts with it, and before every greater key of the same length.
const PAST: char = '~';

/// Where an entry stands in the feed: the epoch milliseconds its publication was written at
/// (13 digits), `#`, the event's id. Positions sort as text in the order entries were written
/// (to the millisecond, then by id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPosition(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a feed position (13 digits, #, an event id)")]
pub struct FeedPositionError;

impl FeedPosition {
    /// The position of `id` published at `at`.
    pub fn new(at: DateTime<Utc>, id: &EventId) -> Self {
        Self(format!("{}#{id}", time_key(at)))
    }

    pub fn parse(text: &str) -> Result<Self, FeedPositionError> {
        let (millis, id) = text.split_once('#').ok_or(FeedPositionError)?;
        let valid = millis.len() == 13
            && millis.bytes().all(|b| b.is_ascii_digit())
            && EventId::parse(id).is_ok();
        valid
            .then(|| Self(text.to_owned()))
            .ok_or(FeedPositionError)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// When the entry was written.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0.get(..13)?.parse().ok()?)
    }

    /// The event the entry is.
    pub fn event_id(&self) -> Option<EventId> {
        EventId::parse(self.0.get(14..)?).ok()
    }

    /// Whether the feed still answers the entry at `now` (it is not older than the retention;
    /// the table deletes expired items late, so their age is what counts).
    pub fn retained_at(&self, now: DateTime<Utc>) -> bool {
        self.at().is_some_and(|at| at >= now - FEED_RETENTION)
    }

    /// When the entry may go (the table's TTL): once the feed no longer answers it.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        Some(self.at()? + FEED_RETENTION)
    }
}

impl std::fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 13-digit millisecond key every position written at `at` starts with.
fn time_key(at: DateTime<Utc>) -> String {
    format!("{:013}", at.timestamp_millis().clamp(0, 9_999_999_999_999))
}

/// One event in the feed, at the position it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub position: FeedPosition,
    pub event: LifecycleEvent,
}

/// Which entries a reader follows: every event, or one account's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeedScope {
    All,
    Account(AccountId),
}

/// The positions a read may answer, both bounds included (text order, as the table sorts
/// them): after the reader's cursor and no older than [`FEED_RETENTION`], and no newer than
/// [`FEED_SETTLE`] before now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedBounds {
    pub lower: String,
    pub upper: String,
}

impl FeedBounds {
    /// What a reader whose cursor is at `after` (`None`: from the oldest entry kept) may read
    /// at `now`.
    pub fn new(after: Option<&FeedPosition>, now: DateTime<Utc>) -> Self {
        let oldest = format!("{}#", time_key(now - FEED_RETENTION));
        let lower = match after {
            Some(after) => oldest.max(format!("{after}{PAST}")),
            None => oldest,
        };
        Self {
            lower,
            upper: format!("{}#{PAST}", time_key(now - FEED_SETTLE)),
        }
    }

    /// The same bounds, from just after `position` (a read that goes on where the last
    /// stopped).
    pub fn after(&self, position: &FeedPosition) -> Self {
        Self {
            lower: self.lower.clone().max(format!("{position}{PAST}")),
            upper: self.upper.clone(),
        }
    }

    /// Nothing can be read: the cursor is newer than what has settled.
    pub fn is_empty(&self) -> bool {
        self.lower > self.upper
    }

    pub fn contains(&self, position: &FeedPosition) -> bool {
        (self.lower.as_str()..=self.upper.as_str()).contains(&position.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(millis).expect("a time")
    }

    fn id(millis: i64) -> EventId {
        EventId::new(at(millis)).expect("an id")
    }

    #[test]
    fn a_position_reads_back_and_sorts_by_time_then_id() {
        let event = id(1_000);
        let position = FeedPosition::new(at(2_000), &event);
        assert_eq!(FeedPosition::parse(position.as_str()), Ok(position.clone()));
        assert_eq!(position.at(), Some(at(2_000)));
        assert_eq!(position.event_id(), Some(event.clone()));
        assert_eq!(position.expires_at(), Some(at(2_000) + FEED_RETENTION));
        assert!(position < FeedPosition::new(at(2_001), &id(0)));
        for bad in [
            "",
            "2000#evt_1",
            "000000000200#x",
            &format!("0000000002000{event}"),
        ] {
            assert_eq!(FeedPosition::parse(bad), Err(FeedPositionError), "{bad}");
        }
    }

    #[test]
    fn the_bounds_leave_out_the_cursor_the_unsettled_and_the_expired() {
        let now = at(40 * 86_400_000);
        let cursor = FeedPosition::new(now - Duration::minutes(5), &id(0));
        let bounds = FeedBounds::new(Some(&cursor), now);
        let same_time_later_id = FeedPosition::new(now - Duration::minutes(5), &id(1));
        assert!(!bounds.contains(&cursor));
        assert!(bounds.contains(&same_time_later_id));
        assert!(bounds.contains(&FeedPosition::new(now - FEED_SETTLE, &id(5))));
        assert!(!bounds.contains(&FeedPosition::new(
            now - FEED_SETTLE + Duration::milliseconds(1),
            &id(5)
        )));
        let from_start = FeedBounds::new(None, now);
        assert!(from_start.contains(&FeedPosition::new(now - FEED_RETENTION, &id(0))));
        assert!(!from_start.contains(&FeedPosition::new(
            now - FEED_RETENTION - Duration::milliseconds(1),
            &id(0)
        )));
        let ahead = FeedPosition::new(now - Duration::seconds(1), &id(0));
        assert!(FeedBounds::new(Some(&ahead), now).is_empty());
        assert!(!bounds.is_empty());
        assert!(
            !bounds
                .after(&same_time_later_id)
                .contains(&same_time_later_id)
        );
    }
}
