//! The promise, one story each: every account that needs its user gets them back, exactly
//! once, whatever the order of deliveries and whichever outside call fails. Each of these
//! failed on the code before follow-ups confirmed with Unipile, were swept and were scoped to
//! an outage (see the commit that added them).

use super::test_world::TestWorld;
use crate::adapters::memory::CookieOutcome;
use crate::domain::{AccountStatus as S, CLAIM_LEASE, MAX_FOLLOW_UP_ATTEMPTS, Provider};
use crate::flows::reconnect_retry::AttemptOutcome;
use crate::flows::status_webhook::WebhookOutcome;
use crate::ports::{Clock, UnipileError, UnipileErrorType};
use chrono::Duration;

fn provider_error() -> CookieOutcome {
    CookieOutcome::Fail(UnipileError::Api {
        status: 500,
        error_type: UnipileErrorType::from("errors/provider_error"),
        title: "provider error".into(),
        detail: None,
    })
}

#[tokio::test]
async fn given_ses_down_during_credentials_and_all_five_retries_then_the_sweeper_sends_one_email() {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    t.world.mailer.fail_next(6);
    // The first delivery and Unipile's five retries: each recorded (200), none sent.
    for _ in 0..6 {
        let outcome = t.deliver(&id, S::Credentials).await.expect("answered 200");
        assert!(
            matches!(
                outcome,
                WebhookOutcome::Deferred | WebhookOutcome::Unchanged
            ),
            "{outcome:?}"
        );
    }
    assert_eq!(t.emails(), 0);
    assert!(t.account(&id).await.pending.is_some(), "the email is owed");
    // SES is back; no delivery comes any more: the sweeper finishes it.
    t.world.mailer.fail_next(0);
    let mut runs = 0;
    while t.emails() == 0 && runs < 20 {
        t.sweep_after(Duration::minutes(5)).await;
        runs += 1;
    }
    assert_eq!(t.emails(), 1);
    for _ in 0..5 {
        t.sweep_after(Duration::hours(1)).await;
    }
    assert_eq!(t.emails(), 1, "exactly one");
    assert_eq!(t.account(&id).await.pending, None);
}

#[tokio::test]
async fn given_credentials_retried_after_reconnected_then_nothing_is_sent_and_the_account_stays_ok()
{
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    t.deliver(&id, S::Credentials).await.expect("200");
    assert_eq!(t.emails(), 1);
    // The user reconnects; Unipile says so.
    t.unipile_says(&id, S::Ok);
    t.deliver(&id, S::Reconnected).await.expect("200");
    assert_eq!(t.account(&id).await.status, S::Ok);
    // Unipile's retry of the old CREDENTIALS delivery comes in late.
    t.deliver(&id, S::Credentials).await.expect("200");
    let account = t.account(&id).await;
    assert_eq!(account.status, S::Ok);
    assert_eq!(account.pending, None);
    assert_eq!(t.emails(), 1, "no false alarm");
}

#[tokio::test]
async fn given_a_late_connecting_during_a_reconnect_then_the_attempt_still_runs_while_unipile_says_credentials()
 {
    let t = TestWorld::new();
    let id = t.given_a_cookie_account("li_1").await;
    t.world.unipile.script_cookie_outcomes([provider_error()]);
    t.unipile_says(&id, S::Credentials);
    t.deliver(&id, S::Credentials).await.expect("200");
    assert!(
        t.account(&id).await.cookie_reconnect.is_some(),
        "reconnect started"
    );
    // A CONNECTING from before the CREDENTIALS arrives late.
    t.deliver(&id, S::Connecting).await.expect("200");
    let account = t.account(&id).await;
    assert_eq!(account.status, S::Credentials);
    assert!(account.cookie_reconnect.is_some());
    let (_, outcome) = t.fire_next_schedule().await.expect("attempt 0");
    assert_eq!(outcome, AttemptOutcome::Retrying { next_attempt: 1 });
    assert_eq!(
        t.world.unipile.cookie_logins().len(),
        1,
        "the cookie was tried"
    );
    assert_eq!(t.world.scheduler.pending().len(), 1, "attempt 1 waits");
}

