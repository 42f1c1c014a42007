//! The `/api/v1` routes, answering as Unipile does (contract §2, §6, §7), and the `/_sim`
//! control routes.

use super::answers::{admitted, envelope, post_json};
use super::state::{Fault, SimLink, Simulator, new_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

const LINK_FIELDS: &[&str] = &[
    "type",
    "providers",
    "reconnect_account",
    "api_url",
    "expiresOn",
    "name",
    "notify_url",
    "success_redirect_url",
    "failure_redirect_url",
    "disabled_features",
    "sync_limit",
    "bypass_success_screen",
];
const HOSTED_PROVIDERS: &[&str] = &[
    "LINKEDIN",
    "WHATSAPP",
    "INSTAGRAM",
    "MESSENGER",
    "TELEGRAM",
    "GOOGLE",
    "OUTLOOK",
    "MAIL",
    "TWITTER",
];

/// `^[1-2]\d{3}-[0-1]\d-[0-3]\dT\d{2}:\d{2}:\d{2}.\d{3}Z$`, the pattern Unipile enforces.
fn is_expires_on(text: &str) -> bool {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    b.len() == 24
        && matches!(b[0], b'1' | b'2')
        && (1..4).all(digit)
        && b[4] == b'-'
        && matches!(b[5], b'0' | b'1')
        && digit(6)
        && b[7] == b'-'
        && matches!(b[8], b'0'..=b'3')
        && digit(9)
        && b[10] == b'T'
        && digit(11)
        && digit(12)
        && b[13] == b':'
        && digit(14)
        && digit(15)
        && b[16] == b':'
        && digit(17)
        && digit(18)
        && (20..23).all(digit)
        && b[23] == b'Z'
}

fn optional_url(body: &Value, field: &str) -> Result<Option<String>, String> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if url::Url::parse(s).is_ok() => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} must be a URL")),
    }
}

fn parse_link(sim: &Simulator, body: &Value) -> Result<SimLink, String> {
    let object = body.as_object().ok_or("body must be a JSON object")?;
    if let Some(unknown) = object.keys().find(|k| !LINK_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown}"));
    }
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or("type is required")?;
    let providers = match (kind, object.get("providers")) {
        (_, Some(Value::String(p)))
            if ["*", "*:MAILING", "*:MESSAGING", "*:CALENDAR"].contains(&p.as_str()) =>
        {
            HOSTED_PROVIDERS.iter().map(|p| p.to_string()).collect()
        }
        (_, Some(Value::Array(list))) if !list.is_empty() => list
            .iter()
            .map(|p| {
                p.as_str()
                    .filter(|p| HOSTED_PROVIDERS.contains(p))
                    .map(str::to_owned)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("providers holds an unknown provider")?,
        ("create", _) => return Err("providers is required for type create".into()),
        (_, None) => Vec::new(),
        (_, Some(_)) => return Err("providers is not valid".into()),
    };
    let reconnect_account = match kind {
        "create" => None,
        "reconnect" => {
            let id = object
                .get("reconnect_account")
                .and_then(Value::as_str)
                .ok_or("reconnect_account is required for type reconnect")?;
            if !sim.lock().accounts.contains_key(id) {
                return Err(format!("reconnect_account {id} does not exist"));
            }
            Some(id.to_owned())
        }
        _ => return Err("type must be create or reconnect".into()),
    };
    let api_url = object
        .get("api_url")
        .and_then(Value::as_str)
        .ok_or("api_url is required")?;
    url::Url::parse(api_url).map_err(|_| "api_url must be a URL")?;
    let expires_on = object
        .get("expiresOn")
        .and_then(Value::as_str)
        .ok_or("expiresOn is required")?;
    if !is_expires_on(expires_on) {
        return Err("expiresOn must match YYYY-MM-DDTHH:MM:SS.sssZ".into());
    }
    let expires_on: DateTime<Utc> = expires_on.parse().map_err(|_| "expiresOn is not a date")?;
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or("name is required")?;
    Ok(SimLink {
        kind: kind.to_owned(),
        providers,
        reconnect_account,
        name: name.to_owned(),
        notify_url: optional_url(body, "notify_url")?,
        success_redirect_url: optional_url(body, "success_redirect_url")?,
        failure_redirect_url: optional_url(body, "failure_redirect_url")?,
        expires_on,
        used: false,
    })
}

pub(super) async fn create_hosted_link(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = "/api/v1/hosted/accounts/link".to_owned();
    post_json(&sim, "hosted_link", path, &headers, &body, |json| {
        let link = match parse_link(&sim, json) {
            Ok(link) => link,
            Err(reason) => return envelope(400, "errors/invalid_parameters", &reason),
        };
        let token = new_id();
        sim.lock().links.insert(token.clone(), link);
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let base = sim
            .lock()
            .hosted_link_base
            .clone()
            .unwrap_or_else(|| format!("http://{host}"));
        let url = format!("{base}/_sim/hosted/{token}");
        (
            StatusCode::CREATED,
            Json(json!({"object": "HostedAuthURL", "url": url})),
        )
            .into_response()
    })
}

fn account_json(account: &super::SimAccount) -> Value {
    json!({
        "object": "Account",
        "type": account.account_type,
        "id": account.id,
        "name": account.name,
        "created_at": account.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "connection_params": match &account.linkedin_profile_id {
            Some(profile) => json!({"im": {"id": profile, "username": account.name}}),
            None => json!({"im": {"username": account.name}}),
        },
        "groups": [],
        "sources": [{"id": format!("{}_MESSAGING", account.id), "status": account.status}],
    })
}

pub(super) async fn list_accounts(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    admitted(
        &sim,
        "list_accounts",
        "GET",
        "/api/v1/accounts".into(),
        &headers,
        || {
            let items: Vec<Value> = sim.lock().accounts.values().map(account_json).collect();
            Json(json!({"object": "AccountList", "items": items, "cursor": null})).into_response()
        },
    )
}

pub(super) async fn get_account(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    admitted(
        &sim,
        "get_account",
        "GET",
        format!("/api/v1/accounts/{id}"),
        &headers,
        || match sim.lock().accounts.get(&id) {
            Some(account) => Json(account_json(account)).into_response(),
            None => envelope(404, "errors/resource_not_found", "Account not found"),
        },
    )
}

pub(super) async fn delete_account(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    admitted(
        &sim,
        "delete_account",
        "DELETE",
        format!("/api/v1/accounts/{id}"),
        &headers,
        || match sim.lock().accounts.remove(&id) {
            Some(_) => Json(json!({"object": "AccountDeleted"})).into_response(),
            None => envelope(404, "errors/resource_not_found", "Account not found"),
        },
    )
}

pub(super) async fn restart_account(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    admitted(
        &sim,
        "restart_account",
        "POST",
        format!("/api/v1/accounts/{id}/restart"),
        &headers,
        || match sim.lock().accounts.get_mut(&id) {
            Some(account) => {
                account.status = "OK".into();
                Json(json!({"object": "AccountRestarted"})).into_response()
            }
            None => envelope(404, "errors/resource_not_found", "Account not found"),
        },
    )
}

/// What `GET /_sim/requests` blanks out: LinkedIn cookies and native-login passwords.
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "premium_token",
    "password",
    "imap_password",
    "smtp_password",
];

