//! LinkedIn checkpoints (contract §4c): a cookie login scripted `checkpoint:<TYPE>` (or
//! `checkpoint:<TYPE>:<CODE>`) stops at one, and `POST /api/v1/accounts/checkpoint` answers it
//! as Unipile does. An approval in the LinkedIn app is the user's, outside any API: the
//! simulator's `POST /_sim/checkpoints/{account_id}/approve` stands for it.

use super::answers::{envelope, post_json};
use super::records::SimCheckpoint;
use super::state::Simulator;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

const SOLVE_FIELDS: &[&str] = &["provider", "account_id", "code"];
const SOLVE_PROVIDERS: &[&str] = &["LINKEDIN", "INSTAGRAM", "TWITTER", "MESSENGER"];

fn check_body(body: &Value) -> Result<(String, String), String> {
    let object = body.as_object().ok_or("body must be a JSON object")?;
    if let Some(unknown) = object.keys().find(|k| !SOLVE_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown}"));
    }
    let text = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or(format!("{field} is required"))
    };
    let provider = text("provider")?;
    if !SOLVE_PROVIDERS.contains(&provider.as_str()) {
        return Err(format!(
            "provider must be one of {}",
            SOLVE_PROVIDERS.join("|")
        ));
    }
    Ok((text("account_id")?, text("code")?))
}

fn solve(sim: &Simulator, account_id: &str, code: &str) -> Response {
    let mut state = sim.lock();
    if !state.accounts.contains_key(account_id) {
        return envelope(404, "errors/resource_not_found", "Account not found");
    }
    let Some(waiting) = state.checkpoints.get(account_id).cloned() else {
        return envelope(
            500,
            "errors/authentication_intent_error",
            "No authentication in progress for this account",
        );
    };
    if Utc::now() >= waiting.expires_at {
        state.checkpoints.remove(account_id);
        return envelope(
            500,
            "errors/authentication_intent_error",
            "The authentication intent expired",
        );
    }
    if code == "TRY_ANOTHER_WAY" {
        let switched = SimCheckpoint {
            kind: "OTP".into(),
            ..waiting
        };
        state.checkpoints.insert(account_id.to_owned(), switched);
        let body = json!({"object": "Checkpoint", "account_id": account_id, "checkpoint": {"type": "OTP"}});
        return (StatusCode::ACCEPTED, Json(body)).into_response();
    }
    // An approval in the app has no code to give.
    if waiting.kind == "IN_APP_VALIDATION" || code != waiting.code {
        return envelope(
            401,
            "errors/invalid_checkpoint_solution",
            "Invalid checkpoint solution",
        );
    }
    state.checkpoints.remove(account_id);
    if let Some(account) = state.accounts.get_mut(account_id) {
        account.status = "OK".into();
    }
    let (status, object) = if waiting.reconnect {
        (StatusCode::OK, "AccountReconnected")
    } else {
        (StatusCode::CREATED, "AccountCreated")
    };
    (
        status,
        Json(json!({"object": object, "account_id": account_id})),
    )
        .into_response()
}

pub(super) async fn solve_checkpoint(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = "/api/v1/accounts/checkpoint".to_owned();
    post_json(
        &sim,
        "solve_checkpoint",
        path,
        &headers,
        &body,
        |json| match check_body(json) {
            Ok((account_id, code)) => solve(&sim, &account_id, &code),
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

impl Simulator {
    /// The user approves the sign-in in their LinkedIn app: the login waiting at an
    /// `IN_APP_VALIDATION` checkpoint completes. `false` when none waits for `account_id`.
    pub fn approve_in_app(&self, account_id: &str) -> bool {
        let mut state = self.lock();
        match state.checkpoints.get(account_id) {
            Some(waiting) if waiting.kind == "IN_APP_VALIDATION" => {
                state.checkpoints.remove(account_id);
                if let Some(account) = state.accounts.get_mut(account_id) {
                    account.status = "OK".into();
                }
                true
            }
            _ => false,
        }
    }
}

/// `POST /_sim/checkpoints/{account_id}/approve`: [`Simulator::approve_in_app`].
pub(super) async fn approve(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    if sim.approve_in_app(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::CONFLICT,
            format!("no IN_APP_VALIDATION checkpoint waits for account {id}"),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::super::records::DEFAULT_CODE;
    use super::*;

    #[test]
    fn solutions_with_invented_or_missing_fields_are_refused() {
        let ok = json!({"provider": "LINKEDIN", "account_id": "a1", "code": "123456"});
        assert_eq!(check_body(&ok), Ok(("a1".to_owned(), "123456".to_owned())));
        let invented =
            json!({"provider": "LINKEDIN", "account_id": "a1", "code": "1", "type": "2FA"});
        assert!(
            check_body(&invented)
                .expect_err("invented")
                .contains("type")
        );
        let missing = json!({"provider": "LINKEDIN", "account_id": "a1"});
        assert!(check_body(&missing).expect_err("missing").contains("code"));
        let provider = json!({"provider": "WHATSAPP", "account_id": "a1", "code": "1"});
        assert!(check_body(&provider).is_err());
    }

    #[test]
    fn a_script_names_the_type_and_may_name_the_code() {
        let plain = SimCheckpoint::scripted("2FA", false);
        assert_eq!(
            (plain.kind.as_str(), plain.code.as_str()),
            ("2FA", DEFAULT_CODE)
        );
        let coded = SimCheckpoint::scripted("OTP:424242", true);
        assert_eq!(
            (coded.kind.as_str(), coded.code.as_str()),
            ("OTP", "424242")
        );
        assert!(coded.reconnect);
    }
}
