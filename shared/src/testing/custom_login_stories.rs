//! Custom sign-in stories over the in-memory world: QR codes scanned or abandoned, codes
//! wrong then right, the limit, a lost answer, the webhook first, the reconciliation's clean-up.

use crate::adapters::memory::CookieOutcome;
use crate::domain::checkpoint::CheckpointCode;
use crate::domain::custom_login::ConnectBody;
use crate::domain::custom_login::{LoginHints, LoginRequest, LoginTarget};
use crate::domain::login_attempt::AttemptLimit;
use crate::domain::{AccountId, AccountStatus, Caller, Provider, UserId};
use crate::domain::{Email, UnipileEvent};
use crate::flows::account_reconciler::{ReconcilePorts, ReconcileSettings, reconcile};
use crate::flows::custom_login::*;
use crate::flows::status_webhook::{WebhookOutcome, handle_status_event};
use crate::flows::{FlowError, LoginRefusal};
use crate::memory_world::MemoryWorld;
use crate::ports::LoginAttempts;
use crate::ports::{AccountStore, Clock, UnipileError, UnipileErrorType};
use chrono::TimeZone;
use chrono::{Duration, Utc};

fn world() -> MemoryWorld {
    let at = Utc
        .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("date");
    MemoryWorld::at(at)
}

fn ports(world: &MemoryWorld) -> LoginPorts<'_> {
    LoginPorts {
        store: world.store.as_ref(),
        unipile: world.unipile.as_ref(),
        scheduler: Some(world.scheduler.as_ref()),
        clock: world.clock.as_ref(),
    }
}

fn caller(user: &str) -> Caller {
    Caller {
        user_id: UserId::parse(user).expect("user"),
        email: Some(Email::parse(format!("{user}@example.com")).expect("email")),
    }
}

fn request(json: serde_json::Value) -> LoginRequest {
    let body: ConnectBody = serde_json::from_value(json).expect("body");
    LoginRequest::parse(body).expect("valid request")
}

async fn start_with(
    world: &MemoryWorld,
    user: &str,
    json: serde_json::Value,
) -> Result<LoginStep, FlowError> {
    start(
        ports(world),
        &LoginSettings::default(),
        &caller(user),
        request(json),
        LoginHints::default(),
    )
    .await
}

fn code(text: &str) -> CheckpointCode {
    CheckpointCode::parse(text).expect("code")
}

fn waiting_id(step: &LoginStep) -> AccountId {
    match step {
        LoginStep::Checkpoint { account_id, .. } => account_id.clone(),
        other => panic!("expected a checkpoint, got {other:?}"),
    }
}

async fn owner_of(world: &MemoryWorld, id: &AccountId) -> Option<UserId> {
    world
        .store
        .get_account(id)
        .await
        .expect("store")
        .map(|a| a.user_id)
}

const NO_HOLD: std::time::Duration = std::time::Duration::ZERO;

#[tokio::test]
async fn given_a_whatsapp_qr_code_when_the_user_scans_it_then_the_poll_records_the_account_for_them()
 {
    let world = world();
    let step = start_with(&world, "u1", serde_json::json!({"provider": "WHATSAPP"}))
        .await
        .expect("started");
    let LoginStep::Checkpoint {
        checkpoint,
        expires_at,
        ..
    } = &step
    else {
        panic!("a QR code");
    };
    assert!(checkpoint.qrcode.is_some());
    assert_eq!(*expires_at, world.clock.now() + Duration::seconds(60));
    let id = waiting_id(&step);
    // Before the scan: whose it is is recorded, the account is not listed yet.
    let attempt = world.store.login_attempt(&id).await.expect("store");
    assert_eq!(attempt.map(|a| a.user_id.to_string()), Some("u1".into()));
    let before = poll(ports(&world), &caller("u1"), &id, NO_HOLD).await;
    assert_eq!(before.expect("poll"), LoginWait::Waiting);
    assert_eq!(owner_of(&world, &id).await, None);

    world.unipile.approve_in_app(&id);
    let reads = world.unipile.account_reads();
    let after = poll(ports(&world), &caller("u1"), &id, NO_HOLD).await;
    assert_eq!(after.expect("poll"), LoginWait::Connected);
    assert_eq!(
        world.unipile.account_reads(),
        reads + 1,
        "the account Unipile showed connected is recorded without reading it again"
    );
    assert_eq!(
        owner_of(&world, &id).await.map(|u| u.to_string()),
        Some("u1".into())
    );
    // Another user's poll of it is a 404, whatever its state.
    let foreign = poll(ports(&world), &caller("u2"), &id, NO_HOLD).await;
    assert!(matches!(foreign, Err(FlowError::NotFound(_))));
}