/// `GET /_sim/requests`: what the simulator received, with cookies and passwords blanked out
/// (tests in the same process read them through [`Simulator::requests`]; nothing serves them).
pub(super) async fn recorded_requests(State(sim): State<Simulator>) -> Response {
    let mut requests = sim.requests();
    for body in requests.iter_mut().filter_map(|r| r.body.as_mut()) {
        for field in SECRET_FIELDS {
            if let Some(value) = body.get_mut(field) {
                *value = Value::String("[REDACTED]".into());
            }
        }
    }
    Json(requests).into_response()
}

pub(super) async fn notifications(State(sim): State<Simulator>) -> Response {
    Json(sim.notifications()).into_response()
}

pub(super) async fn add_fault(State(sim): State<Simulator>, Json(fault): Json<Fault>) -> Response {
    sim.add_fault(fault);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn clear_faults(State(sim): State<Simulator>) -> Response {
    sim.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_on_follows_unipile_pattern() {
        assert!(is_expires_on("2026-01-01T12:00:00.000Z"));
        assert!(!is_expires_on("2026-01-01T12:00:00Z"));
        assert!(!is_expires_on("2026-01-01T12:00:00.000000Z"));
        assert!(!is_expires_on("2026-01-01T12:00:00.000+00:00"));
    }

    #[test]
    fn links_with_invented_or_missing_fields_are_refused() {
        let sim = Simulator::new("k");
        let base = json!({"type":"create","providers":"*","api_url":"https://api8.unipile.com:13443",
            "expiresOn":"2026-01-01T12:00:00.000Z","name":"u1","notify_url":"https://cb.example.com/n"});
        assert!(parse_link(&sim, &base).is_ok());
        let mut invented = base.clone();
        invented["user_id"] = json!("u1");
        assert_eq!(
            parse_link(&sim, &invented).err().as_deref(),
            Some("unknown field user_id")
        );
        let mut no_name = base.clone();
        no_name["name"] = json!("");
        assert!(parse_link(&sim, &no_name).is_err());
        let mut unknown_account = base;
        unknown_account["type"] = json!("reconnect");
        unknown_account["reconnect_account"] = json!("nope");
        assert!(parse_link(&sim, &unknown_account).is_err());
    }
}
