//! Settings, read once at cold start. A missing or malformed value stops the cold start with a
//! message naming the variable, rather than failing on the first request.

use crate::adapters::cognito::{CognitoSettings, UserLookup, UserPoolId};
use crate::adapters::scheduler::SchedulerSettings;
use crate::adapters::unipile::{UnipileDsn, UnipileSettings};
use crate::domain::ClaimNames;
use crate::domain::RedirectPolicy;
use crate::domain::event_webhook::SigningSecrets;
use crate::domain::notification::ReconnectLink;
use crate::domain::state_token::StateKey;
use crate::domain::transitions::TransitionPolicy;
use crate::domain::webhook::{WebhookAuth, WebhookUrl};
use crate::flows::account_reconciler::{
    DEFAULT_RECONCILE_MAX_PAGES, RECONCILE_MAX_PAGES_RANGE, ReconcileSettings,
};
use crate::flows::cookie_sync::{
    COOKIE_TTL_DAYS_RANGE, CookieSettings, DEFAULT_COOKIE_TTL_DAYS,
    DEFAULT_MAX_LINKEDIN_IDENTITIES, MAX_LINKEDIN_IDENTITIES_RANGE,
};
use crate::flows::follow_ups::FollowUpSettings;
use crate::flows::hosted_link::LinkSettings;
use crate::http::{DEFAULT_WEBHOOK_HEADER, WebhookSecret};
use secrecy::SecretString;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;
use url::Url;

/// The accepted ranges of the numeric settings a deployment passes as template parameters:
/// the template's MinValue/MaxValue are the same (a test compares them), so a stack never
/// deploys with a value its functions refuse at cold start.
pub const LINK_TTL_MINUTES: std::ops::RangeInclusive<i64> = 1..=1440;
pub const STALE_COOKIE_HOURS: std::ops::RangeInclusive<i64> = 1..=24 * 30;
pub const CONNECT_THROTTLE_SECONDS: std::ops::RangeInclusive<i64> = 0..=86_400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{var} is not valid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// Where settings come from: a snapshot of the process environment (plus secrets) in Lambda
/// and locally, a test's own map in tests.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

