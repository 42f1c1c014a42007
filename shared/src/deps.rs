//! The ports every function shares, built once at cold start and handed to each invocation,
//! and the builders of the AWS adapters some functions add.

use crate::adapters::cipher::KmsCipher;
use crate::adapters::clock::SystemClock;
use crate::adapters::cognito::CognitoDirectory;
use crate::adapters::dynamodb::{DynamoFeed, DynamoStore};
use crate::adapters::lazy_client::LazyClient;
use crate::adapters::scheduler::EventBridgeScheduler;
use crate::adapters::ses::SesMailer;
use crate::adapters::unipile::HttpUnipile;
use crate::config::{self, ConfigError, EnvSource};
use crate::flows::fanout::FanOut;
use crate::flows::follow_ups::{FollowUpPorts, FollowUpSettings};
use crate::flows::publishing_store::PublishingStore;
use crate::ports::{
    AccountStore, Cipher, Clock, EventFeed, EventPublisher, Mailer, RetryScheduler, Unipile,
    UserDirectory,
};
use aws_config::SdkConfig;
use std::sync::Arc;

#[derive(Clone)]
pub struct Deps {
    /// The store, publishing the facts its writes record to `events`.
    pub store: Arc<dyn AccountStore>,
    pub unipile: Arc<dyn Unipile>,
    pub clock: Arc<dyn Clock>,
    /// Where lifecycle events go: the feed, then the bus (the sweeper publishes what writers
    /// left).
    pub events: Arc<dyn EventPublisher>,
    /// The feed of published events, read by the team's backend (`GET /service/events`).
    pub feed: Arc<dyn EventFeed>,
}

impl Deps {
    /// The AWS wiring: DynamoDB table `TABLE_NAME` (the store and the event feed) publishing
    /// to the EventBridge bus `EVENT_BUS_NAME`, Unipile at `UNIPILE_DSN`, the system clock.
    /// `aws` is loaded once per cold start and shared by every client.
    pub fn from_env(env: &dyn EnvSource, aws: &SdkConfig) -> Result<Self, ConfigError> {
        let table = config::table_name(env)?;
        let dynamodb = aws_sdk_dynamodb::Client::new(aws);
        let feed = Arc::new(DynamoFeed::new(dynamodb.clone(), table.clone()));
        let store = Arc::new(DynamoStore::new(dynamodb, table));
        Ok(Self::publishing(
            store,
            feed,
            event_bus(env, aws)?,
            Arc::new(http_unipile(env)?),
            Arc::new(SystemClock),
        ))
    }

    /// `store` wrapped so that its writes publish their facts: to `feed`, then to `bus`.
    pub fn publishing(
        store: Arc<dyn AccountStore>,
        feed: Arc<dyn EventFeed>,
        bus: Arc<dyn EventPublisher>,
        unipile: Arc<dyn Unipile>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let events: Arc<dyn EventPublisher> =
            Arc::new(FanOut::new(feed.clone(), bus, clock.clone()));
        Self {
            store: Arc::new(PublishingStore::new(store, events.clone())),
            unipile,
            clock,
            events,
            feed,
        }
    }
}

/// The EventBridge bus `EVENT_BUS_NAME` (built on first use: most invocations change nothing).
pub fn event_bus(
    env: &dyn EnvSource,
    aws: &SdkConfig,
) -> Result<Arc<dyn EventPublisher>, ConfigError> {
    Ok(Arc::new(
        crate::adapters::eventbridge::EventBridgePublisher::new(
            deferred(aws, aws_sdk_eventbridge::Client::new),
            config::event_bus_name(env)?,
        ),
    ))
}

/// Unipile over HTTP from `UNIPILE_DSN`, `UNIPILE_API_KEY` and the patience settings.
pub fn http_unipile(env: &dyn EnvSource) -> Result<HttpUnipile, ConfigError> {
    HttpUnipile::new(config::unipile_settings(env)?).map_err(|e| ConfigError::Invalid {
        var: "UNIPILE_DSN",
        reason: e.to_string(),
    })
}

/// SES v2 from `MAIL_FROM` (and `SES_CONFIGURATION_SET`).
pub fn ses_mailer(env: &dyn EnvSource, aws: &SdkConfig) -> Result<Arc<dyn Mailer>, ConfigError> {
    let (from, configuration_set) = config::mail_from(env)?;
    Ok(Arc::new(SesMailer::new(
        deferred(aws, crate::adapters::ses::client),
        from,
        configuration_set,
    )))
}

/// EventBridge Scheduler from `SCHEDULE_GROUP`, `RECONNECT_FUNCTION_ARN`, `SCHEDULER_ROLE_ARN`,
/// `SCHEDULER_DLQ_ARN`.
pub fn event_bridge_scheduler(
    env: &dyn EnvSource,
    aws: &SdkConfig,
) -> Result<Arc<dyn RetryScheduler>, ConfigError> {
    let settings = config::scheduler_settings(env)?;
    Ok(Arc::new(EventBridgeScheduler::new(
        deferred(aws, aws_sdk_scheduler::Client::new),
        settings,
        Arc::new(SystemClock),
    )))
}

