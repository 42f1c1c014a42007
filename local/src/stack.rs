//! Wiring for the local stack: which adapters to use (in-memory and the built-in simulator by
//! default; DynamoDB and a real Unipile when the environment says so) and the routes.

use crate::backend::Backend;
use crate::bridge::{from_lambda, to_lambda};
use crate::event_webhooks::LocalWebhooks;
use crate::jwt::{DEFAULT_LOCAL_JWT_SECRET, LocalAuthorizer};
use crate::simulator::{DEFAULT_API_KEY, Simulator};
use account_reconciler::AccountReconciler;
use accounts::Accounts;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use connect_callback::ConnectCallback;
use cookie_sync::CookieSync;
use follow_up_sweeper::FollowUpSweeper;
use hosted_link::HostedLink;
use lambda_http::RequestExt;
use reconnect_retry::ReconnectRetry;
use status_webhook::StatusWebhook;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use unipile_connect::adapters::cipher::LocalCipher;
use unipile_connect::adapters::clock::OffsetClock;
use unipile_connect::adapters::dynamodb::{DynamoFeed, DynamoStore, create_table};
use unipile_connect::adapters::memory::{MemoryEvents, MemoryFeed, MemoryMailer, MemoryStore};
use unipile_connect::adapters::scheduler::MemoryScheduler;
use unipile_connect::adapters::ses::SesMailer;
use unipile_connect::adapters::unipile::HttpUnipile;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::{Deps, FollowUpDeps};
use unipile_connect::domain::webhook::{WebhookRegistration, WebhookUrl};
use unipile_connect::http::{Problem, with_jwt_claims};
use unipile_connect::ports::{AccountStore, Clock, EventFeed, Mailer};

/// The webhook secret the local stack expects unless `UNIPILE_WEBHOOK_SECRET` is set: as long
/// as `webhook-setup` asks of any secret it registers (32 characters or more).
pub const DEFAULT_LOCAL_WEBHOOK_SECRET: &str = "local-webhook-secret-0123456789abcdef";

pub const DEFAULT_PORT: u16 = 8787;
/// The user the start-up token is minted for.
pub const DEMO_USER: &str = "demo-user";
pub const DEMO_EMAIL: &str = "demo@example.com";

/// A running local stack.
pub struct LocalStack {
    pub base_url: String,
    pub address: SocketAddr,
    /// The built-in simulator, unless `UNIPILE_DSN` pointed elsewhere.
    pub simulator: Option<Simulator>,
    pub authorizer: LocalAuthorizer,
    /// What the store is, for the start-up banner.
    pub store_description: String,
    /// The emails sent, unless `MAIL_FROM` switched to SES.
    pub mailbox: Option<Arc<MemoryMailer>>,
    /// The lifecycle events published, listed at `/_local/events`.
    pub events: Arc<MemoryEvents>,
    /// Whether anything real is configured (then no token is minted here, and neither the
    /// clock nor the simulator is served).
    pub backend: Backend,
    /// The store, unless `TABLE_NAME` switched to DynamoDB.
    memory_store: Option<Arc<MemoryStore>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct App {
    hosted_link: Arc<HostedLink>,
    connect_callback: Arc<ConnectCallback>,
    accounts: Arc<Accounts>,
    status_webhook: Arc<StatusWebhook>,
    cookie_sync: Arc<CookieSync>,
    reconnect_retry: Arc<ReconnectRetry>,
    follow_up_sweeper: Arc<FollowUpSweeper>,
    account_reconciler: Arc<AccountReconciler>,
    /// When the hourly reconciliation next runs on the virtual clock.
    next_reconciliation: Arc<std::sync::Mutex<chrono::DateTime<chrono::Utc>>>,
    scheduler: Arc<MemoryScheduler>,
    clock: Arc<OffsetClock>,
    mailbox: Option<Arc<MemoryMailer>>,
    events: Arc<MemoryEvents>,
    /// The team's signed webhooks, when `EVENTS_WEBHOOK_URL` is set.
    webhooks: Option<Arc<LocalWebhooks>>,
    authorizer: LocalAuthorizer,
}

/// What the local stack reads: the process environment, with local defaults filled in.
struct LocalEnv(HashMap<String, String>);

impl EnvSource for LocalEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn random_key() -> String {
    let mut bytes = [0u8; 32];
    // Without randomness the stack still starts; the key only protects local callbacks.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl LocalStack {
    /// Binds `127.0.0.1:port` (0 for any free port) and serves every function there. `env`
    /// is the environment to read settings from (the process's, or a test's own map).
    pub async fn start(port: u16, env: HashMap<String, String>) -> Result<Self, String> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let base_url = format!("http://{address}");

