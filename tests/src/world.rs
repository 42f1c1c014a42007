//! A test's world: its own DynamoDB table, KMS key, schedule group and sender in moto, its own
//! Unipile simulator, and every function wired to them exactly as their `main`s wire them in
//! AWS (real aws-sdk clients), sharing one clock the test can move.

use crate::aws_calls::AwsCalls;
use account_reconciler::AccountReconciler;
use accounts::Accounts;
use connect_callback::ConnectCallback;
use cookie_sync::CookieSync;
use follow_up_sweeper::FollowUpSweeper;
use hosted_link::HostedLink;
use local_stack::simulator::Simulator;
use reconnect_retry::ReconnectRetry;
use status_webhook::StatusWebhook;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use unipile_connect::adapters::cipher::KmsCipher;
use unipile_connect::adapters::clock::ManualClock;
use unipile_connect::adapters::dynamodb::{DynamoFeed, DynamoStore, create_table};
use unipile_connect::adapters::scheduler::{EventBridgeScheduler, SchedulerSettings};
use unipile_connect::adapters::ses::SesMailer;
use unipile_connect::adapters::unipile::{HttpUnipile, UnipileDsn, UnipileSettings};
use unipile_connect::config;
use unipile_connect::deps::{Deps, FollowUpDeps};
use unipile_connect::domain::notification::ReconnectLink;
use unipile_connect::domain::transitions::TransitionPolicy;
use unipile_connect::domain::{AccountId, AccountStatus, Email, Provider, RedirectPolicy, UserId};
use unipile_connect::flows::account_reconciler::ReconcileSettings;
use unipile_connect::flows::cookie_sync::CookieSettings;
use unipile_connect::flows::follow_ups::FollowUpSettings;
use unipile_connect::flows::hosted_link::LinkSettings;
use unipile_connect::http::{ClaimNames, DEFAULT_WEBHOOK_HEADER, StateKey, WebhookSecret};
use unipile_connect::ports::{AccountStore, ConnectedAccount, UserProfile};

pub const API_KEY: &str = "sk_test_unipile_key_never_logged";
pub const STATE_KEY: &str = "state-signing-key-never-logged-0123456789";
pub const PUBLIC_BASE_URL: &str = "https://callback.example.com/";
pub const APP_ORIGIN: &str = "https://app.example.com";
pub const WEBHOOK_SECRET: &str = "webhook-secret-never-logged-0123456789";
pub const RECONNECT_FUNCTION_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:reconnect-retry";
pub const CONNECT_THROTTLE: chrono::Duration = chrono::Duration::seconds(300);