#[tokio::test]
async fn given_a_scanned_code_when_the_webhook_arrives_before_the_poll_then_the_account_is_the_user_s_once()
 {
    let world = world();
    let step = start_with(&world, "u1", serde_json::json!({"provider": "TELEGRAM"}))
        .await
        .expect("started");
    let id = waiting_id(&step);
    world.unipile.approve_in_app(&id);
    let event = UnipileEvent {
        account_id: id.clone(),
        status: AccountStatus::CreationSuccess,
        account_type: Some(Provider::Telegram),
        name: None,
    };
    let deps = world.follow_up_deps();
    let outcome = handle_status_event(deps.ports(), &deps.settings, &event)
        .await
        .expect("webhook");
    assert_eq!(outcome, WebhookOutcome::Recorded);
    assert_eq!(
        owner_of(&world, &id).await.map(|u| u.to_string()),
        Some("u1".into())
    );
    let polled = poll(ports(&world), &caller("u1"), &id, NO_HOLD).await;
    assert_eq!(polled.expect("poll"), LoginWait::Connected);
    let accounts = world
        .store
        .accounts_of(&UserId::parse("u1").expect("user"))
        .await
        .expect("store");
    assert_eq!(accounts.len(), 1);
}

#[tokio::test]
async fn given_a_linkedin_2fa_when_a_wrong_code_then_the_right_one_then_it_connects() {
    let world = world();
    world
        .unipile
        .script_login_outcomes([CookieOutcome::Checkpoint("2FA".into())]);
    let step = start_with(
        &world,
        "u1",
        serde_json::json!({"provider": "LINKEDIN", "username": "ana@example.com", "password": "never-logged-pw"}),
    )
    .await
    .expect("started");
    let LoginStep::Checkpoint { can_resend, .. } = &step else {
        panic!("a checkpoint");
    };
    assert!(can_resend, "LinkedIn sends codes again");
    let id = waiting_id(&step);
    world
        .unipile
        .script_checkpoint_answers([CookieOutcome::Fail(UnipileError::Api {
            status: 401,
            error_type: UnipileErrorType::InvalidCheckpointSolution,
            title: "Invalid checkpoint solution".into(),
            detail: None,
        })]);
    let wrong = answer_checkpoint(ports(&world), &caller("u1"), &id, code("000000")).await;
    assert!(matches!(wrong, Err(FlowError::WrongCode(_))), "{wrong:?}");
    resend(ports(&world), &caller("u1"), &id)
        .await
        .expect("resent");
    assert_eq!(world.unipile.resends(), vec![id.clone()]);
    let right = answer_checkpoint(ports(&world), &caller("u1"), &id, code("123456"))
        .await
        .expect("right code");
    assert!(matches!(right, LoginStep::Connected { .. }));
    assert_eq!(
        owner_of(&world, &id).await.map(|u| u.to_string()),
        Some("u1".into())
    );
    // Someone else cannot answer it, or learn that it exists.
    let foreign = answer_checkpoint(ports(&world), &caller("u2"), &id, code("123456")).await;
    assert!(matches!(foreign, Err(FlowError::NotFound(_))));
}