        let mut settings = env;
        // Decided on what the caller configured, before the local defaults are filled in.
        let backend = Backend::of(&settings);
        backend.check(&settings)?;
        let simulator = if settings.contains_key("UNIPILE_DSN") {
            None
        } else {
            let key = settings
                .entry("UNIPILE_API_KEY".into())
                .or_insert_with(|| DEFAULT_API_KEY.into())
                .clone();
            settings.insert("UNIPILE_DSN".into(), base_url.clone());
            Some(Simulator::new(&key))
        };
        settings
            .entry("PUBLIC_BASE_URL".into())
            .or_insert_with(|| base_url.clone());
        settings
            .entry("STATE_SIGNING_KEY".into())
            .or_insert_with(random_key);
        settings
            .entry("ALLOWED_REDIRECT_ORIGINS".into())
            .or_insert_with(|| format!("{base_url},http://localhost:{}", address.port()));
        settings
            .entry("UNIPILE_WEBHOOK_SECRET".into())
            .or_insert_with(|| DEFAULT_LOCAL_WEBHOOK_SECRET.into());
        settings
            .entry("APP_BASE_URL".into())
            .or_insert_with(|| base_url.clone());
        // The landing page reconnects the account named in `?reconnect=`.
        settings
            .entry("RECONNECT_PATH".into())
            .or_insert_with(|| "/?reconnect={account_id}".into());
        let authorizer = LocalAuthorizer::new(
            settings
                .get("LOCAL_JWT_SECRET")
                .map_or(DEFAULT_LOCAL_JWT_SECRET, String::as_str),
        );
        let env = LocalEnv(settings);
        // One virtual clock for every function, so /_local/clock/advance moves them all.
        let clock = Arc::new(OffsetClock::new());
        let scheduler = Arc::new(MemoryScheduler::new());
        let cipher = Arc::new(LocalCipher::random().map_err(|e| e.to_string())?);
        let events = Arc::new(MemoryEvents::new());
        let (deps, store_description, memory_store) =
            local_deps(&env, clock.clone(), events.clone())
                .await
                .map_err(|e| e.to_string())?;
        let (mailer, mailbox) = local_mailer(&env).await.map_err(|e| e.to_string())?;
        let webhooks = LocalWebhooks::from_env(&env, events.clone(), clock.clone())
            .map_err(|e| e.to_string())?
            .map(Arc::new);
        let webhook_secret = config::webhook_secret(&env).map_err(|e| e.to_string())?;
        if let (Some(simulator), Some(secret)) = (&simulator, env.var("UNIPILE_WEBHOOK_SECRET")) {
            // What webhook set-up does against a real tenant: point account_status at us,
            // with the same refusals (a secret under 32 characters, plain http off this
            // machine).
            let url = format!("{base_url}/unipile/webhook");
            let auth = config::webhook_auth(&env).map_err(|e| e.to_string())?;
            let request_url = WebhookUrl::parse(&url).map_err(|e| e.to_string())?;
            WebhookRegistration::new(request_url, None, auth).map_err(|e| e.to_string())?;
            simulator.register_webhook(
                "account_status",
                &url,
                &[
                    ("Content-Type", "application/json"),
                    (webhook_secret.header_name(), &secret),
                ],
            );
        }

