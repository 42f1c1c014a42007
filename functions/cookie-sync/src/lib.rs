//! `POST /extension/cookies`: the Chrome extension's newest LinkedIn cookie for the signed-in
//! user. Cookies never appear in a response, a log line or an error.

use lambda_http::{Body, Error, Request, Response};
use serde_json::json;
use std::sync::Arc;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::{self, Deps};
use unipile_connect::domain::cookies::{CookieSync, CookieSyncBody};
use unipile_connect::flows::cookie_sync::{
    CookieSettings, CookieSyncPorts, SyncOutcome, sync_cookies,
};
use unipile_connect::http::{Caller, ClaimNames, Problem, json_body, json_response};
use unipile_connect::ports::{Cipher, RetryScheduler};

pub struct ExtensionCookies {
    pub deps: Deps,
    pub scheduler: Arc<dyn RetryScheduler>,
    pub cipher: Arc<dyn Cipher>,
    pub settings: CookieSettings,
    pub claims: ClaimNames,
}

impl ExtensionCookies {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            scheduler: deps::event_bridge_scheduler(&env, &aws)?,
            cipher: deps::kms_cipher(&env, &aws)?,
            settings: config::cookie_settings(&env)?,
            claims: config::claim_names(&env),
            deps: Deps::from_env(&env, &aws)?,
        })
    }
}

pub async fn handler(app: &ExtensionCookies, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &ExtensionCookies, request: Request) -> Result<Response<Body>, Problem> {
    if request.method() != http::Method::POST {
        return Err(Problem::method_not_allowed("use POST"));
    }
    let caller = Caller::from_request(&request, &app.claims)
        .map_err(|e| Problem::unauthorized(e.to_string()))?;
    let body: CookieSyncBody = json_body(request.body())?;
    let sync = CookieSync::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
    let ports = CookieSyncPorts {
        store: app.deps.store.as_ref(),
        unipile: app.deps.unipile.as_ref(),
        scheduler: app.scheduler.as_ref(),
        cipher: app.cipher.as_ref(),
        clock: app.deps.clock.as_ref(),
    };
    Ok(
        match sync_cookies(ports, &app.settings, &caller, sync).await? {
            SyncOutcome::Connected(account_id) => json_response(
                201,
                &json!({"status": "connected", "account_id": account_id.as_str()}),
            ),
            SyncOutcome::Checkpoint {
                account_id,
                checkpoint,
            } => json_response(
                202,
                &json!({"status": "checkpoint", "checkpoint": {"type": checkpoint}, "account_id": account_id.map(String::from)}),
            ),
            SyncOutcome::Reconnected(account_id) => json_response(
                200,
                &json!({"status": "reconnected", "account_id": account_id.as_str()}),
            ),
            SyncOutcome::Stored => json_response(200, &json!({"status": "stored"})),
            SyncOutcome::Throttled => {
                json_response(200, &json!({"status": "stored", "connect": "throttled"}))
            }
        },
    )
}
