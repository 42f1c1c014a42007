//! `GET /accounts` and `DELETE /accounts/{id}` for the signed-in user.

use lambda_http::{Body, Error, Request, Response};
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::Deps;
use unipile_connect::domain::AccountId;
use unipile_connect::flows::accounts::{disconnect_account, list_accounts};
use unipile_connect::http::{Caller, ClaimNames, Problem, json_response, no_content, path_param};

pub struct Accounts {
    pub deps: Deps,
    pub claims: ClaimNames,
}

impl Accounts {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            claims: config::claim_names(&env),
            deps: Deps::from_env(&env).await?,
        })
    }
}

pub async fn handler(app: &Accounts, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &Accounts, request: Request) -> Result<Response<Body>, Problem> {
    let caller = Caller::from_request(&request, &app.claims)
        .map_err(|e| Problem::unauthorized(e.to_string()))?;
    let account_id = path_param(&request, "id", "/accounts/");
    match (request.method().as_str(), account_id) {
        ("GET", None) => {
            let list = list_accounts(app.deps.store.as_ref(), &caller.user_id).await?;
            Ok(json_response(200, &list))
        }
        ("DELETE", Some(raw)) => {
            let account_id =
                AccountId::parse(raw).map_err(|e| Problem::bad_request(e.to_string()))?;
            disconnect_account(
                app.deps.store.as_ref(),
                app.deps.unipile.as_ref(),
                &caller.user_id,
                &account_id,
            )
            .await?;
            Ok(no_content())
        }
        _ => Err(Problem::method_not_allowed(
            "use GET /accounts or DELETE /accounts/{id}",
        )),
    }
}