        let follow_up_deps = FollowUpDeps {
            deps: deps.clone(),
            mailer,
            scheduler: scheduler.clone(),
            // Users of the local stack are its own tokens' users: their email is recorded.
            directory: None,
            settings: config::follow_up_settings(&env).map_err(|e| e.to_string())?,
        };
        let app = App {
            hosted_link: Arc::new(HostedLink {
                deps: deps.clone(),
                settings: config::link_settings(&env).map_err(|e| e.to_string())?,
                claims: config::claim_names(&env),
            }),
            connect_callback: Arc::new(ConnectCallback {
                deps: deps.clone(),
                state_key: config::state_key(&env).map_err(|e| e.to_string())?,
                scheduler: scheduler.clone(),
            }),
            accounts: Arc::new(Accounts {
                deps: deps.clone(),
                claims: config::claim_names(&env),
                attempt_limit: config::connect_attempt_limit(&env).map_err(|e| e.to_string())?,
            }),
            status_webhook: Arc::new(StatusWebhook {
                follow_ups: follow_up_deps.clone(),
                secret: webhook_secret.into(),
            }),
            cookie_sync: Arc::new(CookieSync {
                deps: deps.clone(),
                scheduler: scheduler.clone(),
                cipher: cipher.clone(),
                settings: config::cookie_settings(&env).map_err(|e| e.to_string())?,
                claims: config::claim_names(&env),
            }),
            reconnect_retry: Arc::new(ReconnectRetry {
                follow_ups: follow_up_deps.clone(),
                cipher,
            }),
            follow_up_sweeper: Arc::new(FollowUpSweeper {
                follow_ups: follow_up_deps,
            }),
            account_reconciler: Arc::new(AccountReconciler {
                deps: deps.clone(),
                settings: config::reconcile_settings(&env).map_err(|e| e.to_string())?,
            }),
            next_reconciliation: Arc::new(std::sync::Mutex::new(
                deps.clock.now() + chrono::Duration::hours(1),
            )),
            scheduler,
            clock,
            mailbox: mailbox.clone(),
            events: events.clone(),
            webhooks,
            authorizer: authorizer.clone(),
        };
        let jobs = app.clone();
        let mut router = Router::new()
            .route(
                "/_local/health",
                get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
            )
            .route("/", get(crate::landing_page::landing_page))
            .route("/accounts/link", any(hosted_link_route))
            .route("/accounts", any(accounts_route))
            .route("/accounts/{id}", any(accounts_route))
            .route("/accounts/connect/{step}", any(accounts_route))
            .route("/service/accounts", any(service_accounts_route))
            .route(
                "/service/accounts/{account_id}",
                any(service_accounts_route),
            )
            .route("/service/links", any(service_links_route))
            .route("/service/events", any(service_accounts_route))
            .route("/unipile/notify", any(notify_route))
            .route("/unipile/webhook", any(webhook_route))
            .route("/_local/emails", get(emails))
            .route("/_local/events", get(published_events))
            .route("/_local/webhooks", get(webhooks_status))
            .route(
                "/_local/webhooks/dead-letters/{action}",
                post(webhook_dead_letters),
            )
            .route("/_local/mail", get(mail))
            .route("/extension/cookies", any(extension_route))
            .route("/extension/checkpoint", any(extension_route))
            .route("/extension/identities", any(extension_route))
            .route("/extension/identities/{member_id}", any(extension_route))
            .route("/_local/schedules", get(schedules))
            .route("/web/{*file}", any(web_route))
            .route("/openapi.yaml", get(openapi))
            .route("/events/{file}", get(event_schema));
        // A playground's helpers: with anything real configured, tokens come only from whoever
        // holds LOCAL_JWT_SECRET, and time is the real one.
        if backend.is_local() {
            router = router
                .route("/_local/token", get(mint_token))
                .route("/_local/clock/advance", post(advance_clock));
        }
        let mut router = router.with_state(app);
        if let Some(simulator) = &simulator {
            router = router.merge(simulator.router());
        }
        let router = router.layer(axum::middleware::from_fn_with_state(
            crate::host_guard::AllowedHosts::for_port(address.port()),
            crate::host_guard::refuse_foreign_hosts,
        ));
        // The sweeper's 5-minute schedule and the hourly reconciliation, in real time (the
        // virtual clock's advance runs them too): recorded follow-ups are finished without
        // waiting for a later delivery, and a status Unipile stopped delivering is found.
        // Webhooks go out within a second of their event, as the queue hands them over on
        // AWS; retries wait for their time on the virtual clock.
        let webhook_runs = jobs.webhooks.clone().map(|webhooks| {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
                loop {
                    every.tick().await;
                    webhooks.run().await;
                }
            })
        });
        let task = tokio::spawn(async move {
            let sweeps = tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
                loop {
                    every.tick().await;
                    run_reconciliation_if_due(&jobs).await;
                    if let Err(error) =
                        follow_up_sweeper::handler(&jobs.follow_up_sweeper, serde_json::json!({}))
                            .await
                    {
                        tracing::warn!(%error, "follow-up sweep failed");
                    }
                }
            });
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "local stack stopped");
            }
            sweeps.abort();
            if let Some(runs) = webhook_runs {
                runs.abort();
            }
        });
        Ok(Self {
            base_url,
            address,
            simulator,
            authorizer,
            store_description,
            mailbox,
            events,
            backend,
            memory_store,
            task,
        })
    }

    /// How many items the in-memory store holds (`None` on DynamoDB): a test compares it
    /// before and after a refused request to show that nothing was written.
    pub fn item_count(&self) -> Option<usize> {
        self.memory_store.as_ref().map(|store| store.item_count())
    }

    /// Every item the store holds, one line each, sorted (see [`MemoryStore::contents`]),
    /// unless `TABLE_NAME` switched to DynamoDB.
    pub fn store_contents(&self) -> Option<Vec<String>> {
        self.memory_store.as_ref().map(|store| store.contents())
    }

    /// A token for the demo user, valid for 30 days; none with a real backend (its tokens are
    /// the team's to sign with `LOCAL_JWT_SECRET`).
    pub fn demo_token(&self) -> Result<String, String> {
        if !self.backend.is_local() {
            return Err(
                "no demo token with a real backend: sign your own with LOCAL_JWT_SECRET".into(),
            );
        }
        self.authorizer
            .mint(DEMO_USER, Some(DEMO_EMAIL), chrono::Duration::days(30))
    }

    /// Serves until the task ends (the binary's main loop).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// DynamoDB when `TABLE_NAME` is set (creating the table only on an emulator, named by