fn optional(env: &dyn EnvSource, var: &'static str) -> Option<String> {
    env.var(var)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn required(env: &dyn EnvSource, var: &'static str) -> Result<String, ConfigError> {
    optional(env, var).ok_or(ConfigError::Missing(var))
}

fn number<T: std::str::FromStr>(
    env: &dyn EnvSource,
    var: &'static str,
    default: T,
    valid: impl Fn(&T) -> bool,
) -> Result<T, ConfigError> {
    let Some(raw) = optional(env, var) else {
        return Ok(default);
    };
    raw.parse::<T>()
        .ok()
        .filter(|n| valid(n))
        .ok_or_else(|| ConfigError::Invalid {
            var,
            reason: format!("{raw:?} is not an accepted number"),
        })
}

/// `UNIPILE_DSN`, `UNIPILE_API_KEY`, and the optional patience settings.
pub fn unipile_settings(env: &dyn EnvSource) -> Result<UnipileSettings, ConfigError> {
    let dsn =
        UnipileDsn::parse(&required(env, "UNIPILE_DSN")?).map_err(|e| ConfigError::Invalid {
            var: "UNIPILE_DSN",
            reason: e.to_string(),
        })?;
    Ok(UnipileSettings {
        dsn,
        api_key: SecretString::from(required(env, "UNIPILE_API_KEY")?),
        timeout: Duration::from_secs(number(env, "UNIPILE_TIMEOUT_SECONDS", 10, |n| {
            (1..=60).contains(n)
        })?),
        max_retries: number(env, "UNIPILE_MAX_RETRIES", 2, |n| *n <= 5)?,
        retry_base_delay: Duration::from_millis(number(env, "UNIPILE_RETRY_BASE_MS", 200, |n| {
            *n <= 10_000
        })?),
        retry_budget: Duration::from_secs(number(env, "UNIPILE_RETRY_BUDGET_SECONDS", 12, |n| {
            (1..=120).contains(n)
        })?),
    })
}

pub fn table_name(env: &dyn EnvSource) -> Result<String, ConfigError> {
    required(env, "TABLE_NAME")
}

/// `EVENT_BUS_NAME`: the EventBridge bus lifecycle events go to (the stack's `EventBus`).
pub fn event_bus_name(env: &dyn EnvSource) -> Result<String, ConfigError> {
    required(env, "EVENT_BUS_NAME")
}

/// `STATE_SIGNING_KEY`: at least 32 bytes; shared by hosted-link (signs) and connect-callback
/// (verifies).
pub fn state_key(env: &dyn EnvSource) -> Result<StateKey, ConfigError> {
    StateKey::new(required(env, "STATE_SIGNING_KEY")?.into_bytes()).map_err(|reason| {
        ConfigError::Invalid {
            var: "STATE_SIGNING_KEY",
            reason,
        }
    })
}

pub fn claim_names(env: &dyn EnvSource) -> ClaimNames {
    let defaults = ClaimNames::default();
    ClaimNames {
        user_id: optional(env, "USER_ID_CLAIM").unwrap_or(defaults.user_id),
        email: email_claim(env),
        email_verified: email_verified_claim(env),
        service_scope: optional(env, "SERVICE_SCOPE").unwrap_or(defaults.service_scope),
    }
}

/// `EMAIL_VERIFIED_CLAIM`: `email_verified` when unset; set but empty, or `none`, when the
/// tokens' email is to be taken without it.
pub fn email_verified_claim(env: &dyn EnvSource) -> Option<String> {
    match env.var("EMAIL_VERIFIED_CLAIM").map(|v| v.trim().to_owned()) {
        None => ClaimNames::default().email_verified,
        Some(v) if v.is_empty() || v.eq_ignore_ascii_case("none") => None,
        Some(v) => Some(v),
    }
}

/// `EMAIL_CLAIM`: `email` when unset; set but empty, or `none`, when the tokens carry no
/// email (Cognito access tokens).
pub fn email_claim(env: &dyn EnvSource) -> Option<String> {
    match env.var("EMAIL_CLAIM").map(|v| v.trim().to_owned()) {
        None => ClaimNames::default().email,
        Some(v) if v.is_empty() || v.eq_ignore_ascii_case("none") => None,
        Some(v) => Some(v),
    }
}

/// `COGNITO_USER_POOL_ID` (optional): the user pool owners' emails are looked up in when none
/// was recorded from their token. Users are found by the attribute `USER_ID_CLAIM` names.
pub fn cognito_settings(env: &dyn EnvSource) -> Result<Option<CognitoSettings>, ConfigError> {
    let Some(raw) = optional(env, "COGNITO_USER_POOL_ID") else {
        return Ok(None);
    };
    let pool = UserPoolId::parse(&raw).map_err(|reason| ConfigError::Invalid {
        var: "COGNITO_USER_POOL_ID",
        reason,
    })?;
    let claim = claim_names(env).user_id;
    let lookup = UserLookup::for_claim(&claim).ok_or_else(|| ConfigError::Invalid {
        var: "USER_ID_CLAIM",
        reason: format!(
            "{claim:?} is not a user pool attribute users can be found by; with \
             COGNITO_USER_POOL_ID it must be sub, username or cognito:username"
        ),
    })?;
    Ok(Some(CognitoSettings { pool, lookup }))
}

/// `JWT_ISSUER` (optional): the issuer of the API's tokens, as the authorizer is configured.
pub fn jwt_issuer(env: &dyn EnvSource) -> Option<String> {
    optional(env, "JWT_ISSUER")
}

/// Why, as configured, owners of accounts may never be emailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailSourceWarning {
    /// No email claim and no user pool: no email is ever known. The issuer's pool, when the
    /// tokens come from Cognito.
    NoSource { issuer_pool: Option<UserPoolId> },
    /// The tokens come from a Cognito pool, which puts no email in access tokens, and the pool
    /// is not configured for look-ups.
    CognitoWithoutPool { issuer_pool: UserPoolId },
    /// The configured pool is not the one that issues the tokens: look-ups will find nobody.
    OtherPool {
        issuer_pool: UserPoolId,
        configured: UserPoolId,
    },
}

impl fmt::Display for EmailSourceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSource { issuer_pool } => {
                f.write_str(
                    "no owner email source: EMAIL_CLAIM is empty and COGNITO_USER_POOL_ID is \
                     not set, so no reconnect email will ever be sent",
                )?;
                match issuer_pool {
                    Some(pool) => write!(f, "; set COGNITO_USER_POOL_ID={pool}"),
                    None => Ok(()),
                }
            }
            Self::CognitoWithoutPool { issuer_pool } => write!(
                f,
                "JWT_ISSUER is Cognito user pool {issuer_pool} but COGNITO_USER_POOL_ID is not \
                 set: Cognito access tokens carry no email, so owners who call the API with \
                 access tokens get no reconnect email; set COGNITO_USER_POOL_ID={issuer_pool}"
            ),
            Self::OtherPool {
                issuer_pool,
                configured,
            } => write!(
                f,
                "COGNITO_USER_POOL_ID is {configured} but JWT_ISSUER is user pool \
                 {issuer_pool}: owners will not be found there"
            ),
        }
    }
}

