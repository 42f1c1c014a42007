//! How every simulated Unipile route answers before serving: the call recorded, the API key
//! checked, an armed fault fired, a body that is not JSON refused, all in Unipile's error
//! envelope (contract §7).

use super::state::{RecordedRequest, Simulator};
use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Unipile's error envelope (contract §7).
pub(super) fn envelope(status: u16, error_type: &str, title: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"title": title, "type": error_type, "status": status});
    (code, Json(body)).into_response()
}

/// A body of exactly `fields` (an unknown one is refused, as Unipile refuses it) whose
/// `required` text fields are there and not empty, and whose `provider` is one of `providers`:
/// those fields' values, in the order asked.
pub(super) fn strict_fields(
    body: &Value,
    fields: &[&str],
    providers: &[&str],
    required: &[&str],
) -> Result<Vec<String>, String> {
    let object = body.as_object().ok_or("body must be a JSON object")?;
    if let Some(unknown) = object.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown}"));
    }
    let values = required
        .iter()
        .map(|field| {
            object
                .get(*field)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or(format!("{field} is required"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let provider = object.get("provider").and_then(Value::as_str).unwrap_or("");
    if !providers.contains(&provider) {
        return Err(format!("provider must be one of {}", providers.join("|")));
    }
    Ok(values)
}

/// Records the call, checks the API key and fires any armed fault: the answer to give
/// instead of serving the call, if any.
pub(super) fn admit(
    sim: &Simulator,
    route: &str,
    method: &str,
    path: String,
    headers: &HeaderMap,
    body: Option<Value>,
) -> Option<Response> {
    let api_key_sent =
        headers.get("X-API-KEY").and_then(|v| v.to_str().ok()) == Some(&*sim.api_key);
    sim.lock().requests.push(RecordedRequest {
        method: method.into(),
        path,
        api_key_sent,
        body,
    });
    if !api_key_sent {
        return Some(envelope(
            401,
            "errors/missing_credentials",
            "Missing or invalid X-API-KEY",
        ));
    }
    sim.take_fault(route)
        .map(|fault| envelope(fault.status, &fault.error_type, "Simulated failure"))
}

/// A call without a body: recorded and admitted, then `serve`d.
pub(super) fn admitted(
    sim: &Simulator,
    route: &str,
    method: &str,
    path: String,
    headers: &HeaderMap,
    serve: impl FnOnce() -> Response,
) -> Response {
    admit(sim, route, method, path, headers, None).unwrap_or_else(serve)
}

/// A POST with a JSON body: recorded and admitted like any call, then `serve`d; a body that
/// is not JSON gets Unipile's `malformed_request`.
pub(super) fn post_json(
    sim: &Simulator,
    route: &str,
    path: String,
    headers: &HeaderMap,
    body: &str,
    serve: impl FnOnce(&Value) -> Response,
) -> Response {
    let json: Option<Value> = serde_json::from_str(body).ok();
    if let Some(refused) = admit(sim, route, "POST", path, headers, json.clone()) {
        return refused;
    }
    match json {
        Some(json) => serve(&json),
        None => envelope(400, "errors/malformed_request", "The body is not JSON"),
    }
}
