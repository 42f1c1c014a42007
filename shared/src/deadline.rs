//! The time the current invocation has left. Lambda stops a function at its timeout without a
//! word, so every outside call asks here first: a call that cannot finish in time is not
//! started, and the caller answers "retry later" instead of being killed half-way.
//!
//! The deadline is task-local: `runtime` sets it from the Lambda context for the duration of
//! one invocation. Outside an invocation (tests, the local stack) there is none and nothing
//! is limited.

use std::future::Future;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Kept back from the deadline for what follows the last outside call: writing the answer,
/// releasing a claim, flushing logs.
pub const RESERVE: Duration = Duration::from_millis(1500);

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `work` with `deadline` as the current invocation's deadline.
pub async fn within<F: Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(deadline, work).await
}

/// The Instant matching a wall-clock deadline (as the Lambda context gives it).
pub fn instant_of(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}

/// Time left for outside calls (the deadline less [`RESERVE`]); `None` without a deadline.
pub fn remaining() -> Option<Duration> {
    DEADLINE
        .try_with(|deadline| deadline.saturating_duration_since(Instant::now()))
        .ok()
        .map(|left| left.saturating_sub(RESERVE))
}

/// Whether a step needing `needed` can still be started.
pub fn allows(needed: Duration) -> bool {
    remaining().is_none_or(|left| left >= needed)
}

/// `wanted`, cut to the time left: the timeout to give one outside call.
pub fn cap(wanted: Duration) -> Duration {
    remaining().map_or(wanted, |left| wanted.min(left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outside_an_invocation_nothing_is_limited() {
        assert_eq!(remaining(), None);
        assert!(allows(Duration::from_secs(3600)));
        assert_eq!(cap(Duration::from_secs(9)), Duration::from_secs(9));
    }

    #[tokio::test]
    async fn inside_an_invocation_the_reserve_is_kept_back() {
        let deadline = Instant::now() + Duration::from_secs(10);
        within(deadline, async {
            let left = remaining().expect("a deadline");
            assert!(left <= Duration::from_millis(8500), "{left:?}");
            assert!(left > Duration::from_millis(8000), "{left:?}");
            assert!(allows(Duration::from_secs(8)));
            assert!(!allows(Duration::from_secs(9)));
            assert!(cap(Duration::from_secs(25)) <= Duration::from_millis(8500));
            assert_eq!(cap(Duration::from_secs(1)), Duration::from_secs(1));
        })
        .await;
    }

    #[tokio::test]
    async fn a_spent_invocation_allows_nothing() {
        within(Instant::now() + Duration::from_millis(1200), async {
            assert_eq!(remaining(), Some(Duration::ZERO));
            assert!(!allows(Duration::from_millis(1)));
        })
        .await;
    }
}
