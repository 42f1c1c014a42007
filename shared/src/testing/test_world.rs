//! A world for the reliability stories: every port in memory, Unipile's account status the
//! truth a test sets, and the outside events (a webhook delivery, a notify, a schedule firing,
//! the sweeper's run) one call each.

use super::faults::{FaultPlan, Faulty};
use crate::adapters::cipher::LocalCipher;
use crate::adapters::scheduler::PendingSchedule;
use crate::domain::reconnect::ReconnectAttempt;
use crate::domain::state_token::StateKey;
use crate::domain::{
    Account, AccountId, AccountStatus, Email, LinkedinMemberId, Provider, RedirectPolicy,
    UnipileEvent, UserId,
};
use crate::flows::FlowError;
use crate::flows::connect_callback::{CallbackOutcome, CallbackPorts, record_callback};
use crate::flows::fanout::FanOut;
use crate::flows::follow_up_sweeper::{SweepReport, sweep};
use crate::flows::follow_ups::{FollowUpPorts, FollowUpSettings};
use crate::flows::hosted_link::{LinkPorts, LinkSettings};
use crate::flows::publishing_store::PublishingStore;
use crate::flows::reconnect_retry::{AttemptOutcome, ReconnectPorts, run_attempt};
use crate::flows::status_webhook::{WebhookOutcome, handle_status_event};
use crate::memory_world::MemoryWorld;
use crate::ports::{
    AccountStore, Cipher, Clock, ConnectedAccount, CookieUpdate, EventFeed, EventPublisher, Mailer,
    RetryScheduler, Unipile, UserProfile,
};
use chrono::{Duration, TimeZone, Utc};
use std::sync::Arc;

const STATE_KEY: &[u8] = b"order-independence-state-key-0123456789";
pub const OWNER: &str = "owner-1";
pub const OWNER_EMAIL: &str = "owner@example.com";
pub const MEMBER: &str = "424242";

pub struct TestWorld {
    pub world: MemoryWorld,
    pub settings: FollowUpSettings,
    state_key: StateKey,
    cipher: Arc<LocalCipher>,
    /// Every outside call the flows make goes through it: a test may fail any one.
    pub faults: Arc<FaultPlan>,
    /// The store as every function holds it: publishing its facts, both through the plan.
    store: PublishingStore,
    /// The store through the plan, without publishing (as the sweeper's relay uses it).
    faulty_store: Arc<Faulty<dyn AccountStore>>,
    /// The feed, then the bus, each through the plan.
    events: Arc<dyn EventPublisher>,
    unipile: Faulty<dyn Unipile>,
    mailer: Faulty<dyn Mailer>,
    scheduler: Faulty<dyn RetryScheduler>,
    faulty_cipher: Faulty<dyn Cipher>,
    /// `EmailLost` as counted on this thread when the world was made.
    pub email_lost_before: u64,
}

impl TestWorld {
    pub fn new() -> Self {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("date");
        let world = MemoryWorld::at(now);
        let faults = FaultPlan::new();
        let cipher = Arc::new(LocalCipher::random().expect("key"));
        let faulty_store = Arc::new(Faulty::new(
            world.store.clone() as Arc<dyn AccountStore>,
            faults.clone(),
        ));
        let events: Arc<dyn EventPublisher> = Arc::new(FanOut::new(
            Arc::new(Faulty::new(
                world.feed.clone() as Arc<dyn EventFeed>,
                faults.clone(),
            )),
            Arc::new(Faulty::new(
                world.events.clone() as Arc<dyn EventPublisher>,
                faults.clone(),
            )),
            world.clock.clone(),
        ));
        Self {
            store: PublishingStore::new(faulty_store.clone(), events.clone()),
            faulty_store,
            events,
            unipile: Faulty::new(world.unipile.clone() as Arc<dyn Unipile>, faults.clone()),
            mailer: Faulty::new(world.mailer.clone() as Arc<dyn Mailer>, faults.clone()),
            scheduler: Faulty::new(
                world.scheduler.clone() as Arc<dyn RetryScheduler>,
                faults.clone(),
            ),
            faulty_cipher: Faulty::new(cipher.clone() as Arc<dyn Cipher>, faults.clone()),
            world,
            settings: MemoryWorld::follow_up_settings(),
            state_key: StateKey::new(STATE_KEY.to_vec()).expect("key"),
            cipher,
            faults,
            email_lost_before: crate::metrics::counted("EmailLost"),
        }
    }