#[tokio::test]
async fn given_a_qr_code_nobody_scans_then_it_expires_its_account_is_deleted_and_new_code_starts_again()
 {
    let world = world();
    let step = start_with(&world, "u1", serde_json::json!({"provider": "WHATSAPP"}))
        .await
        .expect("started");
    let old = waiting_id(&step);
    // A second start while it waits is refused, naming the waiting one.
    let second = start_with(&world, "u1", serde_json::json!({"provider": "WHATSAPP"})).await;
    assert!(
        matches!(&second, Err(FlowError::LoginWaiting { account_id, .. }) if *account_id == old),
        "{second:?}"
    );
    world.clock.advance(Duration::seconds(61));
    let polled = poll(ports(&world), &caller("u1"), &old, NO_HOLD).await;
    assert_eq!(polled.expect("poll"), LoginWait::Expired);
    assert_eq!(
        world.unipile.deleted(),
        vec![old.clone()],
        "no billed account lingers"
    );
    let polled_again = poll(ports(&world), &caller("u1"), &old, NO_HOLD).await;
    assert_eq!(polled_again.expect("poll"), LoginWait::Expired);
    let renewed = start_with(
        &world,
        "u1",
        serde_json::json!({"provider": "WHATSAPP", "renew": old.as_str()}),
    )
    .await
    .expect("new code");
    let new = waiting_id(&renewed);
    assert_ne!(new, old);
    // Expired, the old wait holds nothing back: a plain start would have been let in too,
    // but the renewed one now waits.
    let second = start_with(&world, "u1", serde_json::json!({"provider": "WHATSAPP"})).await;
    assert!(matches!(second, Err(FlowError::LoginWaiting { account_id, .. }) if account_id == new));
}

#[tokio::test]
async fn given_an_expired_qr_code_not_yet_polled_then_new_code_renews_it_without_counting_a_start()
{
    let world = world();
    let settings = LoginSettings {
        limit: AttemptLimit {
            max: 1,
            window: Duration::minutes(15),
        },
    };
    let first = start(
        ports(&world),
        &settings,
        &caller("u1"),
        request(serde_json::json!({"provider": "WHATSAPP"})),
        LoginHints::default(),
    )
    .await
    .expect("first");
    let old = waiting_id(&first);
    world.clock.advance(Duration::seconds(70));
    let renewed = start(
        ports(&world),
        &settings,
        &caller("u1"),
        request(serde_json::json!({"provider": "WHATSAPP", "renew": old.as_str()})),
        LoginHints::default(),
    )
    .await
    .expect("renewed despite a limit of one start");
    assert_ne!(waiting_id(&renewed), old);
    assert_eq!(
        world.unipile.deleted(),
        vec![old],
        "the old code's account goes"
    );
}

