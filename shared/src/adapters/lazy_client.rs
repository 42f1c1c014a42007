//! An AWS SDK client built on its first use. A function builds every client it may need at
//! cold start, but some serve only rare paths (SES for the one email of an outage, Scheduler
//! for a cookie reconnect, Cognito for an owner with no recorded email): building those on
//! first use keeps their set-up out of every cold start (BENCHMARKS.md). The configuration
//! they come from is still read and checked at cold start.

use std::sync::OnceLock;

type Build<C> = Box<dyn Fn() -> C + Send + Sync>;

pub struct LazyClient<C> {
    client: OnceLock<C>,
    build: Build<C>,
}

impl<C> LazyClient<C> {
    /// A client built by `build` the first time [`Self::get`] is called.
    pub fn deferred(build: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Self {
            client: OnceLock::new(),
            build: Box::new(build),
        }
    }

    /// The client, built now if this is its first use. Building an SDK client is
    /// synchronous and makes no call, so a racing first use only waits for that.
    pub fn get(&self) -> &C {
        self.client.get_or_init(&self.build)
    }

    /// Whether the client was built (for tests of what a cold start sets up).
    pub fn is_built(&self) -> bool {
        self.client.get().is_some()
    }
}

impl<C: Clone + Send + Sync + 'static> LazyClient<C> {
    /// A client built already (SDK clients are cheap handles to shared state).
    pub fn ready(client: C) -> Self {
        let built = client.clone();
        Self {
            client: OnceLock::from(client),
            build: Box::new(move || built.clone()),
        }
    }
}

impl<C: Clone + Send + Sync + 'static> From<C> for LazyClient<C> {
    fn from(client: C) -> Self {
        Self::ready(client)
    }
}

impl<C> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient")
            .field("built", &self.is_built())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_deferred_client_is_built_once_on_first_use() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = builds.clone();
        let lazy = LazyClient::deferred(move || counter.fetch_add(1, Ordering::SeqCst) + 100);
        assert!(!lazy.is_built());
        assert_eq!(builds.load(Ordering::SeqCst), 0);
        assert_eq!(*lazy.get(), 100);
        assert_eq!(*lazy.get(), 100);
        assert!(lazy.is_built());
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_ready_client_is_the_one_given() {
        let lazy: LazyClient<String> = "client".to_owned().into();
        assert!(lazy.is_built());
        assert_eq!(lazy.get(), "client");
        assert_eq!(format!("{lazy:?}"), "LazyClient { built: true }");
    }
}