    pub fn ports(&self) -> FollowUpPorts<'_> {
        FollowUpPorts {
            store: &self.store,
            unipile: &self.unipile,
            mailer: &self.mailer,
            scheduler: &self.scheduler,
            clock: self.world.clock.as_ref(),
            directory: None,
        }
    }

    fn owner() -> UserId {
        UserId::parse(OWNER).expect("user")
    }

    /// The owner's email, recorded as hosted-link records it.
    pub async fn given_the_owner_email(&self) {
        let profile = UserProfile {
            user_id: Self::owner(),
            email: Email::parse(OWNER_EMAIL).expect("email"),
            updated_at: self.world.clock.now(),
        };
        self.world
            .store
            .save_profile(&profile)
            .await
            .expect("profile");
    }

    /// An account Unipile has (in OK) and we store (OK), with the owner's email.
    pub async fn given_an_account(&self, id: &str, provider: Provider) -> AccountId {
        let id = AccountId::parse(id).expect("id");
        self.world.unipile.add_account(&id, provider.clone());
        let connection = ConnectedAccount {
            account_id: id.clone(),
            user_id: Self::owner(),
            account_type: provider,
            status: AccountStatus::Ok,
            display_name: None,
            linkedin_member_id: None,
            linkedin_profile_id: None,
        };
        self.world
            .store
            .record_connection(
                &connection,
                crate::domain::events::How::Hosted,
                self.world.clock.now(),
            )
            .await
            .expect("stored");
        self.given_the_owner_email().await;
        id
    }

    /// A LinkedIn account the extension connected, its cookie on file: CREDENTIALS starts a
    /// cookie reconnect.
    pub async fn given_a_cookie_account(&self, id: &str) -> AccountId {
        let id = AccountId::parse(id).expect("id");
        let member = LinkedinMemberId::parse(MEMBER).expect("member");
        self.world.unipile.add_account(&id, Provider::Linkedin);
        let connection = ConnectedAccount {
            account_id: id.clone(),
            user_id: Self::owner(),
            account_type: Provider::Linkedin,
            status: AccountStatus::Ok,
            display_name: None,
            linkedin_member_id: Some(member.clone()),
            linkedin_profile_id: None,
        };
        self.world
            .store
            .record_connection(
                &connection,
                crate::domain::events::How::Hosted,
                self.world.clock.now(),
            )
            .await
            .expect("stored");
        let cookies = crate::domain::cookies::LinkedinCookies {
            li_at: "AQEDAR-test-cookie".to_owned().into(),
            li_a: None,
        };
        let sealed = self
            .cipher
            .seal_cookies(&cookies, &Self::owner(), &member)
            .await
            .expect("sealed");
        let update = CookieUpdate {
            user_id: Self::owner(),
            member_id: member,
            li_at: sealed.li_at,
            li_a: sealed.li_a,
            digest: None,
            profile_id: None,
            user_agent: "Mozilla/5.0".into(),
            ip: None,
            country: None,
            expires_at: self.world.clock.now() + chrono::Duration::days(30),
        };
        self.world
            .store
            .save_cookie(&update, self.world.clock.now())
            .await
            .expect("cookie");
        self.given_the_owner_email().await;
        id
    }

    /// What Unipile says of the account from now on.
    pub fn unipile_says(&self, id: &AccountId, status: AccountStatus) {
        self.world.unipile.set_status(id, status);
    }

    /// One run of the follow-up sweeper function: its follow-ups, then the events their
    /// writers left unpublished.
    pub async fn sweeper_run(&self) -> Result<(), FlowError> {
        let swept = sweep(self.ports(), &self.settings).await;
        let published = crate::flows::events::sweep(
            self.faulty_store.as_ref(),
            self.events.as_ref(),
            self.world.clock.as_ref(),
        )
        .await;
        swept.and(published).map(|_| ())
    }

    /// A webhook delivery of `status`, whatever Unipile says now.
    pub async fn deliver(
        &self,
        id: &AccountId,
        status: AccountStatus,
    ) -> Result<WebhookOutcome, FlowError> {
        let event = UnipileEvent {
            account_id: id.clone(),
            status,
            account_type: None,
            name: None,
        };
        handle_status_event(self.ports(), &self.settings, &event).await
    }

    /// Unipile's `notify_url` call for the account (a fresh link's signed state each time).
    pub async fn notify(&self, id: &AccountId, status: &str) -> Result<CallbackOutcome, FlowError> {
        let now = self.world.clock.now();
        // The link Unipile answers: a reconnect link for this account, or a create link.
        let purpose = if status == "RECONNECTED" {
            crate::domain::LinkPurpose::Reconnect {
                account_id: id.clone(),
            }
        } else {
            crate::domain::LinkPurpose::Create
        };
        let state = self
            .state_key
            .sign(&Self::owner(), &purpose, now + Duration::minutes(45))
            .expect("signed");
        self.notify_link(id, status, &state).await
    }

    /// Unipile's `notify_url` call for the account, answering the link whose state is `state`.
    pub async fn notify_link(
        &self,
        id: &AccountId,
        status: &str,
        state: &str,
    ) -> Result<CallbackOutcome, FlowError> {
        let body = format!(r#"{{"status":"{status}","account_id":"{id}","name":"{OWNER}"}}"#);
        let ports = CallbackPorts {
            store: &self.store,
            unipile: &self.unipile,
            clock: self.world.clock.as_ref(),
            scheduler: &self.scheduler,
        };
        record_callback(ports, &self.state_key, Some(state), body.as_bytes()).await
    }

    /// The hosted-link flow's ports and settings, signing with the key the callback checks.
    pub fn link_ports(&self) -> (LinkPorts<'_>, LinkSettings) {
        let ports = LinkPorts {
            store: &self.store,
            unipile: &self.unipile,
            clock: self.world.clock.as_ref(),
        };
        let settings = LinkSettings {
            public_base_url: "https://connect.example.com/".parse().expect("url"),
            state_key: self.state_key.clone(),
            redirects: RedirectPolicy::default(),
            link_ttl: Duration::hours(1),
        };
        (ports, settings)
    }

    /// The sweeper's next run, `after` from now.
    pub async fn sweep_after(&self, after: Duration) -> SweepReport {
        self.world.clock.advance(after);
        sweep(self.ports(), &self.settings).await.expect("swept")
    }

    /// The store as the flows see it (through the fault plan).
    pub fn store_port(&self) -> &dyn AccountStore {
        &self.store
    }

    /// Unipile as the flows see it (through the fault plan).
    pub fn unipile_port(&self) -> &dyn Unipile {
        &self.unipile
    }

    /// The extension's sync as cookie-sync runs it, through the fault plan.
    pub fn cookie_sync_ports(&self) -> crate::flows::cookie_sync::CookieSyncPorts<'_> {
        crate::flows::cookie_sync::CookieSyncPorts {
            store: &self.store,
            unipile: &self.unipile,
            scheduler: &self.scheduler,
            cipher: &self.faulty_cipher,
            clock: self.world.clock.as_ref(),
        }
    }

    /// What the custom sign-in routes hold, through the fault plan.
    pub fn login_ports(&self) -> crate::flows::custom_login::LoginPorts<'_> {
        crate::flows::custom_login::LoginPorts {
            store: &self.store,
            unipile: &self.unipile,
            scheduler: Some(&self.scheduler),
            clock: self.world.clock.as_ref(),
        }
    }

    /// The hourly reconciliation's view, through the fault plan.
    pub fn reconcile_ports(&self) -> crate::flows::account_reconciler::ReconcilePorts<'_> {
        crate::flows::account_reconciler::ReconcilePorts {
            store: &self.store,
            unipile: &self.unipile,
            clock: self.world.clock.as_ref(),
        }
    }

    pub fn reconnect_ports(&self) -> ReconnectPorts<'_> {
        ReconnectPorts {
            follow_ups: self.ports(),
            cipher: &self.faulty_cipher,
        }
    }

    /// Runs `attempt` as Scheduler would deliver it.
    pub async fn run_attempt(&self, attempt: &ReconnectAttempt) -> AttemptOutcome {
        run_attempt(self.reconnect_ports(), &self.settings, attempt)
            .await
            .expect("the attempt ran")
    }

    /// A cookie account in CREDENTIALS whose reconnect waits for `attempt` (the earlier ones
    /// failed at LinkedIn); Unipile still says CREDENTIALS and would take the cookie now.
    /// Returns the account and its outage.
    pub async fn linkedin_reconnect_waiting_at(&self, attempt: u32) -> (AccountId, String) {
        let id = self.given_a_cookie_account("acc-dead-letter").await;
        self.unipile_says(&id, AccountStatus::Credentials);
        self.deliver(&id, AccountStatus::Credentials)
            .await
            .expect("delivered");
        let refused = || {
            crate::adapters::memory::CookieOutcome::Fail(crate::ports::UnipileError::Api {
                status: 500,
                error_type: crate::ports::UnipileErrorType::from("errors/provider_error"),
                title: "provider error".into(),
                detail: None,
            })
        };
        self.world
            .unipile
            .script_cookie_outcomes((0..attempt).map(|_| refused()));
        for _ in 0..attempt {
            self.fire_next_schedule()
                .await
                .expect("an attempt scheduled");
        }
        let account = self.account(&id).await;
        let waiting = account.cookie_reconnect.as_ref().map(|s| s.next_attempt);
        assert_eq!(waiting, Some(attempt), "the reconnect waits for {attempt}");
        let outage = account.outage_id().expect("an outage").to_owned();
        (id, outage)
    }

    /// The next schedule, run at its time (the clock moves there).
    pub async fn fire_next_schedule(&self) -> Option<(PendingSchedule, AttemptOutcome)> {
        let next = self
            .world
            .scheduler
            .take_next_due(self.world.clock.now() + Duration::days(1))?;
        let now = self.world.clock.now();
        if next.at > now {
            self.world.clock.advance(next.at - now);
        }
        let outcome = self.run_attempt(&next.input).await;
        Some((next, outcome))
    }

    pub async fn account(&self, id: &AccountId) -> Account {
        self.world
            .store
            .get_account(id)
            .await
            .expect("store")
            .expect("stored")
    }

    pub fn emails(&self) -> usize {
        self.world.mailer.sent().len()
    }
}