#[tokio::test]
async fn given_a_late_notify_while_an_email_is_owed_then_the_email_is_kept_and_sent_once() {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    t.world.mailer.fail_next(1);
    t.deliver(&id, S::Credentials).await.expect("200");
    assert_eq!(t.emails(), 0);
    // A notify from an earlier hosted link, late, while Unipile still says CREDENTIALS.
    t.notify(&id, "RECONNECTED").await.expect("recorded");
    let account = t.account(&id).await;
    assert_eq!(account.status, S::Credentials);
    assert!(account.pending.is_some(), "the owed email is kept");
    t.sweep_after(CLAIM_LEASE).await;
    assert_eq!(t.emails(), 1);
    // And a duplicate of that notify changes nothing either.
    t.notify(&id, "RECONNECTED").await.expect("recorded");
    t.sweep_after(CLAIM_LEASE).await;
    assert_eq!(t.emails(), 1);
}

#[tokio::test]
async fn given_a_duplicate_notify_during_a_cookie_reconnect_then_the_reconnect_and_its_schedule_go_on()
 {
    let t = TestWorld::new();
    let id = t.given_a_cookie_account("li_1").await;
    t.unipile_says(&id, S::Credentials);
    t.deliver(&id, S::Credentials).await.expect("200");
    let outage = t.account(&id).await.outage.expect("outage").id;
    t.notify(&id, "CREATION_SUCCESS").await.expect("recorded");
    let account = t.account(&id).await;
    assert_eq!(account.status, S::Credentials);
    assert!(account.cookie_reconnect.is_some());
    assert_eq!(account.outage.map(|o| o.id), Some(outage));
    assert_eq!(
        t.world.scheduler.pending().len(),
        1,
        "attempt 0 still scheduled"
    );
    // When the user really reconnects, the callback ends it all, schedules included.
    t.unipile_says(&id, S::Ok);
    t.notify(&id, "RECONNECTED").await.expect("recorded");
    let account = t.account(&id).await;
    assert_eq!((account.status, account.cookie_reconnect), (S::Ok, None));
    assert!(t.world.scheduler.pending().is_empty());
}

#[tokio::test]
async fn given_credentials_before_the_notify_then_it_is_not_lost() {
    let t = TestWorld::new();
    let id = crate::domain::AccountId::parse("acc_new").expect("id");
    t.world.unipile.add_account(&id, Provider::Whatsapp);
    t.given_the_owner_email().await;
    t.unipile_says(&id, S::Credentials);
    // The webhook is faster than the notify: not ours yet.
    assert_eq!(
        t.deliver(&id, S::Credentials).await.expect("200"),
        WebhookOutcome::UnknownAccount
    );
    t.notify(&id, "CREATION_SUCCESS").await.expect("recorded");
    assert_eq!(t.account(&id).await.status, S::Credentials);
    t.sweep_after(Duration::minutes(5)).await;
    assert_eq!(t.emails(), 1);
}

#[tokio::test]
async fn given_a_schedule_left_from_an_old_outage_then_it_does_nothing_for_the_new_one() {
    let t = TestWorld::new();
    let id = t.given_a_cookie_account("li_1").await;
    t.unipile_says(&id, S::Credentials);
    t.deliver(&id, S::Credentials).await.expect("200");
    let old = t.world.scheduler.pending()[0].clone();
    // Healthy again, then a new outage.
    t.unipile_says(&id, S::Ok);
    t.deliver(&id, S::Ok).await.expect("200");
    t.unipile_says(&id, S::Credentials);
    t.deliver(&id, S::Credentials).await.expect("200");
    let new = t.world.scheduler.pending();
    assert_eq!(new.len(), 1);
    assert_ne!(new[0].name, old.name, "each outage names its own schedules");
    // The old outage's attempt 0 fires anyway (left over, or a late Scheduler retry).
    assert_eq!(
        t.run_attempt(&old.input).await,
        AttemptOutcome::Skipped("another outage")
    );
    assert!(t.world.unipile.cookie_logins().is_empty());
    let state = t.account(&id).await.cookie_reconnect.expect("running");
    assert_eq!(
        state.next_attempt, 0,
        "the new outage's attempt 0 is still to come"
    );
    let (_, outcome) = t.fire_next_schedule().await.expect("the new attempt 0");
    assert_eq!(outcome, AttemptOutcome::Reconnected);
}

