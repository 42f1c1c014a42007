//! LinkedIn login with cookies (contract §4): `POST /api/v1/accounts` connects,
//! `POST /api/v1/accounts/{id}` reconnects. Answers follow a script set through
//! `POST /_sim/cookie-outcomes`; with none scripted, logins succeed.

use super::answers::{envelope, post_json};
use super::records::SimCheckpoint;
use super::state::{SimAccount, Simulator, new_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

const COOKIE_FIELDS: &[&str] = &[
    "provider",
    "access_token",
    "premium_token",
    "user_agent",
    "country",
    "ip",
    "recruiter_contract_id",
    "disabled_features",
    "sync_limit",
    "proxy",
];

/// The outcomes a script may name.
pub const OUTCOMES: &[&str] = &[
    "success",
    "lost",
    "checkpoint:<TYPE>",
    "checkpoint:<TYPE>:<CODE>",
    "invalid_credentials",
    "provider_error",
    "network_down",
    "timeout",
];

fn check_body(body: &Value) -> Result<(), String> {
    let object = body.as_object().ok_or("body must be a JSON object")?;
    if let Some(unknown) = object.keys().find(|k| !COOKIE_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown}"));
    }
    if object.get("provider").and_then(Value::as_str) != Some("LINKEDIN") {
        return Err(
            "provider must be LINKEDIN (the simulator knows only LinkedIn cookie logins)".into(),
        );
    }
    let text = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    text("access_token").ok_or("access_token is required")?;
    text("user_agent").ok_or("user_agent is required")?;
    if let Some(country) = object.get("country") {
        let ok = country
            .as_str()
            .is_some_and(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()));
        if !ok {
            return Err("country must be an ISO 3166-1 alpha-2 code".into());
        }
    }
    let ipv4 = |ip: &Value| {
        ip.as_str()
            .is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok())
    };
    if object.get("ip").is_some_and(|ip| !ipv4(ip)) {
        return Err("ip must be an IPv4 address".into());
    }
    Ok(())
}

/// The body's `li_at` (checked present by [`check_body`]).
fn access_token(body: &Value) -> &str {
    body.get("access_token")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl Simulator {
    /// Queues the answers of the next cookie logins (see [`OUTCOMES`]).
    pub fn script_cookie_outcomes(&self, outcomes: impl IntoIterator<Item = String>) {
        self.lock().cookie_outcomes.extend(outcomes);
    }
}

/// Answers one login with the session `li_at`: `reconnect` names the account for a reconnect.
fn login(sim: &Simulator, li_at: &str, reconnect: Option<&str>) -> Response {
    let outcome = sim
        .lock()
        .cookie_outcomes
        .pop_front()
        .unwrap_or_else(|| "success".to_owned());
    let mut state = sim.lock();
    if reconnect.is_some_and(|id| !state.accounts.contains_key(id)) {
        return envelope(404, "errors/resource_not_found", "Account not found");
    }
    let account_id = reconnect.map_or_else(new_id, str::to_owned);
    let profile = state.linkedin_members.get(li_at).cloned();
    let mut upsert = |status: &str| {
        let account = state
            .accounts
            .entry(account_id.clone())
            .or_insert_with(|| SimAccount {
                id: account_id.clone(),
                account_type: "LINKEDIN".into(),
                name: "LinkedIn member (simulated)".into(),
                created_at: Utc::now(),
                status: status.to_owned(),
                linkedin_profile_id: profile.clone(),
            });
        account.status = status.to_owned();
    };
    match outcome.as_str() {
        "success" => {
            upsert("OK");
            let (status, object) = match reconnect {
                Some(_) => (StatusCode::OK, "AccountReconnected"),
                None => (StatusCode::CREATED, "AccountCreated"),
            };
            (
                status,
                Json(json!({"object": object, "account_id": account_id})),
            )
                .into_response()
        }
        checkpoint if checkpoint.starts_with("checkpoint:") => {
            upsert("CONNECTING");
            let waiting = SimCheckpoint::scripted(
                checkpoint.trim_start_matches("checkpoint:"),
                reconnect.is_some(),
            );
            let body = json!({"object": "Checkpoint", "account_id": account_id, "checkpoint": {"type": waiting.kind}});
            state.checkpoints.insert(account_id.clone(), waiting);
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        // The account is made, then the answer never arrives: a gateway's 504.
        "lost" => {
            upsert("OK");
            envelope(504, "errors/request_timeout", "Request timed out")
        }
        "invalid_credentials" => envelope(401, "errors/invalid_credentials", "Invalid credentials"),
        "provider_error" => envelope(
            500,
            "errors/provider_error",
            "The provider answered with an error",
        ),
        "network_down" => envelope(503, "errors/network_down", "Network down"),
        "timeout" => envelope(504, "errors/request_timeout", "Request timed out"),
        other => envelope(
            500,
            "errors/unexpected_error",
            &format!("unknown scripted outcome {other}"),
        ),
    }
}

pub(super) async fn connect(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = "/api/v1/accounts".to_owned();
    post_json(
        &sim,
        "connect_account",
        path,
        &headers,
        &body,
        |json| match check_body(json) {
            Ok(()) => login(&sim, access_token(json), None),
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

pub(super) async fn reconnect(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = format!("/api/v1/accounts/{id}");
    post_json(
        &sim,
        "reconnect_account",
        path,
        &headers,
        &body,
        |json| match check_body(json) {
            Ok(()) => login(&sim, access_token(json), Some(&id)),
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

#[derive(Deserialize)]
pub(super) struct Script {
    outcomes: Vec<String>,
}

/// `POST /_sim/cookie-outcomes {"outcomes":["invalid_credentials","success"]}`.
pub(super) async fn script(State(sim): State<Simulator>, Json(script): Json<Script>) -> Response {
    sim.script_cookie_outcomes(script.outcomes);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub(super) struct Member {
    li_at: String,
    profile_id: String,
}

/// `POST /_sim/linkedin-members {"li_at":"AQEDAR…","profile_id":"ACoAAB…"}`: the LinkedIn
/// session `li_at` is that member's, so the accounts it logs in show that `im.id`.
pub(super) async fn add_member(
    State(sim): State<Simulator>,
    Json(member): Json<Member>,
) -> Response {
    sim.add_linkedin_member(&member.li_at, &member.profile_id);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn clear_script(State(sim): State<Simulator>) -> Response {
    sim.lock().cookie_outcomes.clear();
    StatusCode::NO_CONTENT.into_response()
}
