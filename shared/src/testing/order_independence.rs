//! Correct in any order: every sequence of up to four outside events (webhook deliveries of
//! CREDENTIALS, RECONNECTED and CONNECTING, repeated or not; a notify replay; a reconnect
//! attempt firing), for a plain account and for one the extension reconnects, against each
//! story of Unipile's truth. After each, once the sweeper and the schedules have run their
//! course:
//!
//! - the stored status is Unipile's final one;
//! - at most one email per outage (and exactly one when the account ends needing its user);
//! - no follow-up is left, and no schedule of an outage that ended.
//!
//! Unipile delivers the change that led to its final status at least once (it retries until
//! it gets a 200): when a sequence lacks that delivery, it comes last.

use super::test_world::TestWorld;
use crate::adapters::memory::CookieOutcome;
use crate::domain::reconnect::ReconnectAttempt;
use crate::domain::transitions::{TransitionPolicy, plan};
use crate::domain::{AccountId, AccountStatus as S, CLAIM_LEASE, Provider};
use crate::ports::{UnipileError, UnipileErrorType};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Deliver(S),
    /// Unipile's notify_url call, replayed or late (it reads Unipile's truth).
    Notify,
    /// The next reconnect schedule fires; with none, a leftover of an unrelated outage does.
    Fire,
}

/// Unipile's truth through a story: `before` until the event at index `switch_at`, then `after`.
#[derive(Debug, Clone)]
struct Truth {
    before: S,
    after: S,
    switch_at: usize,
}

impl Truth {
    fn fixed(status: S) -> Self {
        Self {
            before: status.clone(),
            after: status,
            switch_at: 0,
        }
    }

    fn at(&self, index: usize) -> &S {
        if index >= self.switch_at {
            &self.after
        } else {
            &self.before
        }
    }
}

fn events() -> Vec<Event> {
    vec![
        Event::Deliver(S::Credentials),
        Event::Deliver(S::Reconnected),
        Event::Deliver(S::Connecting),
        Event::Notify,
        Event::Fire,
    ]
}

/// Every sequence of length 1 to `max` over `alphabet`, repetitions (duplicates) included.
fn sequences(alphabet: &[Event], max: usize) -> Vec<Vec<Event>> {
    let mut all = Vec::new();
    let mut current: Vec<Vec<Event>> = vec![Vec::new()];
    for _ in 0..max {
        let next: Vec<Vec<Event>> = current
            .iter()
            .flat_map(|prefix| {
                alphabet.iter().map(move |event| {
                    let mut longer = prefix.clone();
                    longer.push(event.clone());
                    longer
                })
            })
            .collect();
        all.extend(next.iter().cloned());
        current = next;
    }
    all
}

fn provider_errors() -> Vec<CookieOutcome> {
    (0..10)
        .map(|_| {
            CookieOutcome::Fail(UnipileError::Api {
                status: 500,
                error_type: UnipileErrorType::from("errors/provider_error"),
                title: "provider error".into(),
                detail: None,
            })
        })
        .collect()
}