#[tokio::test]
async fn given_a_crash_between_ses_accepting_and_the_clearing_write_then_no_second_email() {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    // Unipile does not answer the delivery's first ask, so it goes through the outbox (the
    // path with a clearing write).
    t.faults.arm(1, super::faults::Fault::Refused);
    // SES accepts; then the table is gone for the clearing write (its three tries) and the
    // release (a crash).
    let store = t.world.store.clone();
    t.world
        .mailer
        .after_next_send(move || store.fail_next_writes(4));
    let outcome = t.deliver(&id, S::Credentials).await.expect("200");
    assert_eq!(outcome, WebhookOutcome::Deferred);
    assert_eq!(t.emails(), 1);
    assert!(t.account(&id).await.pending.is_some(), "not cleared");
    // Retries of the delivery and the sweeper after the lease: none sends again.
    t.deliver(&id, S::Credentials).await.expect("200");
    t.sweep_after(CLAIM_LEASE + Duration::seconds(1)).await;
    t.sweep_after(Duration::hours(1)).await;
    assert_eq!(t.emails(), 1);
    assert_eq!(
        t.account(&id).await.pending,
        None,
        "finished without sending"
    );
}

#[tokio::test]
async fn given_a_follow_up_failing_every_time_then_it_is_abandoned_kept_and_no_longer_swept() {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    t.world.mailer.fail_next(1000);
    t.deliver(&id, S::Credentials).await.expect("200");
    let mut abandoned = 0;
    for _ in 0..(MAX_FOLLOW_UP_ATTEMPTS * 2) {
        abandoned += t.sweep_after(Duration::hours(1)).await.abandoned;
    }
    assert_eq!(abandoned, 1);
    let pending = t.account(&id).await.pending.expect("kept on the item");
    assert!(pending.abandoned_at.is_some());
    assert_eq!(pending.attempts, MAX_FOLLOW_UP_ATTEMPTS);
    assert_eq!(
        t.sweep_after(Duration::hours(1)).await.due,
        0,
        "off the index"
    );
    // Newer news replaces it.
    t.world.mailer.fail_next(0);
    t.unipile_says(&id, S::Ok);
    t.deliver(&id, S::Ok).await.expect("200");
    assert_eq!(t.account(&id).await.pending, None);
}

#[tokio::test]
async fn given_unipile_showing_no_sources_then_the_delivery_is_taken_as_told() {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.world.unipile.set_sources(&id, vec![]);
    t.deliver(&id, S::Credentials).await.expect("200");
    assert_eq!(t.account(&id).await.status, S::Credentials);
    assert_eq!(t.emails(), 1);
}

#[tokio::test]
async fn given_unipile_no_longer_having_the_account_then_it_is_deleted_and_nothing_is_done() {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Deleted);
    t.deliver(&id, S::Credentials).await.expect("200");
    let account = t.account(&id).await;
    assert_eq!((account.status, account.pending), (S::Deleted, None));
    assert_eq!(t.emails(), 0);
}

#[tokio::test]
async fn given_unipile_unreachable_when_credentials_arrives_then_200_and_the_sweeper_confirms_later()
 {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    t.world
        .unipile
        .fail_with(UnipileError::Transport("down".into()));
    assert_eq!(
        t.deliver(&id, S::Credentials).await.expect("200"),
        WebhookOutcome::Deferred
    );
    assert_eq!(
        t.account(&id).await.status,
        S::Ok,
        "nothing recorded on a guess"
    );
    t.world.unipile.recover();
    t.sweep_after(Duration::minutes(5)).await;
    assert_eq!(t.account(&id).await.status, S::Credentials);
    assert_eq!(t.emails(), 1);
}

#[tokio::test]
async fn given_a_cookie_record_past_its_expiry_but_not_yet_swept_then_credentials_emails_the_owner()
{
    let t = TestWorld::new();
    let id = t.given_a_cookie_account("li_1").await;
    // The extension fell silent: the cookie expired 30 days on, and DynamoDB's TTL sweep has
    // not removed the record yet.
    t.world.clock.advance(Duration::days(31));
    t.unipile_says(&id, S::Credentials);
    t.deliver(&id, S::Credentials).await.expect("answered 200");
    assert_eq!(t.emails(), 1, "the owner is told at once");
    assert!(
        t.world.unipile.cookie_logins().is_empty(),
        "an expired cookie is never sent to Unipile"
    );
    assert_eq!(t.account(&id).await.cookie_reconnect, None);
}

