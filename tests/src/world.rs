//! A test's world: its own DynamoDB table in moto, its own Unipile simulator, and the three
//! functions wired to both exactly as their `main`s wire them in AWS.

use accounts::Accounts;
use connect_callback::ConnectCallback;
use hosted_link::HostedLink;
use local_stack::simulator::Simulator;
use status_webhook::StatusWebhook;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use unipile_connect::adapters::clock::SystemClock;
use unipile_connect::adapters::dynamodb::{DynamoStore, create_table};
use unipile_connect::adapters::ses::SesMailer;
use unipile_connect::adapters::unipile::{HttpUnipile, UnipileDsn, UnipileSettings};
use unipile_connect::config;
use unipile_connect::deps::Deps;
use unipile_connect::domain::notification::ReconnectLink;
use unipile_connect::domain::transitions::TransitionPolicy;
use unipile_connect::domain::{AccountId, Email, Provider, RedirectPolicy, UserId};
use unipile_connect::flows::hosted_link::LinkSettings;
use unipile_connect::flows::status_webhook::WebhookSettings;
use unipile_connect::http::{ClaimNames, DEFAULT_WEBHOOK_HEADER, StateKey, WebhookSecret};
use unipile_connect::ports::{AccountStore, ConnectedAccount, UserProfile};

pub const API_KEY: &str = "sk_test_unipile_key_never_logged";
pub const STATE_KEY: &str = "state-signing-key-never-logged-0123456789";
pub const PUBLIC_BASE_URL: &str = "https://callback.example.com/";
pub const APP_ORIGIN: &str = "https://app.example.com";
pub const WEBHOOK_SECRET: &str = "webhook-secret-never-logged-42";

pub struct World {
    pub moto_endpoint: String,
    pub table: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub simulator: Simulator,
    pub simulator_url: String,
    pub hosted_link: HostedLink,
    pub connect_callback: ConnectCallback,
    pub accounts: Accounts,
    pub status_webhook: StatusWebhook,
    pub ses: aws_sdk_sesv2::Client,
    pub store: Arc<DynamoStore>,
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

impl World {
    pub async fn new() -> Self {
        crate::logs::captured();
        let moto_endpoint = crate::moto::endpoint();
        let table = unique("accounts");
        let env = aws_env(&moto_endpoint, &table);
        let dynamodb = aws_sdk_dynamodb::Client::new(&config::aws_sdk_config(&env).await);
        create_table(&dynamodb, &table)
            .await
            .expect("table created in moto");

        let simulator = Simulator::new(API_KEY);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let simulator_url = format!("http://{}", listener.local_addr().expect("bound address"));
        let router = simulator.router();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });

        let unipile = HttpUnipile::new(UnipileSettings {
            dsn: UnipileDsn::parse(&simulator_url).expect("simulator URL"),
            api_key: API_KEY.to_owned().into(),
            timeout: Duration::from_secs(5),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(1),
        })
        .expect("HTTP client");
        let store = Arc::new(DynamoStore::new(dynamodb.clone(), table.clone()));
        let deps = Deps {
            store: store.clone(),
            unipile: Arc::new(unipile),
            clock: Arc::new(SystemClock),
        };
        let ses = aws_sdk_sesv2::Client::new(&config::aws_sdk_config(&env).await);
        let sender = format!("{}@example.com", unique("noreply"));
        ses.create_email_identity()
            .email_identity(&sender)
            .send()
            .await
            .expect("sender verified in moto");
        let state_key = StateKey::new(STATE_KEY.as_bytes().to_vec()).expect("long enough");
        Self {
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
            },
            accounts: Accounts {
                deps: deps.clone(),
                claims: ClaimNames::default(),
            },
            status_webhook: StatusWebhook {
                deps,
                mailer: Arc::new(SesMailer::new(ses.clone(), sender, None)),
                secret: WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(WEBHOOK_SECRET))
                    .expect("secret"),
                settings: WebhookSettings {
                    policy: TransitionPolicy::default(),
                    reconnect_link: ReconnectLink {
                        app_base_url: APP_ORIGIN.parse().expect("URL"),
                        path: "/accounts?reconnect={account_id}".into(),
                    },
                },
            },
            ses,
            store,
            moto_endpoint,
            table,
            dynamodb,
            simulator,
            simulator_url,
            server,
        }
    }

    /// An account connected by `user` (whose email is `<user>@example.com`), known to both
    /// the simulator and the table, in status OK.
    pub async fn connected_account(&self, user: &str, provider: &str) -> AccountId {
        let sim_account = self.simulator.add_account(provider, "Jane Doe");
        let account_id = AccountId::parse(sim_account.id).expect("id");
        let user_id = UserId::parse(user).expect("user");
        let connection = ConnectedAccount {
            account_id: account_id.clone(),
            user_id: user_id.clone(),
            account_type: Provider::from(provider),
            status: unipile_connect::domain::AccountStatus::Ok,
            display_name: Some("Jane Doe".into()),
        };
        self.store
            .record_connection(&connection, chrono::Utc::now())
            .await
            .expect("stored");
        let profile = UserProfile {
            user_id,
            email: Email::parse(format!("{user}@example.com")).expect("email"),
            updated_at: chrono::Utc::now(),
        };
        self.store
            .save_profile(&profile)
            .await
            .expect("profile stored");
        account_id
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
}