/// The warning, if any, a function that emails owners gives at cold start: from the email
/// claim (`None`: no claim), the configured user pool, and the tokens' issuer.
pub fn email_source_warning(
    email_claim: Option<&str>,
    pool: Option<&UserPoolId>,
    jwt_issuer: Option<&str>,
) -> Option<EmailSourceWarning> {
    let issuer_pool = jwt_issuer.and_then(UserPoolId::from_issuer);
    match (pool, issuer_pool) {
        (Some(configured), Some(issuer_pool)) if *configured != issuer_pool => {
            Some(EmailSourceWarning::OtherPool {
                issuer_pool,
                configured: configured.clone(),
            })
        }
        (Some(_), _) => None,
        (None, issuer_pool) if email_claim.is_none() => {
            Some(EmailSourceWarning::NoSource { issuer_pool })
        }
        (None, Some(issuer_pool)) => Some(EmailSourceWarning::CognitoWithoutPool { issuer_pool }),
        (None, None) => None,
    }
}

/// `PUBLIC_BASE_URL`, `STATE_SIGNING_KEY`, `ALLOWED_REDIRECT_ORIGINS`, `LINK_TTL_MINUTES`.
pub fn link_settings(env: &dyn EnvSource) -> Result<LinkSettings, ConfigError> {
    let raw = required(env, "PUBLIC_BASE_URL")?;
    // The notify_url built on it carries the link's signed state token: https only (plain
    // http to this machine, for the local stack and tests).
    let public_base_url = Url::parse(&raw)
        .ok()
        .filter(|u| crate::domain::secure_url::is_https_or_loopback(u) && u.query().is_none())
        .ok_or_else(|| ConfigError::Invalid {
            var: "PUBLIC_BASE_URL",
            reason: format!("{raw:?} is not an https base URL (plain http only to this machine)"),
        })?;
    let redirects =
        RedirectPolicy::parse(&optional(env, "ALLOWED_REDIRECT_ORIGINS").unwrap_or_default())
            .map_err(|reason| ConfigError::Invalid {
                var: "ALLOWED_REDIRECT_ORIGINS",
                reason,
            })?;
    // Unipile expires every link at its daily restart anyway (contract §2): more than a day is
    // a mistake.
    let minutes = number(env, "LINK_TTL_MINUTES", 30i64, |n| {
        LINK_TTL_MINUTES.contains(n)
    })?;
    Ok(LinkSettings {
        public_base_url,
        state_key: state_key(env)?,
        redirects,
        link_ttl: chrono::Duration::minutes(minutes),
    })
}

/// `UNIPILE_WEBHOOK_HEADER` (default `Unipile-Auth`), `UNIPILE_WEBHOOK_SECRET` and, during a
/// rotation, `UNIPILE_WEBHOOK_SECRET_PREVIOUS`. Without a secret the webhook refuses every
/// delivery.
pub fn webhook_secret(env: &dyn EnvSource) -> Result<WebhookSecret, ConfigError> {
    let header = optional(env, "UNIPILE_WEBHOOK_HEADER")
        .unwrap_or_else(|| DEFAULT_WEBHOOK_HEADER.to_owned());
    WebhookSecret::new(&header, optional(env, "UNIPILE_WEBHOOK_SECRET").as_deref())
        .map(|secret| {
            secret.with_previous(optional(env, "UNIPILE_WEBHOOK_SECRET_PREVIOUS").as_deref())
        })
        .map_err(|reason| ConfigError::Invalid {
            var: "UNIPILE_WEBHOOK_HEADER",
            reason,
        })
}

/// The status webhook's secret: [`webhook_secret`], read again from Secrets Manager (the
/// `SECRETS_ARN` secret holding it, current and previous versions) when a delivery's header
/// matches neither, so a rotation loses no delivery. Without `SECRETS_ARN`, the environment
/// is all there is.
pub fn rotating_webhook_secret(
    env: &dyn EnvSource,
    aws: &aws_config::SdkConfig,
) -> Result<crate::http::RotatingWebhookSecret, ConfigError> {
    let secret = webhook_secret(env)?;
    let arns = secret_arns(env);
    if arns.is_empty() {
        return Ok(secret.into());
    }
    let aws = aws.clone();
    let source = crate::adapters::secrets_manager::SecretsManagerWebhookSecrets::new(
        crate::adapters::lazy_client::LazyClient::deferred(move || {
            aws_sdk_secretsmanager::Client::new(&aws)
        }),
        arns,
    );
    Ok(crate::http::RotatingWebhookSecret::reread_from(
        secret,
        std::sync::Arc::new(source),
    ))
}

/// The secret header `webhook-setup` registers: `UNIPILE_WEBHOOK_HEADER` (default
/// `Unipile-Auth`) and `UNIPILE_WEBHOOK_SECRET`, which is required here (a webhook
/// registered without it would have every delivery refused). Errors name the variable,
/// never the value.
pub fn webhook_auth(env: &dyn EnvSource) -> Result<WebhookAuth, ConfigError> {
    let header = optional(env, "UNIPILE_WEBHOOK_HEADER")
        .unwrap_or_else(|| DEFAULT_WEBHOOK_HEADER.to_owned());
    // Trimmed as `webhook_secret` trims it: status-webhook must expect what is registered.
    let secret = required(env, "UNIPILE_WEBHOOK_SECRET")?;
    if http::HeaderName::from_bytes(header.as_bytes()).is_err() {
        return Err(ConfigError::Invalid {
            var: "UNIPILE_WEBHOOK_HEADER",
            reason: format!("{header:?} is not a header name"),
        });
    }
    WebhookAuth::new(&header, SecretString::from(secret)).map_err(|reason| ConfigError::Invalid {
        var: "UNIPILE_WEBHOOK_SECRET",
        reason,
    })
}

