//! Unipile's `notify_url` call (`POST /unipile/notify?state=...`, behind a function URL).

use lambda_http::{Body, Error, Request, Response};
use serde_json::json;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::Deps;
use unipile_connect::flows::connect_callback::{CallbackOutcome, CallbackPorts, record_callback};
use unipile_connect::http::{Problem, StateKey, json_response, query_param};

pub struct ConnectCallback {
    pub deps: Deps,
    pub state_key: StateKey,
}

impl ConnectCallback {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            state_key: config::state_key(&env)?,
            deps: Deps::from_env(&env).await?,
        })
    }
}

pub async fn handler(app: &ConnectCallback, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &ConnectCallback, request: Request) -> Result<Response<Body>, Problem> {
    if request.method() != http::Method::POST {
        return Err(Problem::method_not_allowed("use POST"));
    }
    let state = query_param(&request, "state");
    let ports = CallbackPorts {
        store: app.deps.store.as_ref(),
        unipile: app.deps.unipile.as_ref(),
        clock: app.deps.clock.as_ref(),
    };
    let outcome = record_callback(
        ports,
        &app.state_key,
        state.as_deref(),
        request.body().as_ref(),
    )
    .await?;
    Ok(match outcome {
        CallbackOutcome::Recorded(account) => json_response(
            200,
            &json!({"status": "recorded", "account_id": account.account_id.as_str()}),
        ),
        CallbackOutcome::Ignored(status) => {
            json_response(200, &json!({"status": "ignored", "event": status.as_str()}))
        }
    })
}
