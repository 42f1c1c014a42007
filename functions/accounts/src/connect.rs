//! `/accounts/connect...`: custom authentication from the team's own page. Each route parses
//! its request, calls the flow, and answers the step the sign-in is at.

use crate::Accounts;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use unipile_connect::domain::checkpoint::CheckpointCode;
use unipile_connect::domain::custom_login::{ConnectBody, LoginHints, LoginRequest};
use unipile_connect::domain::{AccountId, Caller};
use unipile_connect::flows::custom_login::{self, LoginPorts, LoginSettings};
use unipile_connect::http::{
    CodeSentView, LoginStepView, LoginWaitView, Problem, json_body, json_response, path_param,
    step_status,
};

/// How long `GET /accounts/connect/{id}` holds while nothing happened (the page asks again).
const POLL_HOLD: std::time::Duration = std::time::Duration::from_secs(10);

/// The longest user agent forwarded to Unipile.
const MAX_USER_AGENT: usize = 512;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointAnswerBody {
    account_id: String,
    code: String,
}

impl std::fmt::Debug for CheckpointAnswerBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointAnswerBody")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendBody {
    account_id: String,
}

fn ports(app: &Accounts) -> LoginPorts<'_> {
    LoginPorts {
        store: app.deps.store.as_ref(),
        unipile: app.deps.unipile.as_ref(),
        scheduler: None,
        clock: app.deps.clock.as_ref(),
    }
}

pub(crate) async fn handle(
    app: &Accounts,
    caller: &Caller,
    request: Request,
) -> Result<Response<Body>, Problem> {
    let path = request.uri().path();
    let rest = path
        .split_once("/accounts/connect")
        .map(|(_, rest)| rest.trim_matches('/'))
        .unwrap_or_default();
    match (request.method().as_str(), rest) {
        ("POST", "") => start(app, caller, &request).await,
        ("POST", "checkpoint") => answer(app, caller, &request).await,
        ("POST", "resend") => resend(app, caller, &request).await,
        ("GET", id) if !id.is_empty() && !id.contains('/') => {
            let raw = path_param(&request, "account_id", "/accounts/connect/")
                .unwrap_or_else(|| id.to_owned());
            poll(app, caller, &raw).await
        }
        _ => Err(Problem::method_not_allowed(
            "use POST /accounts/connect, POST /accounts/connect/checkpoint, POST /accounts/connect/resend or GET /accounts/connect/{account_id}",
        )),
    }
}

async fn start(
    app: &Accounts,
    caller: &Caller,
    request: &Request,
) -> Result<Response<Body>, Problem> {
    let body: ConnectBody = json_body(request.body())?;
    let login = LoginRequest::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
    let settings = LoginSettings {
        limit: app.attempt_limit,
    };
    let step = custom_login::start(ports(app), &settings, caller, login, hints(request)).await?;
    Ok(json_response(
        step_status(&step),
        &LoginStepView::from(&step),
    ))
}

async fn answer(
    app: &Accounts,
    caller: &Caller,
    request: &Request,
) -> Result<Response<Body>, Problem> {
    let body: CheckpointAnswerBody = json_body(request.body())?;
    let account_id = account_id(body.account_id)?;
    let code = CheckpointCode::parse(&body.code)
        .map_err(|e| Problem::bad_request(format!("`code`: {e}")))?;
    let step = custom_login::answer_checkpoint(ports(app), caller, &account_id, code).await?;
    Ok(json_response(
        step_status(&step),
        &LoginStepView::from(&step),
    ))
}

async fn resend(
    app: &Accounts,
    caller: &Caller,
    request: &Request,
) -> Result<Response<Body>, Problem> {
    let body: ResendBody = json_body(request.body())?;
    let account_id = account_id(body.account_id)?;
    let expires_at = custom_login::resend(ports(app), caller, &account_id).await?;
    Ok(json_response(
        202,
        &CodeSentView::new(&account_id, expires_at),
    ))
}

async fn poll(app: &Accounts, caller: &Caller, raw: &str) -> Result<Response<Body>, Problem> {
    let account_id = account_id(raw.to_owned())?;
    let wait = custom_login::poll(ports(app), caller, &account_id, POLL_HOLD).await?;
    Ok(json_response(200, &LoginWaitView::new(wait, &account_id)))
}

fn account_id(raw: String) -> Result<AccountId, Problem> {
    AccountId::parse(raw).map_err(|e| Problem::bad_request(format!("`account_id`: {e}")))
}

/// The browser's user agent and the user's IPv4 address, as API Gateway saw them.
fn hints(request: &Request) -> LoginHints {
    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|ua| !ua.is_empty() && ua.len() <= MAX_USER_AGENT)
        .map(str::to_owned);
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| ip.parse().ok()),
        _ => None,
    };
    LoginHints { user_agent, ip }
}