pub struct World {
    /// Every AWS call made through the world's clients (the functions' and the test's own).
    pub aws_calls: AwsCalls,
    pub moto_endpoint: String,
    pub table: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ses: aws_sdk_sesv2::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    pub schedule_group: String,
    pub store: Arc<DynamoStore>,
    /// The event feed every publication writes first, on the same table.
    pub feed: Arc<DynamoFeed>,
    /// The bus the functions publish to, with a queue subscribed to it.
    pub events: crate::event_bus::EventBusTap,
    pub clock: Arc<ManualClock>,
    pub simulator: Simulator,
    pub simulator_url: String,
    pub hosted_link: HostedLink,
    pub connect_callback: ConnectCallback,
    pub accounts: Accounts,
    pub status_webhook: StatusWebhook,
    pub cookie_sync: CookieSync,
    pub reconnect_retry: ReconnectRetry,
    pub account_reconciler: AccountReconciler,
    pub follow_up_sweeper: FollowUpSweeper,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A name no other test of this run uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The environment a function would see, pointing at this world's moto and table.
pub fn aws_env(moto_endpoint: &str, table: &str) -> HashMap<String, String> {
    HashMap::from([
        ("AWS_ENDPOINT_URL".to_owned(), moto_endpoint.to_owned()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("TABLE_NAME".to_owned(), table.to_owned()),
    ])
}

/// A Unipile simulator of its own on a free port: its handle, base URL and server task.
pub async fn start_simulator() -> (Simulator, String, tokio::task::JoinHandle<()>) {
    let simulator = Simulator::new(API_KEY);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    let router = simulator.router();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (simulator, url, server)
}

impl World {
    pub async fn new() -> Self {
        crate::logs::captured();
        let moto_endpoint = crate::moto::endpoint();
        let table = unique("accounts");
        let env = aws_env(&moto_endpoint, &table);
        let aws = config::aws_sdk_config(&env).await;
        let aws_calls = AwsCalls::default();
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&aws)
                .interceptor(aws_calls.interceptor())
                .build(),
        );
        create_table(&dynamodb, &table)
            .await
            .expect("table created in moto");
        let ses = aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::config::Builder::from(&aws)
                .interceptor(aws_calls.interceptor())
                .build(),
        );
        let sender = format!("{}@example.com", unique("noreply"));
        ses.create_email_identity()
            .email_identity(&sender)
            .send()
            .await
            .expect("sender verified in moto");
        let kms = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&aws)
                .interceptor(aws_calls.interceptor())
                .build(),
        );
        let key = kms
            .create_key()
            .description("extension cookies")
            .send()
            .await
            .expect("KMS key");
        let key_id = key
            .key_metadata()
            .map(|m| m.key_id().to_owned())
            .expect("key id");
        let digest_key_id = kms
            .create_key()
            .description("extension cookie digests")
            .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
            .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
            .send()
            .await
            .expect("KMS HMAC key")
            .key_metadata()
            .map(|m| m.key_id().to_owned())
            .expect("key id");
        let scheduler = aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(&aws)
                .interceptor(aws_calls.interceptor())
                .build(),
        );
        // moto answers 500 for a schedule in a group that does not exist: create it first.
        let schedule_group = unique("reconnects");
        scheduler
            .create_schedule_group()
            .name(&schedule_group)
            .send()
            .await
            .expect("schedule group");

        let (simulator, simulator_url, server) = start_simulator().await;
        let unipile = HttpUnipile::new(UnipileSettings {
            dsn: UnipileDsn::parse(&simulator_url).expect("simulator URL"),
            api_key: API_KEY.to_owned().into(),
            timeout: Duration::from_secs(5),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(1),
            retry_budget: Duration::from_secs(10),
        })
        .expect("HTTP client");
        // Small scan pages: every reconciliation here reads the table in several, as a large
        // table is read.
        let store =
            Arc::new(DynamoStore::new(dynamodb.clone(), table.clone()).with_scan_page_items(5));
        let clock = Arc::new(ManualClock::at(chrono::Utc::now()));
        let events = crate::event_bus::EventBusTap::create(&aws, &aws_calls).await;
        let feed = Arc::new(DynamoFeed::new(dynamodb.clone(), table.clone()));
        let deps = Deps::publishing(
            store.clone(),
            feed.clone(),
            events.publisher(),
            Arc::new(unipile),
            clock.clone(),
        );
        let mailer = Arc::new(SesMailer::new(ses.clone(), sender, None));
        let retry_scheduler = Arc::new(EventBridgeScheduler::new(
            scheduler.clone(),
            SchedulerSettings {
                group: schedule_group.clone(),
                target_arn: RECONNECT_FUNCTION_ARN.to_owned(),
                role_arn: "arn:aws:iam::123456789012:role/unipile-connect-scheduler".to_owned(),
                dead_letter_arn: Some(
                    "arn:aws:sqs:us-east-1:123456789012:reconnect-dlq".to_owned(),
                ),
            },
            clock.clone(),
        ));
        let cipher = Arc::new(KmsCipher::new(kms, key_id).with_digest_key(digest_key_id));
        let follow_ups = FollowUpSettings {
            policy: TransitionPolicy::default(),
            reconnect_link: ReconnectLink {
                app_base_url: APP_ORIGIN.parse().expect("URL"),
                path: "/accounts?reconnect={account_id}".into(),
            },
            stale_cookie_after: chrono::Duration::hours(24),
        };
        let follow_up_deps = FollowUpDeps {
            deps: deps.clone(),
            mailer,
            scheduler: retry_scheduler.clone(),
            directory: None,
            settings: follow_ups,
        };
        let state_key = StateKey::new(STATE_KEY.as_bytes().to_vec()).expect("long enough");
        Self {
            aws_calls,
            hosted_link: HostedLink {
                deps: deps.clone(),
                settings: LinkSettings {
                    public_base_url: PUBLIC_BASE_URL.parse().expect("URL"),
                    state_key: state_key.clone(),
                    redirects: RedirectPolicy::parse(APP_ORIGIN).expect("origin"),
                    link_ttl: chrono::Duration::minutes(30),
                },
                claims: ClaimNames::default(),
            },
            connect_callback: ConnectCallback {
                deps: deps.clone(),
                state_key,
                scheduler: retry_scheduler.clone(),
            },
            accounts: Accounts {
                deps: deps.clone(),
                claims: ClaimNames::default(),
                attempt_limit: Default::default(),
            },
            status_webhook: StatusWebhook {
                follow_ups: follow_up_deps.clone(),
                secret: WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(WEBHOOK_SECRET))
                    .expect("secret")
                    .into(),
            },
            cookie_sync: CookieSync {
                deps: deps.clone(),
                scheduler: retry_scheduler.clone(),
                cipher: cipher.clone(),
                settings: CookieSettings {
                    cookie_ttl: chrono::Duration::days(30),
                    connect_throttle: CONNECT_THROTTLE,
                    max_linkedin_identities: 3,
                },
                claims: ClaimNames::default(),
            },
            account_reconciler: AccountReconciler {
                deps: deps.clone(),
                settings: ReconcileSettings::default(),
            },
            reconnect_retry: ReconnectRetry {
                follow_ups: follow_up_deps.clone(),
                cipher,
            },
            follow_up_sweeper: FollowUpSweeper {
                follow_ups: follow_up_deps,
            },
            moto_endpoint,
            table,
            dynamodb,
            ses,
            scheduler,
            schedule_group,
            store,
            feed,
            events,
            clock,
            simulator,
            simulator_url,
            server,
        }
    }

    /// The stored account `id`; it must exist.
    pub async fn account(&self, id: &AccountId) -> unipile_connect::domain::Account {
        self.store
            .get_account(id)
            .await
            .expect("the table answers")
            .expect("the account is stored")
    }

    /// `POST /accounts/link` with `body`, as `user`.
    pub async fn request_link(
        &self,
        user: &str,
        body: &str,
    ) -> lambda_http::Response<lambda_http::Body> {
        let request = crate::requests::api("POST", "/accounts/link", user, Some(body));
        hosted_link::handler(&self.hosted_link, request)
            .await
            .expect("handled")
    }

    /// `user` asks for a create link to any provider and picks `provider` on the hosted
    /// page: what Unipile then sends to `notify_url`, not yet handled.
    pub async fn hosted_connect(
        &self,
        user: &str,
        provider: &str,
    ) -> local_stack::simulator::NotifyDelivery {
        let response = self
            .request_link(user, r#"{"type":"create","providers":"*"}"#)
            .await;
        assert_eq!(response.status(), 200);
        let url = crate::requests::json(&response)["url"]
            .as_str()
            .expect("url")
            .to_owned();
        let submitted = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("provider={provider}&outcome=connect"))
            .send()
            .await
            .expect("hosted page answers");
        assert!(submitted.status().is_success() || submitted.status().is_redirection());
        self.simulator
            .notifications()
            .pop()
            .expect("Unipile called notify_url")
    }

    /// An account connected by `user` (whose email is `<user>@example.com`), known to both
    /// the simulator and the table, in status OK.
    pub async fn connected_account(&self, user: &str, provider: &str) -> AccountId {
        let account_id = self.connected_account_without_email(user, provider).await;
        self.record_email(user).await;
        account_id
    }

    /// The same, with no email recorded for `user` (their token carried none).
    pub async fn connected_account_without_email(&self, user: &str, provider: &str) -> AccountId {
        let sim_account = self.simulator.add_account(provider, "Jane Doe");
        let account_id = AccountId::parse(sim_account.id).expect("id");
        let connection = ConnectedAccount {
            account_id: account_id.clone(),
            user_id: UserId::parse(user).expect("user"),
            account_type: Provider::from(provider),
            status: AccountStatus::Ok,
            display_name: Some("Jane Doe".into()),
            linkedin_member_id: None,
            linkedin_profile_id: None,
        };
        self.store
            .record_connection(
                &connection,
                unipile_connect::domain::events::How::Hosted,
                chrono::Utc::now(),
            )
            .await
            .expect("stored");
        account_id
    }

    /// Records `<user>@example.com` as where `user` is told about their accounts.
    pub async fn record_email(&self, user: &str) {
        let profile = UserProfile {
            user_id: UserId::parse(user).expect("user"),
            email: Email::parse(format!("{user}@example.com")).expect("email"),
            updated_at: chrono::Utc::now(),
        };
        self.store
            .save_profile(&profile)
            .await
            .expect("profile stored");
    }

    /// How many items the table holds: to prove that a refused request wrote nothing.
    pub async fn item_count(&self) -> usize {
        let output = self
            .dynamodb
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .expect("scan");
        output.items.map_or(0, |items| items.len())
    }

    /// The schedules in this world's group: (name, expression, input), sorted by name.
    pub async fn schedules(&self) -> Vec<(String, String, serde_json::Value)> {
        let listed = self
            .scheduler
            .list_schedules()
            .group_name(&self.schedule_group)
            .send()
            .await
            .expect("list schedules");
        let mut schedules = Vec::new();
        for summary in listed.schedules() {
            let name = summary.name().unwrap_or_default().to_owned();
            let schedule = self
                .scheduler
                .get_schedule()
                .name(&name)
                .group_name(&self.schedule_group)
                .send()
                .await
                .expect("get schedule");
            let input = schedule.target().and_then(|t| t.input()).unwrap_or("null");
            schedules.push((
                name,
                schedule
                    .schedule_expression()
                    .unwrap_or_default()
                    .to_owned(),
                serde_json::from_str(input).expect("JSON input"),
            ));
        }
        schedules.sort_by(|a, b| a.0.cmp(&b.0));
        schedules
    }
}