/// KMS with `COOKIE_KMS_KEY_ID`, and `COOKIE_DIGEST_KEY_ID` when set.
pub fn kms_cipher(env: &dyn EnvSource, aws: &SdkConfig) -> Result<Arc<dyn Cipher>, ConfigError> {
    // Built now: the functions holding it open or digest a cookie on every invocation, and
    // a cold start's set-up runs no slower than an invocation's.
    let cipher = KmsCipher::new(aws_sdk_kms::Client::new(aws), config::cookie_key_id(env)?);
    Ok(Arc::new(match config::cookie_digest_key_id(env) {
        Some(digest_key) => cipher.with_digest_key(digest_key),
        None => cipher,
    }))
}

/// The reconnect dead-letter queue `DEAD_LETTER_QUEUE_URL` (the stack's
/// `ReconnectDeadLetterQueueUrl` output): read by the operator's `dead-letters` command only.
pub fn dead_letter_queue(
    env: &dyn EnvSource,
    aws: &SdkConfig,
) -> Result<crate::adapters::sqs::SqsDeadLetters, ConfigError> {
    Ok(crate::adapters::sqs::SqsDeadLetters::new(
        aws_sdk_sqs::Client::new(aws),
        config::dead_letter_queue_url(env)?,
    ))
}

/// The event webhooks' delivery queue `EVENTS_WEBHOOK_QUEUE_URL`.
pub fn delivery_queue(
    env: &dyn EnvSource,
    aws: &SdkConfig,
) -> Result<crate::adapters::sqs::SqsDeliveryQueue, ConfigError> {
    Ok(crate::adapters::sqs::SqsDeliveryQueue::new(
        aws_sdk_sqs::Client::new(aws),
        config::events_webhook_queue_url(env)?,
    ))
}

/// Where owners' emails are looked up when none was recorded from their token: the Cognito
/// user pool `COGNITO_USER_POOL_ID` (called in the pool's own region), or none. Warns, once per
/// cold start, when as configured owners may never be emailed (see
/// [`config::email_source_warning`]).
pub fn user_directory(
    env: &dyn EnvSource,
    aws: &SdkConfig,
) -> Result<Option<Arc<dyn UserDirectory>>, ConfigError> {
    let cognito = config::cognito_settings(env)?;
    let email_claim = config::email_claim(env);
    let issuer = config::jwt_issuer(env);
    if let Some(warning) = config::email_source_warning(
        email_claim.as_deref(),
        cognito.as_ref().map(|c| &c.pool),
        issuer.as_deref(),
    ) {
        tracing::warn!("{warning}");
    }
    Ok(cognito.map(|settings| {
        let region =
            aws_sdk_cognitoidentityprovider::config::Region::new(settings.pool.region().to_owned());
        let in_pool_region = aws.to_builder().region(region).build();
        let client = deferred(
            &in_pool_region,
            aws_sdk_cognitoidentityprovider::Client::new,
        );
        Arc::new(CognitoDirectory::new(client, settings)) as Arc<dyn UserDirectory>
    }))
}

/// A client of `aws` built on first use: SES, Scheduler and Cognito serve only rare paths (an
/// outage's email, a cookie reconnect's schedules, an owner with no recorded email), so their
/// set-up stays out of every cold start (see [`LazyClient`]).
fn deferred<C: 'static>(aws: &SdkConfig, build: fn(&SdkConfig) -> C) -> LazyClient<C> {
    let aws = aws.clone();
    LazyClient::deferred(move || build(&aws))
}

/// What a function that carries out follow-ups holds (status-webhook, reconnect-retry,
/// follow-up-sweeper): the shared ports, the mail and schedule ports follow-ups use, where
/// owners' emails are looked up when none was recorded, and how follow-ups behave.
#[derive(Clone)]
pub struct FollowUpDeps {
    pub deps: Deps,
    pub mailer: Arc<dyn Mailer>,
    pub scheduler: Arc<dyn RetryScheduler>,
    /// `COGNITO_USER_POOL_ID`'s pool, when set.
    pub directory: Option<Arc<dyn UserDirectory>>,
    pub settings: FollowUpSettings,
}

impl FollowUpDeps {
    /// The AWS wiring: [`Deps::from_env`], SES, EventBridge Scheduler, the user directory and
    /// the follow-up settings, all from `env`.
    pub fn from_env(env: &dyn EnvSource, aws: &SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            mailer: ses_mailer(env, aws)?,
            scheduler: event_bridge_scheduler(env, aws)?,
            directory: user_directory(env, aws)?,
            settings: config::follow_up_settings(env)?,
            deps: Deps::from_env(env, aws)?,
        })
    }

    pub fn ports(&self) -> FollowUpPorts<'_> {
        FollowUpPorts {
            store: self.deps.store.as_ref(),
            unipile: self.deps.unipile.as_ref(),
            mailer: self.mailer.as_ref(),
            scheduler: self.scheduler.as_ref(),
            clock: self.deps.clock.as_ref(),
            directory: self.directory.as_deref(),
        }
    }
}