#[tokio::test]
async fn given_five_refused_passwords_then_the_sixth_start_is_429_with_when_to_retry() {
    let world = world();
    let refused = || {
        CookieOutcome::Fail(UnipileError::Api {
            status: 401,
            error_type: UnipileErrorType::InvalidCredentials,
            title: "Invalid credentials".into(),
            detail: None,
        })
    };
    world
        .unipile
        .script_login_outcomes((0..5).map(|_| refused()));
    let body = serde_json::json!({"provider": "INSTAGRAM", "username": "ana", "password": "never-logged-pw"});
    for _ in 0..5 {
        let error = start_with(&world, "u1", body.clone())
            .await
            .expect_err("refused");
        assert!(
            matches!(
                error,
                FlowError::LoginRefused {
                    refusal: LoginRefusal::Credentials,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(!error.to_string().contains("never-logged"));
        world.clock.advance(Duration::minutes(1));
    }
    let sixth = start_with(&world, "u1", body.clone()).await;
    assert!(
        matches!(sixth, Err(FlowError::TooManyAttempts { retry_after, .. }) if retry_after == 600),
        "{sixth:?}"
    );
    assert_eq!(
        world.unipile.logins().len(),
        5,
        "the sixth never reached Unipile"
    );
    // Another user, or another provider, is not held back.
    world
        .unipile
        .script_login_outcomes([CookieOutcome::Success]);
    assert!(start_with(&world, "u2", body).await.is_ok());
}

#[tokio::test]
async fn given_a_start_whose_answer_was_lost_then_the_next_start_finds_its_account_and_makes_no_second()
 {
    let world = world();
    world
        .unipile
        .script_login_outcomes([CookieOutcome::CreatedThenLost(UnipileError::Transport(
            "timed out".into(),
        ))]);
    let body = serde_json::json!({"provider": "MESSENGER", "username": "ana", "password": "never-logged-pw"});
    let lost = start_with(&world, "u1", body.clone()).await;
    assert!(matches!(lost, Err(FlowError::Unipile(_))), "{lost:?}");
    // At once: held back while that login may still be finishing.
    let held = start_with(&world, "u1", body.clone()).await;
    assert!(
        matches!(held, Err(FlowError::TooManyAttempts { .. })),
        "{held:?}"
    );
    world.clock.advance(Duration::minutes(2));
    let found = start_with(&world, "u1", body).await.expect("found");
    let LoginStep::Connected { account_id, .. } = found else {
        panic!("the lost start's account");
    };
    assert_eq!(world.unipile.logins().len(), 1, "no second login");
    assert_eq!(world.unipile.account_ids(), vec![account_id.clone()]);
    assert_eq!(
        owner_of(&world, &account_id).await.map(|u| u.to_string()),
        Some("u1".into())
    );
}

#[tokio::test]
async fn given_a_captcha_then_the_user_is_sent_to_the_hosted_page_and_the_half_made_account_goes() {
    let world = world();
    world
        .unipile
        .script_login_outcomes([CookieOutcome::Checkpoint("CAPTCHA".into())]);
    let error = start_with(
        &world,
        "u1",
        serde_json::json!({"provider": "LINKEDIN", "username": "ana@example.com", "password": "pw"}),
    )
    .await
    .expect_err("captcha");
    assert!(matches!(
        error,
        FlowError::LoginRefused {
            refusal: LoginRefusal::Captcha,
            ..
        }
    ));
    assert_eq!(world.unipile.deleted().len(), 1);
}

#[tokio::test]
async fn given_a_mailbox_reconnect_then_only_the_owner_may_and_the_same_account_comes_back() {
    let world = world();
    let created = start_with(
        &world,
        "u1",
        serde_json::json!({"provider": "MAIL", "imap_user": "ana@example.com", "imap_password": "never-logged-1",
            "imap_host": "imap.example.com", "imap_port": 993, "smtp_host": "smtp.example.com", "smtp_port": 465}),
    )
    .await
    .expect("connected");
    let LoginStep::Connected { account_id, .. } = created else {
        panic!("a mailbox connects at once");
    };
    world
        .unipile
        .set_status(&account_id, AccountStatus::Credentials);
    let reconnect = serde_json::json!({"provider": "MAIL", "reconnect_account": account_id.as_str(), "imap_password": "never-logged-2"});
    let foreign = start_with(&world, "u2", reconnect.clone()).await;
    assert!(
        matches!(foreign, Err(FlowError::NotFound(_))),
        "{foreign:?}"
    );
    let wrong_kind = start_with(
        &world,
        "u1",
        serde_json::json!({"provider": "TELEGRAM", "reconnect_account": account_id.as_str()}),
    )
    .await;
    assert!(matches!(wrong_kind, Err(FlowError::InvalidRequest(_))));
    let back = start_with(&world, "u1", reconnect)
        .await
        .expect("reconnected");
    assert_eq!(
        back,
        LoginStep::Connected {
            account_id: account_id.clone(),
            provider: Provider::Mail
        }
    );
    assert_eq!(
        world.unipile.logins().last().map(|l| l.0.clone()),
        Some(LoginTarget::Reconnect(account_id))
    );
}

#[tokio::test]
async fn given_an_abandoned_qr_code_whose_poll_never_came_then_the_reconciliation_deletes_its_account()
 {
    let world = world();
    let step = start_with(&world, "u1", serde_json::json!({"provider": "WHATSAPP"}))
        .await
        .expect("started");
    let id = waiting_id(&step);
    let reconcile_ports = ReconcilePorts {
        store: world.store.as_ref(),
        unipile: world.unipile.as_ref(),
        clock: world.clock.as_ref(),
    };
    let early = reconcile(reconcile_ports, &ReconcileSettings::default())
        .await
        .expect("run");
    assert!(early.abandoned_deleted.is_empty(), "still scannable");
    assert!(early.unattributed.is_empty(), "whose it is is known");
    world.clock.advance(Duration::minutes(10));
    let run = reconcile(reconcile_ports, &ReconcileSettings::default())
        .await
        .expect("run");
    assert_eq!(run.abandoned_deleted, vec![id.clone()]);
    assert_eq!(world.unipile.deleted(), vec![id.clone()]);
    let again = reconcile(reconcile_ports, &ReconcileSettings::default())
        .await
        .expect("run");
    assert!(again.abandoned_deleted.is_empty(), "once");
    assert_eq!(owner_of(&world, &id).await, None);
}

#[tokio::test]
async fn given_a_scanned_code_then_poll_webhook_and_reconciliation_in_any_order_record_it_once() {
    #[derive(Clone, Copy, Debug)]
    enum Step {
        Poll,
        Webhook,
        Reconcile,
    }
    let orders = [
        [Step::Poll, Step::Webhook, Step::Reconcile],
        [Step::Poll, Step::Reconcile, Step::Webhook],
        [Step::Webhook, Step::Poll, Step::Reconcile],
        [Step::Webhook, Step::Reconcile, Step::Poll],
        [Step::Reconcile, Step::Poll, Step::Webhook],
        [Step::Reconcile, Step::Webhook, Step::Poll],
    ];
    for order in orders {
        let world = world();
        // The store as the functions hold it: publishing the facts its writes record.
        let deps = world.deps();
        let published = LoginPorts {
            store: deps.store.as_ref(),
            unipile: world.unipile.as_ref(),
            scheduler: None,
            clock: world.clock.as_ref(),
        };
        let step = start_with(&world, "u1", serde_json::json!({"provider": "WHATSAPP"}))
            .await
            .expect("started");
        let id = waiting_id(&step);
        world.unipile.approve_in_app(&id);
        // Past the reconciliation's grace for young accounts, within the code's minute.
        world.clock.advance(Duration::seconds(30));
        for step in order {
            match step {
                Step::Poll => {
                    let polled = poll(published, &caller("u1"), &id, NO_HOLD).await;
                    assert_eq!(polled.expect("poll"), LoginWait::Connected, "{order:?}");
                }
                Step::Webhook => {
                    let event = UnipileEvent {
                        account_id: id.clone(),
                        status: AccountStatus::CreationSuccess,
                        account_type: Some(Provider::Whatsapp),
                        name: None,
                    };
                    let deps = world.follow_up_deps();
                    handle_status_event(deps.ports(), &deps.settings, &event)
                        .await
                        .expect("webhook");
                }
                Step::Reconcile => {
                    let reconcile_ports = ReconcilePorts {
                        store: deps.store.as_ref(),
                        unipile: world.unipile.as_ref(),
                        clock: world.clock.as_ref(),
                    };
                    let run = reconcile(reconcile_ports, &ReconcileSettings::default())
                        .await
                        .expect("run");
                    assert!(run.abandoned_deleted.is_empty(), "{order:?}");
                }
            }
        }
        let accounts = world
            .store
            .accounts_of(&UserId::parse("u1").expect("user"))
            .await
            .expect("store");
        assert_eq!(accounts.len(), 1, "{order:?}");
        assert_eq!(accounts[0].status, AccountStatus::Ok, "{order:?}");
        assert!(world.unipile.deleted().is_empty(), "{order:?}");
        let connected = world
            .events
            .published()
            .iter()
            .filter(|e| e.kind == crate::domain::events::EventType::Connected)
            .count();
        assert_eq!(connected, 1, "one Connected event, {order:?}");
    }
}
