use super::dsn::UnipileDsn;
use super::wire::{
    AccountListResponse, AccountResponse, CheckpointSolutionBody, CookieAuthResponse,
    ErrorEnvelope, HostedLinkBody, HostedLinkResponse, LinkedinCookieBody, ObjectOnly,
};
use crate::deadline;
use crate::domain::checkpoint::CheckpointCode;
use crate::domain::custom_login::LoginTarget;
use crate::domain::unipile_error::{UnipileError, UnipileErrorType};
use crate::domain::{AccountId, AccountStatus, LinkKind, LinkedinProfileId, Provider};
use crate::ports::{
    AccountPage, COOKIE_LOGIN_TIME, CookieAuthOutcome, CookieLogin, CustomLogin, HostedLinkRequest,
    LoginOutcome, MAX_ACCOUNT_PAGE, RestartOutcome, Unipile, UnipileAccount,
};
use async_trait::async_trait;
use chrono::SecondsFormat;
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// How to reach one Unipile tenant and how patient to be with it.
#[derive(Debug, Clone)]
pub struct UnipileSettings {
    pub dsn: UnipileDsn,
    pub api_key: SecretString,
    /// Per attempt, connection and answer included.
    pub timeout: Duration,
    /// Further attempts after a 429, a 5xx or no answer.
    pub max_retries: u32,
    /// First backoff; doubled on each retry, plus up to as much again of jitter.
    pub retry_base_delay: Duration,
    /// All attempts of one call together stay within this, so a call never outlasts the
    /// function (or Unipile's patience with our webhook answer).
    pub retry_budget: Duration,
}

/// The Unipile port over HTTP. Built once at cold start: it owns a connection pool.
#[derive(Debug, Clone)]
pub struct HttpUnipile {
    http: reqwest::Client,
    settings: UnipileSettings,
}

impl HttpUnipile {
    pub fn new(settings: UnipileSettings) -> Result<Self, UnipileError> {
        let http = crate::adapters::tls::client_builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("unipile-connect/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UnipileError::Transport(format!("HTTP client: {e}")))?;
        Ok(Self { http, settings })
    }

    /// Per attempt, connection and answer included.
    pub(super) fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    pub(super) fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.http
            .request(method, self.settings.dsn.endpoint(segments))
            .header("X-API-KEY", self.settings.api_key.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// Sends with bounded retries on 429/5xx and transport failures: only for calls that are
    /// safe to repeat. No attempt starts without [`MIN_ATTEMPT`] left of the retry budget and
    /// of the invocation (its deadline), and none outlasts either.
    async fn send(
        &self,
        what: &'static str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<reqwest::Response, UnipileError> {
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            let left = deadline::cap(
                self.settings
                    .timeout
                    .min(self.settings.retry_budget.saturating_sub(started.elapsed())),
            );
            if attempt == 0 && left < MIN_ATTEMPT {
                tracing::warn!(
                    call = what,
                    "unipile call not started: too little time left"
                );
                return Err(UnipileError::OutOfTime(what));
            }
            let outcome = build().timeout(left.max(MIN_ATTEMPT)).send().await;
            let retryable = match &outcome {
                Ok(response) => is_retryable_status(response.status()),
                Err(_) => true,
            };
            let delay = self.backoff(attempt);
            let out_of_time = started.elapsed() + delay + MIN_ATTEMPT > self.settings.retry_budget
                || !deadline::allows(delay + MIN_ATTEMPT);
            if !retryable || attempt >= self.settings.max_retries || out_of_time {
                return match outcome {
                    Ok(response) => {
                        tracing::debug!(
                            call = what,
                            status = response.status().as_u16(),
                            attempt,
                            "unipile answered"
                        );
                        Ok(response)
                    }
                    // reqwest's error text names the URL, never our headers.
                    Err(error) => Err(UnipileError::Transport(error.without_url().to_string())),
                };
            }
            tracing::warn!(
                call = what,
                attempt,
                status = outcome.as_ref().map(|r| r.status().as_u16()).ok(),
                delay_ms = delay.as_millis() as u64,
                "unipile call failed, retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .settings
            .retry_base_delay
            .saturating_mul(1 << attempt.min(10));
        let jitter_ms = fastrand::u64(0..=base.as_millis() as u64);
        base + Duration::from_millis(jitter_ms)
    }
}

/// An Account as the port gives it, from `GET /accounts/{id}` or one item of the list.
fn unipile_account(account: AccountResponse) -> Result<UnipileAccount, UnipileError> {
    if let Some(object) = account.object.as_deref().filter(|o| *o != "Account") {
        return Err(UnipileError::UnexpectedResponse(format!(
            "object {object:?}, expected Account"
        )));
    }
    let account_type = Provider::from(account.account_type);
    // Only a LinkedIn account's `im.id` is the member's profile id; anything else there, or
    // an id that is not one, is no id at all (never an error: the field is unconfirmed).
    let linkedin_profile_id = (account_type == Provider::Linkedin)
        .then(|| {
            account
                .connection_params
                .as_ref()?
                .pointer("/im/id")?
                .as_str()
                .and_then(|id| LinkedinProfileId::parse(id).ok())
        })
        .flatten();
    Ok(UnipileAccount {
        account_id: AccountId::parse(account.id)
            .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))?,
        account_type,
        linkedin_profile_id,
        display_name: account.name.filter(|n| !n.trim().is_empty()),
        source_statuses: account
            .sources
            .into_iter()
            .filter_map(|s| s.status.map(AccountStatus::from))
            .collect(),
        created_at: account
            .created_at
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| at.with_timezone(&chrono::Utc)),
    })
}