/// `STATUS_WEBHOOK_URL`: the stack's own status-webhook URL, the one URL `webhook-setup`
/// registers as the stack's custom resource (the template gives it the same value as the
/// resource's `RequestUrl`). https, or plain http to this machine only.
pub fn status_webhook_url(env: &dyn EnvSource) -> Result<WebhookUrl, ConfigError> {
    WebhookUrl::parse(&required(env, "STATUS_WEBHOOK_URL")?).map_err(|e| ConfigError::Invalid {
        var: "STATUS_WEBHOOK_URL",
        reason: e.to_string(),
    })
}

/// The team's endpoint for signed event webhooks: `EVENTS_WEBHOOK_URL` (https, or http to a
/// loopback address) and `EVENTS_WEBHOOK_SECRET` (one `whsec_` secret, or two separated by a
/// space during a rotation). `None` without a URL: webhooks are not sent.
pub fn events_webhook(
    env: &dyn EnvSource,
) -> Result<
    Option<(
        crate::adapters::webhook_endpoint::HttpWebhookEndpoint,
        SigningSecrets,
    )>,
    ConfigError,
> {
    let Some(url) = optional(env, "EVENTS_WEBHOOK_URL") else {
        return Ok(None);
    };
    // Neither reason quotes the value: the URL may carry a token, the secret is one.
    let url = Url::parse(&url).map_err(|_| ConfigError::Invalid {
        var: "EVENTS_WEBHOOK_URL",
        reason: "not a URL".into(),
    })?;
    let endpoint =
        crate::adapters::webhook_endpoint::HttpWebhookEndpoint::new(url).map_err(|reason| {
            ConfigError::Invalid {
                var: "EVENTS_WEBHOOK_URL",
                reason,
            }
        })?;
    let secrets = SigningSecrets::parse(&required(env, "EVENTS_WEBHOOK_SECRET")?).map_err(|e| {
        ConfigError::Invalid {
            var: "EVENTS_WEBHOOK_SECRET",
            reason: e.to_string(),
        }
    })?;
    Ok(Some((endpoint, secrets)))
}

fn boolean(env: &dyn EnvSource, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match optional(env, var)
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is not true or false"),
        }),
    }
}

/// `APP_BASE_URL`, `RECONNECT_PATH`, `AUTO_RESTART`, `STALE_COOKIE_HOURS`.
pub fn follow_up_settings(env: &dyn EnvSource) -> Result<FollowUpSettings, ConfigError> {
    let raw = required(env, "APP_BASE_URL")?;
    let app_base_url = Url::parse(&raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| ConfigError::Invalid {
            var: "APP_BASE_URL",
            reason: format!("{raw:?} is not an http(s) URL"),
        })?;
    let path = optional(env, "RECONNECT_PATH")
        .unwrap_or_else(|| "/accounts?reconnect={account_id}".to_owned());
    if !path.contains("{account_id}") {
        return Err(ConfigError::Invalid {
            var: "RECONNECT_PATH",
            reason: "must contain {account_id}".into(),
        });
    }
    let stale_hours = number(env, "STALE_COOKIE_HOURS", 24i64, |h| {
        STALE_COOKIE_HOURS.contains(h)
    })?;
    Ok(FollowUpSettings {
        policy: TransitionPolicy {
            auto_restart: boolean(env, "AUTO_RESTART", true)?,
        },
        reconnect_link: ReconnectLink { app_base_url, path },
        stale_cookie_after: chrono::Duration::hours(stale_hours),
    })
}

/// `SCHEDULE_GROUP` (default `unipile-connect`), `RECONNECT_FUNCTION_ARN`,
/// `SCHEDULER_ROLE_ARN`, `SCHEDULER_DLQ_ARN` (optional, recommended).
pub fn scheduler_settings(env: &dyn EnvSource) -> Result<SchedulerSettings, ConfigError> {
    Ok(SchedulerSettings {
        group: optional(env, "SCHEDULE_GROUP").unwrap_or_else(|| "unipile-connect".to_owned()),
        target_arn: arn(env, "RECONNECT_FUNCTION_ARN")?,
        role_arn: arn(env, "SCHEDULER_ROLE_ARN")?,
        dead_letter_arn: optional(env, "SCHEDULER_DLQ_ARN")
            .map(|_| arn(env, "SCHEDULER_DLQ_ARN"))
            .transpose()?,
    })
}