#[tokio::test]
async fn given_a_credentials_status_no_webhook_ever_delivered_then_the_next_reconciliation_gets_the_owner_emailed_once()
 {
    use crate::flows::account_reconciler::{ReconcileSettings, reconcile};
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    // Unipile's status changes; every delivery is lost (none arrives at all).
    t.unipile_says(&id, S::Credentials);
    t.world.clock.advance(Duration::minutes(30));
    let run = reconcile(t.reconcile_ports(), &ReconcileSettings::default())
        .await
        .expect("reconciled");
    assert_eq!(run.to_confirm, vec![id.clone()]);
    assert!(t.account(&id).await.pending.is_some(), "to be confirmed");
    // The sweeper's next run confirms it with Unipile and emails the owner.
    t.sweep_after(Duration::minutes(5)).await;
    assert_eq!(t.emails(), 1);
    assert_eq!(t.account(&id).await.status, S::Credentials);
    // Later runs find nothing new: still one email.
    for _ in 0..3 {
        t.world.clock.advance(Duration::hours(1));
        let run = reconcile(t.reconcile_ports(), &ReconcileSettings::default())
            .await
            .expect("reconciled");
        assert!(run.to_confirm.is_empty());
        t.sweep_after(Duration::minutes(5)).await;
    }
    assert_eq!(t.emails(), 1, "exactly one");
}

#[tokio::test]
async fn given_a_missed_ok_then_the_reconciliation_ends_the_outage_without_an_email() {
    use crate::flows::account_reconciler::{ReconcileSettings, reconcile};
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Connecting);
    t.deliver(&id, S::Connecting).await.expect("answered 200");
    assert_eq!(t.account(&id).await.status, S::Connecting);
    // Healthy again, and that delivery is lost.
    t.unipile_says(&id, S::Ok);
    t.world.clock.advance(Duration::hours(1));
    let run = reconcile(t.reconcile_ports(), &ReconcileSettings::default())
        .await
        .expect("reconciled");
    assert_eq!(run.to_confirm, vec![id.clone()]);
    t.sweep_after(Duration::minutes(5)).await;
    let account = t.account(&id).await;
    assert_eq!(account.status, S::Ok);
    assert_eq!(account.outage, None);
    assert_eq!(t.emails(), 0);
}

#[tokio::test]
async fn given_too_little_of_the_invocation_left_then_the_webhook_marks_nothing_and_the_sweeper_sends_the_email()
 {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    // 4 seconds left (Lambda's deadline as the runtime sets it): SES's attempt alone may
    // take 5.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(4);
    let outcome = crate::deadline::within(deadline, t.deliver(&id, S::Credentials))
        .await
        .expect("answered 200");
    assert_eq!(outcome, WebhookOutcome::Deferred);
    let account = t.account(&id).await;
    assert_eq!(account.status, S::Credentials, "the status is recorded");
    assert_eq!(account.emailed_outage, None, "no mark without time to send");
    assert!(account.pending.is_some(), "the email is owed");
    assert_eq!(t.emails(), 0);
    t.sweep_after(Duration::minutes(5)).await;
    assert_eq!(t.emails(), 1);
    let account = t.account(&id).await;
    assert!(
        account.email_sent_at.is_some(),
        "SES's acceptance is recorded"
    );
    assert_eq!(account.pending, None);
}

#[tokio::test]
async fn given_an_email_sent_by_the_webhook_then_its_acceptance_is_recorded_and_nothing_is_left_held()
 {
    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    let outcome = t.deliver(&id, S::Credentials).await.expect("answered 200");
    assert_eq!(outcome, WebhookOutcome::Recorded);
    assert_eq!(t.emails(), 1);
    let account = t.account(&id).await;
    assert!(account.email_sent_at.is_some());
    assert_eq!(account.pending, None, "the held follow-up is completed");
    assert!(!account.email_unaccounted_for());
    // The sweeper, later, finds nothing to count.
    let lost = crate::metrics::counted("EmailLost");
    t.sweep_after(Duration::hours(1)).await;
    assert_eq!(crate::metrics::counted("EmailLost"), lost);
    assert_eq!(t.emails(), 1);
}