/// The least time worth giving one attempt: less, and a slow but healthy answer is cut off.
const MIN_ATTEMPT: Duration = Duration::from_secs(1);

fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// Reads a 2xx body as `T`, or turns the answer into the typed error Unipile described.
pub(super) async fn read<T: DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, UnipileError> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| UnipileError::Transport(e.without_url().to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()));
    }
    Err(api_error(status, &bytes))
}

fn api_error(status: StatusCode, body: &[u8]) -> UnipileError {
    let envelope: Option<ErrorEnvelope> = serde_json::from_slice(body).ok();
    let (error_type, title, detail) = match envelope {
        Some(e) => (e.error_type, e.title, e.detail),
        None => (None, None, None),
    };
    UnipileError::Api {
        status: status.as_u16(),
        error_type: UnipileErrorType::from(error_type.unwrap_or_default()),
        title: title.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
        detail,
    }
}

#[async_trait]
impl Unipile for HttpUnipile {
    async fn create_hosted_link(&self, request: &HostedLinkRequest) -> Result<Url, UnipileError> {
        let (kind, providers, reconnect_account) = match &request.kind {
            LinkKind::Create { providers } => ("create", Some(providers), None),
            LinkKind::Reconnect { account_id } => ("reconnect", None, Some(account_id.as_str())),
        };
        let body = HostedLinkBody {
            kind,
            providers,
            reconnect_account,
            api_url: self.settings.dsn.api_url(),
            expires_on: request
                .expires_on
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            name: request.name.as_str(),
            notify_url: request.notify_url.as_str(),
            success_redirect_url: request.success_redirect_url.as_ref().map(Url::as_str),
            failure_redirect_url: request.failure_redirect_url.as_ref().map(Url::as_str),
        };
        let response = self
            .send("hosted_link", || {
                self.request(Method::POST, &["hosted", "accounts", "link"])
                    .json(&body)
            })
            .await?;
        let link: HostedLinkResponse = read(response).await?;
        let url = Url::parse(&link.url)
            .map_err(|e| UnipileError::UnexpectedResponse(format!("hosted-auth url: {e}")))?;
        // The user's browser goes there to type their credentials: never over plain http
        // (the simulator's http links are on loopback), never to another scheme.
        if !crate::domain::secure_url::is_https_or_loopback(&url) {
            return Err(UnipileError::UnexpectedResponse(format!(
                "hosted-auth url is not https (scheme {})",
                url.scheme()
            )));
        }
        Ok(url)
    }

    async fn account(&self, account_id: &AccountId) -> Result<UnipileAccount, UnipileError> {
        let response = self
            .send("get_account", || {
                self.request(Method::GET, &["accounts", account_id.as_str()])
            })
            .await?;
        let account: AccountResponse = read(response).await?;
        unipile_account(account)
    }