/// `AWS_ENDPOINT_URL`), for the store and the event feed; memory otherwise, the store handed
/// back too so that tests can count its items.
/// Unipile over HTTP either way: the built-in simulator's address or the configured DSN.
async fn local_deps(
    env: &LocalEnv,
    clock: Arc<OffsetClock>,
    events: Arc<MemoryEvents>,
) -> Result<(Deps, String, Option<Arc<MemoryStore>>), ConfigError> {
    let unipile =
        HttpUnipile::new(config::unipile_settings(env)?).map_err(|e| ConfigError::Invalid {
            var: "UNIPILE_DSN",
            reason: e.to_string(),
        })?;
    let mut memory = None;
    let (store, feed, description): (Arc<dyn AccountStore>, Arc<dyn EventFeed>, String) =
        match env.var("TABLE_NAME") {
            Some(table) => {
                let aws = config::aws_sdk_config(env).await;
                let client = aws_sdk_dynamodb::Client::new(&aws);
                if env.var("AWS_ENDPOINT_URL").is_some() {
                    create_table(&client, &table)
                        .await
                        .map_err(|e| ConfigError::Invalid {
                            var: "TABLE_NAME",
                            reason: e.to_string(),
                        })?;
                }
                (
                    Arc::new(DynamoStore::new(client.clone(), table.clone())),
                    Arc::new(DynamoFeed::new(client, table.clone())),
                    format!("DynamoDB table {table}"),
                )
            }
            None => {
                let store = Arc::new(MemoryStore::new());
                memory = Some(store.clone());
                (store, Arc::new(MemoryFeed::new()), "in memory".to_owned())
            }
        };
    Ok((
        Deps::publishing(store, feed, events, Arc::new(unipile), clock),
        description,
        memory,
    ))
}