async fn run(cookie: bool, truth: &Truth, sequence: &[Event]) -> Result<(), String> {
    let t = TestWorld::new();
    let id = if cookie {
        // The cookie never mends it: Unipile's truth stays the story's.
        t.world.unipile.script_cookie_outcomes(provider_errors());
        t.given_a_cookie_account("acc_1").await
    } else {
        t.given_an_account("acc_1", Provider::Whatsapp).await
    };
    let final_truth = truth.at(usize::MAX).clone();
    let policy = TransitionPolicy::default();
    let stored_as = |status: &S| plan(status, &policy).stored;
    let mut sequence = sequence.to_vec();
    // The delivery of the change that led to Unipile's final status, at or after it.
    let delivered = sequence.iter().enumerate().any(|(index, event)| {
        index >= truth.switch_at
            && matches!(event, Event::Deliver(s) if stored_as(s) == stored_as(&final_truth))
    });
    let changed = final_truth != S::Ok || truth.before != S::Ok;
    if changed && !delivered {
        sequence.push(Event::Deliver(final_truth.clone()));
    }
    // The last event at least happens after the story's change.
    let truth = Truth {
        switch_at: truth.switch_at.min(sequence.len() - 1),
        ..truth.clone()
    };
    for (index, event) in sequence.iter().enumerate() {
        t.unipile_says(&id, truth.at(index).clone());
        match event {
            // A non-200 answer: Unipile delivers it again later, which the final delivery
            // stands for.
            Event::Deliver(status) => {
                let _ = t.deliver(&id, status.clone()).await;
            }
            Event::Notify => {
                t.notify(&id, "RECONNECTED")
                    .await
                    .map_err(|e| format!("notify: {e}"))?;
            }
            Event::Fire => {
                if t.fire_next_schedule().await.is_none() {
                    let stray = ReconnectAttempt {
                        account_id: id.clone(),
                        outage: Some("000000000000".into()),
                        attempt: 0,
                    };
                    t.run_attempt(&stray).await;
                }
            }
        }
    }
    quiesce(&t, &id).await;
    check(&t, &id, &final_truth, &truth).await
}

/// The sweeper's runs and the schedules, until nothing is left to do.
async fn quiesce(t: &TestWorld, id: &AccountId) {
    for _ in 0..16 {
        t.sweep_after(CLAIM_LEASE).await;
        while t.fire_next_schedule().await.is_some() {}
        let account = t.account(id).await;
        let live = account.pending.is_some_and(|p| !p.is_abandoned());
        if !live && t.world.scheduler.pending().is_empty() {
            return;
        }
    }
}

async fn check(
    t: &TestWorld,
    id: &AccountId,
    final_truth: &S,
    truth: &Truth,
) -> Result<(), String> {
    let account = t.account(id).await;
    let expected = plan(final_truth, &TransitionPolicy::default()).stored;
    if account.status != expected {
        return Err(format!(
            "stored {} but Unipile says {expected}",
            account.status
        ));
    }
    let emails = t.emails();
    // One outage at most in these stories: the truth changes once, to OK.
    if emails > 1 {
        return Err(format!("{emails} emails for one outage"));
    }
    let needs_user = *final_truth == S::Credentials;
    if needs_user && emails != 1 {
        return Err("the account needs its user, who was never told".into());
    }
    if truth.before != S::Credentials && !needs_user && emails != 0 {
        return Err("an email for an account that never needed its user".into());
    }
    if account.pending.is_some() {
        return Err(format!("a follow-up is left: {:?}", account.pending));
    }
    let open = account.outage_id();
    for schedule in t.world.scheduler.pending() {
        if schedule.input.outage.as_deref() != open || open.is_none() {
            return Err(format!(
                "schedule {} left for an outage that ended",
                schedule.name
            ));
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_order_of_up_to_four_events_converges_to_unipiles_status_with_one_email_per_outage() {
    let started = std::time::Instant::now();
    let stories = [
        Truth::fixed(S::Credentials),
        Truth::fixed(S::Ok),
        Truth::fixed(S::Connecting),
        // The user reconnects after the first, or the second, event.
        Truth {
            before: S::Credentials,
            after: S::Ok,
            switch_at: 1,
        },
        Truth {
            before: S::Credentials,
            after: S::Ok,
            switch_at: 2,
        },
    ];
    let sequences = sequences(&events(), 4);
    let mut ran = 0;
    let mut failures = Vec::new();
    for cookie in [false, true] {
        for truth in &stories {
            for sequence in &sequences {
                ran += 1;
                if let Err(problem) = run(cookie, truth, sequence).await {
                    failures.push(format!(
                        "cookie account: {cookie}, Unipile {truth:?}, events {sequence:?}: {problem}"
                    ));
                }
            }
        }
    }
    println!(
        "order independence: {ran} sequences ran in {:?}",
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} sequences went wrong, the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