#[tokio::test]
async fn given_an_email_ses_refused_that_cannot_be_owed_then_its_loss_is_counted() {
    use super::faults::Fault;
    // Where the write that owes a refused email comes among the delivery's calls.
    let probe = TestWorld::new();
    let id = probe.given_an_account("acc_1", Provider::Whatsapp).await;
    probe.unipile_says(&id, S::Credentials);
    let from = probe.faults.calls().len();
    probe.world.mailer.fail_next(1);
    let _ = probe.deliver(&id, S::Credentials).await;
    let owe = probe.faults.calls()[from..]
        .iter()
        .position(|call| *call == "store.owe_email")
        .expect("a refused email is owed");

    let t = TestWorld::new();
    let id = t.given_an_account("acc_1", Provider::Whatsapp).await;
    t.unipile_says(&id, S::Credentials);
    let lost = crate::metrics::counted("EmailLost");
    // SES refuses; the write that would owe the email fails too.
    t.world.mailer.fail_next(1);
    t.faults.arm(owe, Fault::Refused);
    let _ = t.deliver(&id, S::Credentials).await;
    assert_eq!(t.faults.fired(), Some("store.owe_email"));
    assert_eq!(t.emails(), 0);
    assert_eq!(crate::metrics::counted("EmailLost"), lost + 1);
}

#[tokio::test]
async fn given_a_reconnect_attempt_that_failed_for_good_then_the_next_reconciliation_ends_it_and_the_owner_is_emailed_once()
 {
    use crate::flows::account_reconciler::{ReconcileSettings, reconcile};
    let t = TestWorld::new();
    let (id, _) = t.linkedin_reconnect_waiting_at(2).await;
    // Attempt 2's invocation failed three times and went to the dead-letter queue: its
    // schedule is gone, nothing will move the reconnect on.
    let stuck = t
        .world
        .scheduler
        .take_next_due(t.world.clock.now() + Duration::days(1))
        .expect("attempt 2 was scheduled");
    assert_eq!(stuck.input.attempt, 2);
    // A CREDENTIALS delivery meanwhile finds the reconnect "running" and emails nobody.
    t.world.clock.advance(Duration::minutes(30));
    t.deliver(&id, S::Credentials).await.expect("answered 200");
    t.sweep_after(Duration::minutes(5)).await;
    assert_eq!(t.emails(), 0);
    // Two hours past attempt 2's time, the hourly run ends it as exhausted.
    t.world.clock.advance(Duration::hours(3));
    let run = reconcile(t.reconcile_ports(), &ReconcileSettings::default())
        .await
        .expect("reconciled");
    assert_eq!(run.reconnects_ended, vec![id.clone()]);
    assert_eq!(t.account(&id).await.cookie_reconnect, None);
    t.sweep_after(Duration::minutes(5)).await;
    assert_eq!(t.emails(), 1, "the owner is told to reconnect");
    // The dead letter replayed later changes nothing; later runs find nothing more.
    let replayed = t.run_attempt(&stuck.input).await;
    assert!(
        matches!(replayed, AttemptOutcome::Skipped(_)),
        "{replayed:?}"
    );
    let again = reconcile(t.reconcile_ports(), &ReconcileSettings::default())
        .await
        .expect("reconciled");
    assert!(again.reconnects_ended.is_empty());
    t.sweep_after(Duration::hours(1)).await;
    assert_eq!(t.emails(), 1, "exactly one");
}

#[tokio::test]
async fn given_a_reconnect_on_time_then_the_reconciliation_leaves_it_alone() {
    use crate::flows::account_reconciler::{ReconcileSettings, reconcile};
    let t = TestWorld::new();
    let (id, _) = t.linkedin_reconnect_waiting_at(1).await;
    t.world.clock.advance(Duration::minutes(30));
    let run = reconcile(t.reconcile_ports(), &ReconcileSettings::default())
        .await
        .expect("reconciled");
    assert!(run.reconnects_ended.is_empty());
    assert!(t.account(&id).await.cookie_reconnect.is_some());
}
