//! Every port in memory, wired as the functions wire the AWS ones: what the flows' and the
//! functions' tests start from (and the tests crate's in-memory harness). Above the flows and
//! the wiring it uses, so it is compiled for tests only (the `testing` feature for the other
//! crates' tests); no binary carries it.

use crate::adapters::clock::ManualClock;
use crate::adapters::memory::{
    MemoryDirectory, MemoryEvents, MemoryFeed, MemoryMailer, MemoryStore, MemoryUnipile,
};
use crate::adapters::scheduler::MemoryScheduler;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Every port in memory, with handles kept so a test can arrange and inspect them.
pub struct MemoryWorld {
    pub store: Arc<MemoryStore>,
    pub unipile: Arc<MemoryUnipile>,
    pub mailer: Arc<MemoryMailer>,
    pub directory: Arc<MemoryDirectory>,
    pub scheduler: Arc<MemoryScheduler>,
    pub clock: Arc<ManualClock>,
    /// Where the stores [`Self::deps`] hands out publish their facts (after the feed).
    pub events: Arc<MemoryEvents>,
    /// The feed every publication is written to first.
    pub feed: Arc<MemoryFeed>,
}

impl MemoryWorld {
    pub fn at(now: DateTime<Utc>) -> Self {
        let clock = Arc::new(ManualClock::at(now));
        Self {
            store: Arc::new(MemoryStore::new()),
            // Unipile's `created_at` on the same clock as everything else.
            unipile: Arc::new(MemoryUnipile::with_clock(clock.clone())),
            mailer: Arc::new(MemoryMailer::new()),
            directory: Arc::new(MemoryDirectory::new()),
            scheduler: Arc::new(MemoryScheduler::new()),
            clock,
            events: Arc::new(MemoryEvents::new()),
            feed: Arc::new(MemoryFeed::new()),
        }
    }

    /// The follow-up settings every test and the local demo use: the app at
    /// `https://app.example.com`, reconnect links to `/accounts?reconnect={account_id}`, the
    /// default transition policy, cookies stale after 24 hours.
    pub fn follow_up_settings() -> crate::flows::follow_ups::FollowUpSettings {
        crate::flows::follow_ups::FollowUpSettings {
            policy: crate::domain::transitions::TransitionPolicy::default(),
            reconnect_link: crate::domain::notification::ReconnectLink {
                app_base_url: "https://app.example.com".parse().expect("a valid URL"),
                path: "/accounts?reconnect={account_id}".into(),
            },
            stale_cookie_after: chrono::Duration::hours(24),
        }
    }

    /// What follow-ups need, over this world (its user directory included), with
    /// [`Self::follow_up_settings`].
    pub fn follow_up_deps(&self) -> crate::deps::FollowUpDeps {
        crate::deps::FollowUpDeps {
            deps: self.deps(),
            mailer: self.mailer.clone(),
            scheduler: self.scheduler.clone(),
            directory: Some(self.directory.clone()),
            settings: Self::follow_up_settings(),
        }
    }

    /// The shared ports over this world: its store publishing to [`Self::feed`], then to
    /// [`Self::events`] (the store itself, `self.store`, arranges and inspects without
    /// publishing).
    pub fn deps(&self) -> crate::deps::Deps {
        crate::deps::Deps::publishing(
            self.store.clone(),
            self.feed.clone(),
            self.events.clone(),
            self.unipile.clone(),
            self.clock.clone(),
        )
    }
}