/// SES when `MAIL_FROM` is set; otherwise a mailbox in memory, listed at `/_local/emails`.
async fn local_mailer(
    env: &LocalEnv,
) -> Result<(Arc<dyn Mailer>, Option<Arc<MemoryMailer>>), ConfigError> {
    if env.var("MAIL_FROM").is_none() {
        let mailbox = Arc::new(MemoryMailer::new());
        return Ok((mailbox.clone(), Some(mailbox)));
    }
    let (from, configuration_set) = config::mail_from(env)?;
    let client = unipile_connect::adapters::ses::client(&config::aws_sdk_config(env).await);
    Ok((
        Arc::new(SesMailer::new(client, from, configuration_set)),
        None,
    ))
}

/// API Gateway's part: verify the bearer token, pass the claims on, or answer 401.
async fn authorized(
    app: &App,
    request: axum::extract::Request,
) -> Result<lambda_http::Request, Response> {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let claims = app
        .authorizer
        .verify(header.as_deref())
        .map_err(|reason| from_lambda(Problem::unauthorized(reason).into_response()))?;
    Ok(with_jwt_claims(to_lambda(request).await?, claims))
}

/// API Gateway's part on a service route: a valid token that grants the service scope
/// (`AuthorizationScopes`), or 403 (a problem here, as the local stack's 401 is).
async fn service_authorized(
    app: &App,
    request: axum::extract::Request,
) -> Result<lambda_http::Request, Response> {
    let request = authorized(app, request).await?;
    match unipile_connect::http::service_caller(&request, &app.accounts.claims) {
        Ok(_) => Ok(request),
        Err(refused) => Err(from_lambda(Problem::from(refused).into_response())),
    }
}

async fn service_accounts_route(
    State(app): State<App>,
    request: axum::extract::Request,
) -> Response {
    match service_authorized(&app, request).await {
        Ok(request) => {
            let id = request
                .uri()
                .path()
                .strip_prefix("/service/accounts/")
                .map(str::to_owned);
            let request = match id {
                Some(id) => {
                    request.with_path_parameters(HashMap::from([("account_id".to_owned(), id)]))
                }
                None => request,
            };
            respond(accounts::handler(&app.accounts, request).await)
        }
        Err(refused) => refused,
    }
}

async fn service_links_route(State(app): State<App>, request: axum::extract::Request) -> Response {
    match service_authorized(&app, request).await {
        Ok(request) => respond(hosted_link::handler(&app.hosted_link, request).await),
        Err(refused) => refused,
    }
}

async fn hosted_link_route(State(app): State<App>, request: axum::extract::Request) -> Response {
    match authorized(&app, request).await {
        Ok(request) => respond(hosted_link::handler(&app.hosted_link, request).await),
        Err(refused) => refused,
    }
}

async fn accounts_route(State(app): State<App>, request: axum::extract::Request) -> Response {
    match authorized(&app, request).await {
        Ok(request) => {
            let id = request
                .uri()
                .path()
                .strip_prefix("/accounts/")
                .map(str::to_owned);
            let request = match id {
                Some(id) => request.with_path_parameters(HashMap::from([("id".to_owned(), id)])),
                None => request,
            };
            respond(accounts::handler(&app.accounts, request).await)
        }
        Err(refused) => refused,
    }
}

async fn notify_route(State(app): State<App>, request: axum::extract::Request) -> Response {
    match to_lambda(request).await {
        Ok(request) => respond(connect_callback::handler(&app.connect_callback, request).await),
        Err(refused) => refused,
    }
}

async fn webhook_route(State(app): State<App>, request: axum::extract::Request) -> Response {
    match to_lambda(request).await {
        Ok(request) => respond(status_webhook::handler(&app.status_webhook, request).await),
        Err(refused) => refused,
    }
}

async fn extension_route(State(app): State<App>, request: axum::extract::Request) -> Response {
    match authorized(&app, request).await {
        Ok(request) => {
            let member = request
                .uri()
                .path()
                .strip_prefix("/extension/identities/")
                .map(str::to_owned);
            let request = match member {
                Some(member) => {
                    request.with_path_parameters(HashMap::from([("member_id".to_owned(), member)]))
                }
                None => request,
            };
            respond(cookie_sync::handler(&app.cookie_sync, request).await)
        }
        Err(refused) => refused,
    }
}