fn arn(env: &dyn EnvSource, var: &'static str) -> Result<String, ConfigError> {
    let value = required(env, var)?;
    if !value.starts_with("arn:") {
        return Err(ConfigError::Invalid {
            var,
            reason: format!("{value:?} is not an ARN"),
        });
    }
    Ok(value)
}

/// `COOKIE_KMS_KEY_ID`: the KMS key (id, ARN or alias) that seals extension cookies.
pub fn cookie_key_id(env: &dyn EnvSource) -> Result<String, ConfigError> {
    required(env, "COOKIE_KMS_KEY_ID")
}

/// `COOKIE_DIGEST_KEY_ID` (a KMS HMAC_256 key), optional: without it, every extension sync is
/// sealed and stored even when nothing changed.
pub fn cookie_digest_key_id(env: &dyn EnvSource) -> Option<String> {
    optional(env, "COOKIE_DIGEST_KEY_ID")
}

/// `DEAD_LETTER_QUEUE_URL`: the operator's `dead-letters` command reads it; no function does.
pub fn dead_letter_queue_url(env: &dyn EnvSource) -> Result<String, ConfigError> {
    required(env, "DEAD_LETTER_QUEUE_URL")
}

/// `EVENTS_WEBHOOK_QUEUE_URL`: the queue `events-webhook` receives events from, where it holds
/// a failed try back for its back-off.
pub fn events_webhook_queue_url(env: &dyn EnvSource) -> Result<String, ConfigError> {
    required(env, "EVENTS_WEBHOOK_QUEUE_URL")
}

/// `CONNECT_ATTEMPT_LIMIT`: custom sign-ins a user may start with one provider in a window,
/// written `<starts>/<window>` (default `5/15m`).
pub fn connect_attempt_limit(
    env: &dyn EnvSource,
) -> Result<crate::domain::login_attempt::AttemptLimit, ConfigError> {
    match optional(env, "CONNECT_ATTEMPT_LIMIT") {
        None => Ok(crate::domain::login_attempt::AttemptLimit::default()),
        Some(raw) => crate::domain::login_attempt::AttemptLimit::parse(&raw).map_err(|reason| {
            ConfigError::Invalid {
                var: "CONNECT_ATTEMPT_LIMIT",
                reason,
            }
        }),
    }
}

/// `CONNECT_THROTTLE_SECONDS` (default 300), `MAX_LINKEDIN_IDENTITIES` (default 3, 1 to 20).
pub fn cookie_settings(env: &dyn EnvSource) -> Result<CookieSettings, ConfigError> {
    let seconds = number(env, "CONNECT_THROTTLE_SECONDS", 300i64, |s| {
        CONNECT_THROTTLE_SECONDS.contains(s)
    })?;
    let ttl_days = number(env, "COOKIE_TTL_DAYS", DEFAULT_COOKIE_TTL_DAYS, |d| {
        COOKIE_TTL_DAYS_RANGE.contains(d)
    })?;
    Ok(CookieSettings {
        cookie_ttl: chrono::Duration::days(ttl_days),
        connect_throttle: chrono::Duration::seconds(seconds),
        max_linkedin_identities: number(
            env,
            "MAX_LINKEDIN_IDENTITIES",
            DEFAULT_MAX_LINKEDIN_IDENTITIES,
            |n| MAX_LINKEDIN_IDENTITIES_RANGE.contains(n),
        )?,
    })
}

/// `RECONCILE_MAX_PAGES` (default 40 pages of 250 accounts, 1 to 400).
pub fn reconcile_settings(env: &dyn EnvSource) -> Result<ReconcileSettings, ConfigError> {
    Ok(ReconcileSettings {
        max_pages: number(
            env,
            "RECONCILE_MAX_PAGES",
            DEFAULT_RECONCILE_MAX_PAGES,
            |n| RECONCILE_MAX_PAGES_RANGE.contains(n),
        )?,
        ..ReconcileSettings::default()
    })
}

/// `MAIL_FROM` (a verified SES identity) and `SES_CONFIGURATION_SET` (optional).
pub fn mail_from(env: &dyn EnvSource) -> Result<(String, Option<String>), ConfigError> {
    let from = required(env, "MAIL_FROM")?;
    if !from.contains('@') {
        return Err(ConfigError::Invalid {
            var: "MAIL_FROM",
            reason: format!("{from:?} is not an email address"),
        });
    }
    Ok((from, optional(env, "SES_CONFIGURATION_SET")))
}

/// `EXTENSION_ID` (the template's `ExtensionId`): the Chrome extension the landing page lends
/// the user's session to; unset or empty: none.
pub fn extension_id(env: &dyn EnvSource) -> Result<Option<crate::web::ExtensionId>, ConfigError> {
    optional(env, "EXTENSION_ID")
        .map(|value| {
            crate::web::ExtensionId::parse(&value).map_err(|reason| ConfigError::Invalid {
                var: "EXTENSION_ID",
                reason,
            })
        })
        .transpose()
}

