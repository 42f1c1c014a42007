//! A recording proxy in front of the AWS emulator: every AWS call a function makes passes
//! through it and is noted as (function, IAM action). The function is told by the access key
//! it signs with (the rehearsal gives each its own), the action by the request itself.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// IAM actions seen, by the access key that signed them.
pub type Calls = BTreeMap<String, BTreeSet<String>>;

/// (action, resource) pairs seen, by access key, for the calls whose resource names a secret
/// or a key (`secretsmanager:GetSecretValue`'s SecretId, KMS's KeyId).
pub type Resources = BTreeMap<String, BTreeSet<(String, String)>>;

struct RecorderState {
    upstream: String,
    http: reqwest::Client,
    calls: Mutex<Calls>,
    resources: Mutex<Resources>,
    /// Actions that fail (as the service failing would) until mended.
    broken: Mutex<BTreeSet<String>>,
}

pub struct Recorder {
    pub endpoint: String,
    state: Arc<RecorderState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Recorder {
    pub async fn start(upstream: &str) -> Result<Self, String> {
        let state = Arc::new(RecorderState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            calls: Mutex::new(Calls::new()),
            resources: Mutex::new(Resources::new()),
            broken: Mutex::new(BTreeSet::new()),
        });
        let router = Router::new().fallback(forward).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let endpoint = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            endpoint,
            state,
            server,
        })
    }

    pub fn calls(&self) -> Calls {
        self.state
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// From now on every `action` (`kms:Decrypt`) answers 500, as the service would when it
    /// fails: how a test breaks a function half-way without touching the function.
    pub fn break_action(&self, action: &str) {
        if let Ok(mut broken) = self.state.broken.lock() {
            broken.insert(action.to_owned());
        }
    }

    pub fn mend_action(&self, action: &str) {
        if let Ok(mut broken) = self.state.broken.lock() {
            broken.remove(action);
        }
    }

    pub fn resources(&self) -> Resources {
        self.state
            .resources
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

async fn forward(
    State(state): State<Arc<RecorderState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some((caller, action)) = identify(&method, &uri, &headers) {
        if let Some(resource) = named_resource(&action, &body)
            && let Ok(mut resources) = state.resources.lock()
        {
            resources
                .entry(caller.clone())
                .or_default()
                .insert((action.clone(), resource));
        }
        let actions = authorized_actions(&action, &body);
        let broken = state
            .broken
            .lock()
            .map(|b| actions.iter().any(|a| b.contains(a)))
            .unwrap_or(false);
        if let Ok(mut calls) = state.calls.lock() {
            calls.entry(caller).or_default().extend(actions);
        }
        if broken {
            let service = action.split(':').next().unwrap_or_default();
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "application/x-amz-json-1.1")],
                format!(
                    r#"{{"__type":"InternalFailure","message":"{service} is failing (rehearsal)"}}"#
                ),
            )
                .into_response();
        }
    }
    let target = format!(
        "{}{}",
        state.upstream,
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = state.http.request(method, target).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let mut response = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if name != "transfer-encoding" && name != "content-length" {
                    response = response.header(name, value);
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            response
                .body(Body::from(bytes))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

/// (access key, `service:Action`) of a signed AWS request.
fn identify(method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<(String, String)> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    // AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, ...
    let credential = authorization
        .split("Credential=")
        .nth(1)?
        .split([',', ' '])
        .next()?;
    let mut scope = credential.split('/');
    let access_key = scope.next()?.to_owned();
    let service = scope.nth(2)?.to_owned();
    let action = match headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        Some(target) => target.rsplit('.').next()?.to_owned(),
        None => rest_action(&service, method, uri.path()),
    };
    Some((access_key, format!("{service}:{action}")))
}

/// The IAM actions a call is authorized as: its own, except for a DynamoDB transaction, which
/// IAM authorizes item by item (`ConditionCheckItem`, `UpdateItem`, `PutItem`, `DeleteItem`).
fn authorized_actions(action: &str, body: &[u8]) -> Vec<String> {
    if action != "dynamodb:TransactWriteItems" {
        return vec![action.to_owned()];
    }
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut actions: Vec<String> = body["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_object()?.keys().next().cloned())
        .map(|kind| match kind.as_str() {
            "ConditionCheck" => "dynamodb:ConditionCheckItem".to_owned(),
            "Update" => "dynamodb:UpdateItem".to_owned(),
            "Put" => "dynamodb:PutItem".to_owned(),
            "Delete" => "dynamodb:DeleteItem".to_owned(),
            other => format!("dynamodb:UNKNOWN({other})"),
        })
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

/// The secret or key a JSON-protocol call names.
fn named_resource(action: &str, body: &[u8]) -> Option<String> {
    if action == "events:PutEvents" {
        // Every entry names its bus; one call is one bus's (the publisher's).
        let body: serde_json::Value = serde_json::from_slice(body).ok()?;
        return Some(body["Entries"][0]["EventBusName"].as_str()?.to_owned());
    }
    let field = match action {
        "secretsmanager:GetSecretValue" => "SecretId",
        "kms:Encrypt" | "kms:Decrypt" | "kms:GenerateDataKey" | "kms:GenerateMac" => "KeyId",
        _ => return None,
    };
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    // A Decrypt of a symmetric ciphertext may name no key: the ciphertext carries it.
    Some(body.get(field)?.as_str()?.to_owned())
}

/// The IAM action of the REST calls (SES v2, Scheduler) the functions make. A call this table
/// does not know is recorded as such, so the policy check names it.
fn rest_action(service: &str, method: &Method, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let known = match (service, method.as_str(), segments.as_slice()) {
        ("ses", "POST", ["v2", "email", "outbound-emails"]) => Some("SendEmail"),
        ("scheduler", "POST", ["schedules", _]) => Some("CreateSchedule"),
        ("scheduler", "PUT", ["schedules", _]) => Some("UpdateSchedule"),
        ("scheduler", "DELETE", ["schedules", _]) => Some("DeleteSchedule"),
        ("scheduler", "GET", ["schedules", _]) => Some("GetSchedule"),
        ("scheduler", "GET", ["schedules"]) => Some("ListSchedules"),
        _ => None,
    };
    known.map_or_else(|| format!("UNKNOWN({method} {path})"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_is_authorized_item_by_item() {
        let body = br#"{"TransactItems":[{"ConditionCheck":{"TableName":"t"}},{"Update":{"TableName":"t"}}]}"#;
        assert_eq!(
            authorized_actions("dynamodb:TransactWriteItems", body),
            ["dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"]
        );
        assert_eq!(
            authorized_actions("dynamodb:GetItem", b"{}"),
            ["dynamodb:GetItem"]
        );
    }

    #[test]
    fn signed_requests_name_their_caller_and_action() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=StatusWebhookFunction/20261126/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
                .parse()
                .expect("header"),
        );
        headers.insert(
            "x-amz-target",
            "DynamoDB_20120810.UpdateItem".parse().expect("header"),
        );
        let uri: Uri = "/".parse().expect("uri");
        assert_eq!(
            identify(&Method::POST, &uri, &headers),
            Some((
                "StatusWebhookFunction".to_owned(),
                "dynamodb:UpdateItem".to_owned()
            ))
        );
        headers.remove("x-amz-target");
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=K/20261126/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=0"
                .parse()
                .expect("header"),
        );
        let uri: Uri = "/schedules/reconnect-a-0?groupName=g".parse().expect("uri");
        assert_eq!(
            identify(&Method::DELETE, &uri, &headers).map(|c| c.1),
            Some("scheduler:DeleteSchedule".to_owned())
        );
    }
}