/// `infra/events/<type>.json`, an event's JSON Schema, where `openapi.yaml`'s relative
/// references find it.
async fn event_schema(Path(file): Path<String>) -> Response {
    match unipile_connect::domain::events::EventType::by_schema_file(&file) {
        Some(kind) => (
            [(http::header::CONTENT_TYPE, "application/schema+json")],
            kind.schema(),
        )
            .into_response(),
        None => http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// `infra/openapi.yaml`, the API's description.
async fn openapi() -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/yaml")],
        include_str!("../../infra/openapi.yaml"),
    )
        .into_response()
}

/// The web component's files, as the deployed stack serves them (revalidated at each use).
async fn web_route(request: axum::extract::Request) -> Response {
    match to_lambda(request).await {
        Ok(request) => {
            respond(web_assets::handler(crate::landing_page::web_assets(), request).await)
        }
        Err(refused) => refused,
    }
}

/// `GET /_local/schedules`: the reconnect attempts waiting for their time, soonest first.
async fn schedules(State(app): State<App>) -> Response {
    let now = app.clock.now();
    axum::Json(serde_json::json!({"now": now, "schedules": app.scheduler.pending()}))
        .into_response()
}

#[derive(serde::Deserialize)]
struct Advance {
    seconds: i64,
}

/// `POST /_local/clock/advance {"seconds": N}`: moves the virtual clock on and runs every
/// reconnect attempt that falls due, as EventBridge Scheduler would, in time order (an attempt
/// may schedule the next one inside the window: it runs too).
async fn advance_clock(
    State(app): State<App>,
    axum::Json(advance): axum::Json<Advance>,
) -> Response {
    if !(0..=31 * 86_400).contains(&advance.seconds) {
        return from_lambda(
            Problem::bad_request("`seconds` must be between 0 and 31 days").into_response(),
        );
    }
    let target = app.clock.now() + chrono::Duration::seconds(advance.seconds);
    let mut ran = Vec::new();
    // Time moves schedule by schedule, so each attempt runs at its own time and schedules the
    // next one from there, as it would in AWS.
    while let Some(schedule) = app.scheduler.take_next_due(target) {
        let now = app.clock.now();
        if schedule.at > now {
            app.clock.advance(schedule.at - now);
        }
        let input = serde_json::to_value(&schedule.input).unwrap_or_default();
        let outcome = match reconnect_retry::handler(&app.reconnect_retry, input).await {
            Ok(outcome) => outcome,
            Err(error) => serde_json::json!({"outcome": "failed", "error": error.to_string()}),
        };
        ran.push(
            serde_json::json!({"schedule": schedule.name, "at": schedule.at, "result": outcome}),
        );
    }
    let now = app.clock.now();
    if target > now {
        app.clock.advance(target - now);
    }
    // What the hourly reconciliation and the sweeper's schedule would have done meanwhile:
    // find what Unipile stopped delivering, then finish what is due.
    let reconciled = run_reconciliation_if_due(&app).await;
    let swept =
        match follow_up_sweeper::handler(&app.follow_up_sweeper, serde_json::json!({})).await {
            Ok(report) => report,
            Err(error) => serde_json::json!({"failed": error.to_string()}),
        };
    // And the webhooks whose retry fell due meanwhile.
    let webhooks = match &app.webhooks {
        Some(webhooks) => webhooks.run().await,
        None => serde_json::Value::Null,
    };
    axum::Json(serde_json::json!({"now": app.clock.now(), "ran": ran, "reconciled": reconciled, "swept": swept, "webhooks": webhooks}))
        .into_response()
}

/// The hourly reconciliation, as Scheduler runs it: once the virtual clock reaches its time
/// (however far an advance moved it: one run, as a missed schedule does not pile up), then
/// an hour later. What it answered, or `null` when it was not due.
async fn run_reconciliation_if_due(app: &App) -> serde_json::Value {
    let now = app.clock.now();
    {
        let mut next = app
            .next_reconciliation
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if now < *next {
            return serde_json::Value::Null;
        }
        // On the hour marks from start-up, as a rate(1 hour) schedule keeps its own times.
        while *next <= now {
            *next += chrono::Duration::hours(1);
        }
    }
    match account_reconciler::handler(&app.account_reconciler, serde_json::json!({})).await {
        Ok(report) => report,
        Err(error) => {
            tracing::warn!(%error, "reconciliation failed");
            serde_json::json!({"failed": error.to_string()})
        }
    }
}