/// The process environment with the secrets filled in. In AWS, secrets (`UNIPILE_API_KEY`,
/// `STATE_SIGNING_KEY`, `UNIPILE_WEBHOOK_SECRET`) live in Secrets Manager, one secret per
/// purpose, each a JSON object of name to value. `SECRETS_ARN` lists (comma-separated) the
/// ones a function needs, so that each function can read only its own; they are read once at
/// cold start, side by side, and never sit in the function's configuration. A variable set in
/// the environment wins over a secret's value; two secrets naming one variable is an error.
pub async fn with_secrets(
    mut env: HashMap<String, String>,
) -> Result<HashMap<String, String>, ConfigError> {
    let arns = secret_arns(&env);
    if arns.is_empty() {
        return Ok(env);
    }
    let client = aws_sdk_secretsmanager::Client::new(&aws_sdk_config(&env).await);
    let mut reads = tokio::task::JoinSet::new();
    for arn in arns {
        let client = client.clone();
        reads.spawn(async move { read_secret(&client, &arn).await });
    }
    let mut from_secrets: HashMap<String, String> = HashMap::new();
    while let Some(read) = reads.join_next().await {
        let values = read.map_err(|e| ConfigError::Invalid {
            var: "SECRETS_ARN",
            reason: format!("a secret read stopped: {e}"),
        })??;
        for (name, value) in values {
            if from_secrets.insert(name.clone(), value).is_some() {
                return Err(ConfigError::Invalid {
                    var: "SECRETS_ARN",
                    reason: format!("{name} is in more than one secret"),
                });
            }
        }
    }
    for (name, value) in from_secrets {
        env.entry(name).or_insert(value);
    }
    Ok(env)
}