    async fn list_accounts(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AccountPage, UnipileError> {
        let limit = limit.clamp(1, MAX_ACCOUNT_PAGE).to_string();
        let response = self
            .send("list_accounts", || {
                let mut query = vec![("limit", limit.as_str())];
                if let Some(cursor) = cursor {
                    query.push(("cursor", cursor));
                }
                self.request(Method::GET, &["accounts"]).query(&query)
            })
            .await?;
        let list: AccountListResponse = read(response).await?;
        let accounts = list
            .items
            .into_iter()
            .map(|item| {
                serde_json::from_value::<AccountResponse>(item)
                    .map_err(|e| UnipileError::UnexpectedResponse(format!("account list: {e}")))
                    .and_then(unipile_account)
            })
            .collect::<Result<Vec<_>, _>>()?;
        // `null`, absent or empty: the last page (contract §1).
        let cursor = match list.cursor {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Ok(AccountPage { accounts, cursor })
    }

    async fn delete_account(&self, account_id: &AccountId) -> Result<(), UnipileError> {
        let response = self
            .send("delete_account", || {
                self.request(Method::DELETE, &["accounts", account_id.as_str()])
            })
            .await?;
        match read::<serde_json::Value>(response).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn restart_account(
        &self,
        account_id: &AccountId,
    ) -> Result<RestartOutcome, UnipileError> {
        let response = self
            .send("restart_account", || {
                self.request(Method::POST, &["accounts", account_id.as_str(), "restart"])
            })
            .await?;
        let answer: ObjectOnly = read(response).await?;
        match answer.object.as_deref() {
            Some("AccountRestarted") => Ok(RestartOutcome::Restarted),
            Some("AccountFailedToRestart") => Ok(RestartOutcome::FailedToRestart),
            other => Err(UnipileError::UnexpectedResponse(format!(
                "restart answered object {other:?}"
            ))),
        }
    }

    async fn connect_linkedin(
        &self,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        self.cookie_auth(&["accounts"], login).await
    }

    async fn reconnect_linkedin(
        &self,
        account_id: &AccountId,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        self.cookie_auth(&["accounts", account_id.as_str()], login)
            .await
    }

    async fn start_login(
        &self,
        target: &LoginTarget,
        login: &CustomLogin,
    ) -> Result<LoginOutcome, UnipileError> {
        self.custom_start(target, login).await
    }

    async fn solve_login_checkpoint(
        &self,
        provider: &Provider,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<LoginOutcome, UnipileError> {
        self.custom_solve(provider, account_id, code).await
    }

    async fn resend_login_checkpoint(
        &self,
        provider: &Provider,
        account_id: &AccountId,
    ) -> Result<(), UnipileError> {
        self.custom_resend(provider, account_id).await
    }

    /// Sent once, like a login: a one-time code spent by a first try that timed out would be
    /// refused on the second.
    async fn solve_checkpoint(
        &self,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        if !deadline::allows(COOKIE_LOGIN_TIME) {
            tracing::warn!("checkpoint solution not sent: too little time left");
            return Err(UnipileError::OutOfTime("checkpoint"));
        }
        let body = CheckpointSolutionBody {
            provider: "LINKEDIN",
            account_id: account_id.as_str(),
            code: code.expose(),
        };
        let response = self
            .request(Method::POST, &["accounts", "checkpoint"])
            .timeout(COOKIE_LOGIN_TIME.max(self.settings.timeout))
            .json(&body)
            .send()
            .await
            .map_err(|e| UnipileError::Transport(e.without_url().to_string()))?;
        match login_outcome(response).await? {
            // A checkpoint after a checkpoint may not repeat the account's id.
            CookieAuthOutcome::Checkpoint {
                account_id: None,
                checkpoint_type,
            } => Ok(CookieAuthOutcome::Checkpoint {
                account_id: Some(account_id.clone()),
                checkpoint_type,
            }),
            outcome => Ok(outcome),
        }
    }
}

impl HttpUnipile {
    /// Sent once: a repeated connect could start a second authentication (425) or create a
    /// second account. Started only with [`COOKIE_LOGIN_TIME`] left, so that the function's
    /// timeout never cuts a login off with its outcome unknown.
    async fn cookie_auth(
        &self,
        segments: &[&str],
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        if !deadline::allows(COOKIE_LOGIN_TIME) {
            tracing::warn!("cookie login not started: too little time left");
            return Err(UnipileError::OutOfTime("cookie_login"));
        }
        let body = LinkedinCookieBody {
            provider: "LINKEDIN",
            access_token: login.cookies.li_at.expose_secret(),
            premium_token: login.cookies.li_a.as_ref().map(|v| v.expose_secret()),
            user_agent: &login.user_agent,
            country: login
                .country
                .as_ref()
                .map(|c| c.as_str().to_ascii_lowercase()),
            // Unipile infers the proxy location from an IPv4 address (contract §4a).
            ip: login.ip.filter(IpAddr::is_ipv4).map(|ip| ip.to_string()),
        };
        let response = self
            .request(Method::POST, segments)
            .timeout(COOKIE_LOGIN_TIME.max(self.settings.timeout))
            .json(&body)
            .send()
            .await
            .map_err(|e| UnipileError::Transport(e.without_url().to_string()))?;
        login_outcome(response).await
    }
}

/// Unipile's answer to a login or a checkpoint's solution, dispatched on `object` (contract
/// §4c): `AccountCreated`/`AccountReconnected`, or another `Checkpoint`.
async fn login_outcome(response: reqwest::Response) -> Result<CookieAuthOutcome, UnipileError> {
    let answer: CookieAuthResponse = read(response).await?;
    let account_id = answer
        .account_id
        .map(AccountId::parse)
        .transpose()
        .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))?;
    match (answer.object.as_deref(), account_id) {
        (Some("AccountCreated" | "AccountReconnected"), Some(id)) => {
            Ok(CookieAuthOutcome::Connected(id))
        }
        (Some("Checkpoint"), account_id) => Ok(CookieAuthOutcome::Checkpoint {
            account_id,
            checkpoint_type: answer
                .checkpoint
                .and_then(|c| c.kind)
                .unwrap_or_else(|| "UNKNOWN".to_owned()),
        }),
        (other, _) => Err(UnipileError::UnexpectedResponse(format!(
            "cookie login answered object {other:?}"
        ))),
    }
}

impl HttpUnipile {
    /// [`Self::send`] (bounded retries, for calls safe to repeat) for the sibling adapters,
    /// such as `webhooks.rs`.
    pub(super) async fn send_repeatable(
        &self,
        what: &'static str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<reqwest::Response, UnipileError> {
        self.send(what, build).await
    }
}