/// `GET /_local/emails`: what the in-memory mailer sent, oldest first.
async fn emails(State(app): State<App>) -> Response {
    let sent = app.mailbox.as_ref().map(|m| m.sent()).unwrap_or_default();
    axum::Json(sent).into_response()
}

/// `GET /_local/events`: the lifecycle events published, oldest first, each once (a repeat
/// of an id, as a consumer drops it, is left out).
async fn published_events(State(app): State<App>) -> Response {
    axum::Json(app.events.distinct()).into_response()
}

/// `GET /_local/webhooks`: the events between two tries, and the dead letters' count.
async fn webhooks_status(State(app): State<App>) -> Response {
    match &app.webhooks {
        Some(webhooks) => axum::Json(webhooks.status()).into_response(),
        None => not_configured(),
    }
}

fn not_configured() -> Response {
    from_lambda(Problem::not_found("no webhooks: EVENTS_WEBHOOK_URL is not set").into_response())
}

/// `POST /_local/webhooks/dead-letters/{list|replay|drain}[?limit=N]`: what
/// `events-webhook dead-letters` does on AWS, with its report as text (502 when an event
/// failed again).
async fn webhook_dead_letters(
    State(app): State<App>,
    Path(action): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(webhooks) = &app.webhooks else {
        return not_configured();
    };
    let mut args = vec!["dead-letters".to_owned(), action];
    if let Some(limit) = query.get("limit") {
        args.extend(["--limit".to_owned(), limit.clone()]);
    }
    let (action, limit) = match unipile_connect::flows::dead_letters::parse_command(&args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) | Err(_) => {
            return from_lambda(
                Problem::bad_request("use list, replay or drain, and a positive limit")
                    .into_response(),
            );
        }
    };
    match webhooks.dead_letters(action, limit).await {
        Ok(report) => report.into_response(),
        Err(report) => (axum::http::StatusCode::BAD_GATEWAY, report).into_response(),
    }
}

/// `GET /_local/mail`: the same emails as their reader sees them, newest first.
async fn mail(State(app): State<App>) -> Response {
    let sent = app.mailbox.as_ref().map(|m| m.sent()).unwrap_or_default();
    Html(crate::mail_page::render(&sent, &app.events.distinct())).into_response()
}

fn respond(
    outcome: Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error>,
) -> Response {
    match outcome {
        Ok(response) => from_lambda(response),
        Err(error) => from_lambda(Problem::internal(error.to_string()).into_response()),
    }
}

/// `GET /_local/token?sub=..&email=..`: a token for any local user, for trying several users.
async fn mint_token(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let sub = query.get("sub").map_or(DEMO_USER, String::as_str);
    let email = query.get("email").map(String::as_str);
    // `expires_in` (seconds, -1 day to 1 day; negative mints an expired token) lets a test or a
    // developer see what a session that ended does.
    let day = chrono::Duration::days(1);
    let ttl = match query.get("expires_in").map(|s| s.parse::<i64>()) {
        None => day,
        Some(Ok(seconds)) if (-86_400..=86_400).contains(&seconds) => {
            chrono::Duration::seconds(seconds)
        }
        Some(_) => {
            return from_lambda(
                Problem::bad_request("expires_in must be whole seconds, -86400 to 86400")
                    .into_response(),
            );
        }
    };
    // `service=1`: the team's backend's token (client-credentials, the service scope).
    if query.get("service").is_some_and(|v| v == "1") {
        let client = query.get("client").map_or("local-backend", String::as_str);
        return match app
            .authorizer
            .mint_service(client, &app.accounts.claims.service_scope, ttl)
        {
            Ok(token) => axum::Json(serde_json::json!({"token": token})).into_response(),
            Err(error) => from_lambda(Problem::internal(error).into_response()),
        };
    }
    match app.authorizer.mint(sub, email, ttl) {
        Ok(token) => axum::Json(serde_json::json!({"token": token})).into_response(),
        Err(error) => from_lambda(Problem::internal(error).into_response()),
    }
}