/// The secrets `SECRETS_ARN` lists (comma-separated), none when it is unset.
fn secret_arns(env: &dyn EnvSource) -> Vec<String> {
    optional(env, "SECRETS_ARN")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|arn| !arn.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One secret's JSON object of name to value (its current version).
async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<HashMap<String, String>, ConfigError> {
    // The ARN names the secret, it is not one: it may go in the message.
    let invalid = |reason: String| ConfigError::Invalid {
        var: "SECRETS_ARN",
        reason,
    };
    crate::adapters::secrets_manager::read_secret(client, arn, None)
        .await
        .map_err(invalid)?
        .ok_or_else(|| invalid(format!("{arn}: the secret has no current version")))
}

/// The AWS SDK configuration: region and credentials from the Lambda environment as usual.
/// `AWS_ENDPOINT_URL` (read from `env`, so tests need not touch the process environment)
/// points every client at an emulator, which takes any credentials: test ones are used
/// unless `AWS_ACCESS_KEY_ID` is given, so nothing goes looking for real ones.
pub async fn aws_sdk_config(env: &dyn EnvSource) -> aws_config::SdkConfig {
    // AWS answers in milliseconds; one that hangs must not take the invocation with it.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(10))
        .build();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .http_client(crate::adapters::tls::sdk_http_client());
    let region = optional(env, "AWS_REGION").or_else(|| optional(env, "AWS_DEFAULT_REGION"));
    if let Some(endpoint) = optional(env, "AWS_ENDPOINT_URL") {
        loader = loader.endpoint_url(endpoint);
        if optional(env, "AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.test_credentials();
        }
        if region.is_none() {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    // Lambda hands the role's credentials over as variables, which the default chain takes
    // first anyway, and they last as long as the execution environment. Naming them spares
    // building the chain's other providers (profile, web identity, container, instance
    // metadata) at every cold start (BENCHMARKS.md); without them the chain is built as ever.
    if let (Some(key), Some(secret)) = (
        optional(env, "AWS_ACCESS_KEY_ID"),
        optional(env, "AWS_SECRET_ACCESS_KEY"),
    ) {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            key,
            secret,
            optional(env, "AWS_SESSION_TOKEN"),
            None,
            "Environment",
        ));
    }
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn missing_and_malformed_settings_name_the_variable() {
        let err = unipile_settings(&env(&[("UNIPILE_DSN", "api8.unipile.com:13443")]))
            .expect_err("no key");
        assert_eq!(err.to_string(), "UNIPILE_API_KEY is not set");
        let err = unipile_settings(&env(&[
            ("UNIPILE_DSN", "ftp://x"),
            ("UNIPILE_API_KEY", "k"),
        ]))
        .expect_err("bad dsn");
        assert!(
            err.to_string().starts_with("UNIPILE_DSN is not valid"),
            "{err}"
        );
        let err = link_settings(&env(&[
            ("PUBLIC_BASE_URL", "https://cb.example.com"),
            ("STATE_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
            ("LINK_TTL_MINUTES", "0"),
        ]))
        .expect_err("ttl");
        assert!(
            err.to_string().starts_with("LINK_TTL_MINUTES is not valid"),
            "{err}"
        );
        for (base, taken) in [
            ("https://cb.example.com", true),
            ("http://127.0.0.1:8787", true),
            ("http://cb.example.com", false),
            ("ftp://cb.example.com", false),
            ("https://cb.example.com/?x=1", false),
        ] {
            let settings = link_settings(&env(&[
                ("PUBLIC_BASE_URL", base),
                ("STATE_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
            ]));
            assert_eq!(settings.is_ok(), taken, "{base}");
        }
        let err = state_key(&env(&[("STATE_SIGNING_KEY", "short")])).expect_err("short key");
        assert!(
            err.to_string()
                .starts_with("STATE_SIGNING_KEY is not valid"),
            "{err}"
        );
    }

    #[test]
    fn the_webhook_secret_to_register_is_required_and_never_quoted() {
        assert_eq!(
            webhook_auth(&env(&[])).err(),
            Some(ConfigError::Missing("UNIPILE_WEBHOOK_SECRET"))
        );
        let auth =
            webhook_auth(&env(&[("UNIPILE_WEBHOOK_SECRET", " s3cret-value\n")])).expect("valid");
        assert_eq!(auth.header(), DEFAULT_WEBHOOK_HEADER);
        assert!(!format!("{auth:?}").contains("s3cret"));
        let err = webhook_auth(&env(&[
            ("UNIPILE_WEBHOOK_SECRET", "s3cret\u{7}value"),
            ("UNIPILE_WEBHOOK_HEADER", "X-Hook"),
        ]))
        .expect_err("control character");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = webhook_auth(&env(&[
            ("UNIPILE_WEBHOOK_SECRET", "s3cret"),
            ("UNIPILE_WEBHOOK_HEADER", "bad header"),
        ]))
        .expect_err("header");
        assert!(
            err.to_string().starts_with("UNIPILE_WEBHOOK_HEADER"),
            "{err}"
        );
    }

    #[test]
    fn the_stacks_status_webhook_url_is_required_and_https() {
        assert_eq!(
            status_webhook_url(&env(&[])).err(),
            Some(ConfigError::Missing("STATUS_WEBHOOK_URL"))
        );
        let url = status_webhook_url(&env(&[(
            "STATUS_WEBHOOK_URL",
            "https://abc.execute-api.eu-west-1.amazonaws.com/unipile/webhook",
        )]))
        .expect("valid");
        assert_eq!(url.as_url().path(), "/unipile/webhook");
        let err = status_webhook_url(&env(&[("STATUS_WEBHOOK_URL", "http://hook.example.com/")]))
            .expect_err("plain http");
        assert!(
            err.to_string()
                .starts_with("STATUS_WEBHOOK_URL is not valid: the webhook URL"),
            "{err}"
        );
    }

    #[test]
    fn defaults_apply_and_the_api_key_never_prints() {
        let settings = unipile_settings(&env(&[
            ("UNIPILE_DSN", "api8.unipile.com:13443"),
            ("UNIPILE_API_KEY", "sk_live_do_not_print"),
        ]))
        .expect("valid");
        assert_eq!(settings.timeout, Duration::from_secs(10));
        assert_eq!(settings.max_retries, 2);
        assert!(!format!("{settings:?}").contains("sk_live_do_not_print"));
        let link = link_settings(&env(&[
            ("PUBLIC_BASE_URL", "https://cb.example.com"),
            ("STATE_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
        ]))
        .expect("valid");
        assert_eq!(link.link_ttl, chrono::Duration::minutes(30));
        assert!(!format!("{link:?}").contains("0123456789abcdef"));
        assert_eq!(claim_names(&env(&[])), ClaimNames::default());
    }

    #[test]
    fn the_linkedin_identity_cap_defaults_to_3_and_is_bounded() {
        let settings = cookie_settings(&env(&[])).expect("defaults");
        assert_eq!(settings.max_linkedin_identities, 3);
        let settings =
            cookie_settings(&env(&[("MAX_LINKEDIN_IDENTITIES", "20")])).expect("in range");
        assert_eq!(settings.max_linkedin_identities, 20);
        for bad in ["0", "21", "-1", "three"] {
            let err = cookie_settings(&env(&[("MAX_LINKEDIN_IDENTITIES", bad)]))
                .expect_err("out of range");
            assert!(
                err.to_string()
                    .starts_with("MAX_LINKEDIN_IDENTITIES is not valid"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn an_empty_or_none_email_claim_means_the_tokens_carry_no_email() {
        assert_eq!(email_claim(&env(&[])).as_deref(), Some("email"));
        assert_eq!(
            email_claim(&env(&[("EMAIL_CLAIM", "mail")])).as_deref(),
            Some("mail")
        );
        assert_eq!(email_claim(&env(&[("EMAIL_CLAIM", "")])), None);
        assert_eq!(email_claim(&env(&[("EMAIL_CLAIM", "None")])), None);
        assert_eq!(claim_names(&env(&[("EMAIL_CLAIM", "none")])).email, None);
        assert_eq!(
            claim_names(&env(&[])).email_verified.as_deref(),
            Some("email_verified")
        );
        assert_eq!(
            email_verified_claim(&env(&[("EMAIL_VERIFIED_CLAIM", "custom:ok")])).as_deref(),
            Some("custom:ok")
        );
        assert_eq!(
            email_verified_claim(&env(&[("EMAIL_VERIFIED_CLAIM", "none")])),
            None
        );
    }

    #[test]
    fn the_user_pool_is_optional_validated_and_found_by_the_user_id_claim() {
        assert_eq!(cognito_settings(&env(&[])), Ok(None));
        let settings = cognito_settings(&env(&[("COGNITO_USER_POOL_ID", "eu-west-1_AbC123")]))
            .expect("valid")
            .expect("set");
        assert_eq!(settings.pool.as_str(), "eu-west-1_AbC123");
        assert_eq!(settings.lookup, UserLookup::Sub);
        let by_name = cognito_settings(&env(&[
            ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123"),
            ("USER_ID_CLAIM", "cognito:username"),
        ]))
        .expect("valid")
        .expect("set");
        assert_eq!(by_name.lookup, UserLookup::Username);
        let err = cognito_settings(&env(&[("COGNITO_USER_POOL_ID", "AbC123")])).expect_err("shape");
        assert!(
            err.to_string()
                .starts_with("COGNITO_USER_POOL_ID is not valid"),
            "{err}"
        );
        let err = cognito_settings(&env(&[
            ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123"),
            ("USER_ID_CLAIM", "custom:uid"),
        ]))
        .expect_err("not searchable");
        assert!(
            err.to_string().starts_with("USER_ID_CLAIM is not valid"),
            "{err}"
        );
    }

    #[test]
    fn the_email_source_warning_names_what_is_missing() {
        let pool = UserPoolId::parse("eu-west-1_AbC123").expect("pool");
        let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
        let auth0 = "https://example.eu.auth0.com/";
        // An email claim with a non-Cognito issuer, or any pool: fine.
        assert_eq!(email_source_warning(Some("email"), None, None), None);
        assert_eq!(email_source_warning(Some("email"), None, Some(auth0)), None);
        assert_eq!(email_source_warning(None, Some(&pool), None), None);
        assert_eq!(
            email_source_warning(Some("email"), Some(&pool), Some(issuer)),
            None
        );
        // No claim and no pool: nothing can ever be sent.
        assert_eq!(
            email_source_warning(None, None, Some(auth0)),
            Some(EmailSourceWarning::NoSource { issuer_pool: None })
        );
        let warning = email_source_warning(None, None, Some(issuer)).expect("warns");
        assert_eq!(
            warning,
            EmailSourceWarning::NoSource {
                issuer_pool: Some(pool.clone())
            }
        );
        assert!(
            warning
                .to_string()
                .ends_with("set COGNITO_USER_POOL_ID=eu-west-1_AbC123")
        );
        // Cognito tokens and no pool: access tokens carry no email.
        let warning = email_source_warning(Some("email"), None, Some(issuer)).expect("warns");
        assert_eq!(
            warning,
            EmailSourceWarning::CognitoWithoutPool {
                issuer_pool: pool.clone()
            }
        );
        let text = warning.to_string();
        assert!(text.contains("access tokens carry no email"), "{text}");
        assert!(
            text.contains("COGNITO_USER_POOL_ID=eu-west-1_AbC123"),
            "{text}"
        );
        // A pool that is not the issuer's.
        let other = UserPoolId::parse("eu-west-1_Other9").expect("pool");
        assert!(matches!(
            email_source_warning(Some("email"), Some(&other), Some(issuer)),
            Some(EmailSourceWarning::OtherPool { .. })
        ));
    }

    #[test]
    fn the_extension_id_is_optional_trimmed_and_refused_malformed_naming_the_variable() {
        for unset in [
            env(&[]),
            env(&[("EXTENSION_ID", "")]),
            env(&[("EXTENSION_ID", "  ")]),
        ] {
            assert_eq!(extension_id(&unset).expect("none"), None);
        }
        let id = extension_id(&env(&[(
            "EXTENSION_ID",
            " abcdefghijklmnopabcdefghijklmnop\n",
        )]))
        .expect("valid")
        .expect("named");
        assert_eq!(id.as_str(), "abcdefghijklmnopabcdefghijklmnop");
        for bad in [
            "cpplpobcokcnipjelcpfpmjbkkpnmn",
            "CPPLPOBCOKCNIPJELCPFPMJBKKPNMNMD",
            "\"><script>alert(1)</script>",
        ] {
            let err = extension_id(&env(&[("EXTENSION_ID", bad)])).expect_err(bad);
            assert!(
                err.to_string().starts_with("EXTENSION_ID is not valid"),
                "{err}"
            );
            assert!(
                !err.to_string().contains("script"),
                "the value is not echoed: {err}"
            );
        }
    }
}
