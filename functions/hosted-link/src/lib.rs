//! `POST /accounts/link`: a hosted-auth link for the signed-in user.

use lambda_http::{Body, Error, Request, Response};
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::Deps;
use unipile_connect::domain::{LinkRequest, LinkRequestBody};
use unipile_connect::flows::hosted_link::{LinkPorts, LinkSettings, issue_link};
use unipile_connect::http::{Caller, ClaimNames, Problem, json_body, json_response};

pub struct HostedLink {
    pub deps: Deps,
    pub settings: LinkSettings,
    pub claims: ClaimNames,
}

impl HostedLink {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            settings: config::link_settings(&env)?,
            claims: config::claim_names(&env),
            deps: Deps::from_env(&env).await?,
        })
    }
}

pub async fn handler(app: &HostedLink, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &HostedLink, request: Request) -> Result<Response<Body>, Problem> {
    if request.method() != http::Method::POST {
        return Err(Problem::method_not_allowed("use POST"));
    }
    let caller = Caller::from_request(&request, &app.claims)
        .map_err(|e| Problem::unauthorized(e.to_string()))?;
    let body: LinkRequestBody = json_body(request.body())?;
    let link_request = LinkRequest::parse(body, &app.settings.redirects)
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let ports = LinkPorts {
        store: app.deps.store.as_ref(),
        unipile: app.deps.unipile.as_ref(),
        clock: app.deps.clock.as_ref(),
    };
    let link = issue_link(ports, &app.settings, &caller, link_request).await?;
    Ok(json_response(200, &link))
}
