//! The custom sign-in stories of the fault matrix: the page starts a sign-in (pressing again,
//! as a user does, when it fails), the user scans the QR code or types the code, the page
//! polls, Unipile delivers its webhook, the reconciliation runs. Whatever call fails, the user
//! ends with one account, recorded for them, and Unipile holds no other (a lost answer never
//! makes two billed accounts; an abandoned code's account is deleted).

use super::{Run, arm, check_events, finish, invoke, timeout, unipile_delivers};
use crate::adapters::memory::CookieOutcome;
use crate::domain::checkpoint::CheckpointCode;
use crate::domain::custom_login::{ConnectBody, LoginHints, LoginRequest};
use crate::domain::events::EventType as E;
use crate::domain::{AccountId, AccountStatus as S, Caller, UserId};
use crate::flows::FlowError;
use crate::flows::account_reconciler::{ReconcileSettings, reconcile};
use crate::flows::custom_login::{
    LoginSettings, LoginStep, LoginWait, answer_checkpoint, poll, start,
};
use crate::ports::{AccountStore, Clock};
use crate::testing::faults::Fault;
use crate::testing::test_world::{OWNER, TestWorld};
use chrono::Duration;

fn owner() -> Caller {
    Caller {
        user_id: UserId::parse(OWNER).expect("user"),
        email: None,
    }
}

fn request(json: &serde_json::Value) -> LoginRequest {
    let body: ConnectBody = serde_json::from_value(json.clone()).expect("body");
    LoginRequest::parse(body).expect("valid")
}

/// The page starts the sign-in until it is shown a step: pressing again after a failure
/// (waiting what a 429 asks), or taking up the attempt a 409 names.
async fn page_starts(t: &TestWorld, body: &serde_json::Value) -> Option<LoginStep> {
    for _ in 0..6 {
        let caller = owner();
        let settings = LoginSettings::default();
        let started = start(
            t.login_ports(),
            &settings,
            &caller,
            request(body),
            LoginHints::default(),
        );
        match invoke(t, timeout::HTTP, started).await {
            Some(Ok(step)) => return Some(step),
            Some(Err(FlowError::LoginWaiting { account_id, .. })) => {
                return Some(LoginStep::Checkpoint {
                    account_id,
                    provider: crate::domain::Provider::Whatsapp,
                    checkpoint: Default::default(),
                    expires_at: t.world.clock.now(),
                    can_resend: false,
                });
            }
            Some(Err(FlowError::TooManyAttempts { retry_after, .. })) => {
                t.world.clock.advance(Duration::seconds(retry_after as i64));
            }
            _ => t.world.clock.advance(Duration::seconds(5)),
        }
    }
    None
}

/// The page polls while the step is on screen: every few seconds, for up to two minutes.
async fn page_polls(t: &TestWorld, id: &AccountId) -> bool {
    for _ in 0..12 {
        let caller = owner();
        let polled = poll(t.login_ports(), &caller, id, std::time::Duration::ZERO);
        match invoke(t, timeout::HTTP, polled).await {
            Some(Ok(LoginWait::Connected)) => return true,
            Some(Ok(LoginWait::Expired)) => return false,
            _ => t.world.clock.advance(Duration::seconds(10)),
        }
    }
    false
}

/// The end every custom sign-in story must reach.
async fn one_account_for_the_owner(t: &TestWorld, fault: Option<(usize, Fault)>) -> Vec<String> {
    // The hourly reconciliation comes by, twice (its own run may be the one that fails).
    for _ in 0..2 {
        t.world.clock.advance(Duration::hours(1));
        let _ = invoke(
            t,
            timeout::RECONCILER,
            reconcile(t.reconcile_ports(), &ReconcileSettings::default()),
        )
        .await;
    }
    let mut problems = Vec::new();
    let at_unipile = t.world.unipile.account_ids();
    if at_unipile.len() != 1 {
        problems.push(format!("{} accounts at Unipile", at_unipile.len()));
    }
    let user = UserId::parse(OWNER).expect("user");
    let recorded = t.world.store.accounts_of(&user).await.expect("memory");
    match recorded.as_slice() {
        [account] if at_unipile.contains(&account.account_id) => {
            if account.status != S::Ok {
                problems.push(format!("recorded {}", account.status));
            }
        }
        other => problems.push(format!("{} account(s) recorded for the user", other.len())),
    }
    problems.extend(check_events(t, &[E::Connected], fault).await);
    problems
}

/// WhatsApp by QR code: started, scanned, polled; Unipile's webhook says CREATION_SUCCESS.
pub(super) async fn custom_sign_in_by_qr_code(fault: Option<(usize, Fault)>) -> Run {
    let t = TestWorld::new();
    let body = serde_json::json!({"provider": "WHATSAPP"});
    let from = t.faults.calls().len();
    arm(&t, fault);
    let mut problems = Vec::new();
    let mut connected = false;
    // A code that expired unscanned (the page was slow to show it) is started again.
    for _ in 0..3 {
        let Some(step) = page_starts(&t, &body).await else {
            break;
        };
        let id = match step {
            LoginStep::Checkpoint { account_id, .. } => account_id,
            LoginStep::Connected { .. } => {
                problems.push("a QR code sign-in connected without a scan".into());
                break;
            }
        };
        t.world.unipile.approve_in_app(&id);
        if page_polls(&t, &id).await {
            unipile_delivers(&t, &id, S::CreationSuccess).await;
            connected = true;
            break;
        }
        unipile_delivers(&t, &id, S::CreationSuccess).await;
        connected = t
            .world
            .store
            .get_account(&id)
            .await
            .expect("memory")
            .is_some();
        if connected {
            break;
        }
    }
    if !connected {
        problems.push("the scanned code never connected".into());
    }
    problems.extend(one_account_for_the_owner(&t, fault).await);
    finish(&t, problems, from)
}

/// LinkedIn with a 2FA code: started, the code typed (again while it fails), connected.
pub(super) async fn custom_sign_in_with_a_code(fault: Option<(usize, Fault)>) -> Run {
    let t = TestWorld::new();
    t.world
        .unipile
        .script_login_outcomes([CookieOutcome::Checkpoint("2FA".into())]);
    let body = serde_json::json!({"provider": "LINKEDIN", "username": "owner@example.com", "password": "never-logged-matrix"});
    let from = t.faults.calls().len();
    arm(&t, fault);
    let mut problems = Vec::new();
    match page_starts(&t, &body).await {
        Some(LoginStep::Connected { .. }) => {}
        Some(LoginStep::Checkpoint { account_id, .. }) => {
            let mut done = false;
            for _ in 0..4 {
                let code = CheckpointCode::parse("123456").expect("code");
                let caller = owner();
                let typed = answer_checkpoint(t.login_ports(), &caller, &account_id, code);
                match invoke(&t, timeout::HTTP, typed).await {
                    Some(Ok(LoginStep::Connected { .. })) => {
                        done = true;
                        break;
                    }
                    Some(Err(FlowError::Expired(_))) => break,
                    _ => t.world.clock.advance(Duration::seconds(10)),
                }
            }
            if !done {
                problems.push("the right code never connected the account".into());
            }
        }
        None => problems.push("the sign-in never started".into()),
    }
    problems.extend(one_account_for_the_owner(&t, fault).await);
    finish(&t, problems, from)
}
