//! Webhooks as Unipile keeps them (contract §5a) and the delivery of account-status events
//! (§5b, §5c): JSON body, the registered headers, up to five retries on anything but 200.

use super::answers::{admit, admitted, envelope, post_json};
use super::records::{DeliveryAttempt, SimWebhook};
use super::state::{Simulator, new_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

const WEBHOOK_FIELDS: &[&str] = &[
    "source",
    "request_url",
    "name",
    "format",
    "account_ids",
    "enabled",
    "headers",
    "events",
];
const SOURCES: &[&str] = &[
    "messaging",
    "account_status",
    "email",
    "email_tracking",
    "users",
    "calendar_event",
];
/// Unipile retries five times when the answer is not exactly 200 (contract §5c).
const RETRIES: u32 = 5;

fn parse_webhook(body: &Value) -> Result<SimWebhook, String> {
    let object = body.as_object().ok_or("body must be a JSON object")?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !WEBHOOK_FIELDS.contains(&k.as_str()))
    {
        return Err(format!("unknown field {unknown}"));
    }
    let source = object
        .get("source")
        .and_then(Value::as_str)
        .filter(|s| SOURCES.contains(s))
        .ok_or("source is required")?;
    let request_url = object
        .get("request_url")
        .and_then(Value::as_str)
        .ok_or("request_url is required")?;
    url::Url::parse(request_url).map_err(|_| "request_url must be a URL")?;
    let headers = match object.get("headers") {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|h| {
                Some((
                    h.get("key")?.as_str()?.to_owned(),
                    h.get("value")?.as_str()?.to_owned(),
                ))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("headers must be [{key, value}]")?,
        Some(_) => return Err("headers must be [{key, value}]".into()),
    };
    Ok(SimWebhook {
        id: new_id(),
        source: source.to_owned(),
        request_url: request_url.to_owned(),
        name: object
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        enabled: object
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        headers,
    })
}

impl Simulator {
    /// Registers a webhook as `POST /api/v1/webhooks` would.
    pub fn register_webhook(
        &self,
        source: &str,
        request_url: &str,
        headers: &[(&str, &str)],
    ) -> SimWebhook {
        let webhook = SimWebhook {
            id: new_id(),
            source: source.to_owned(),
            request_url: request_url.to_owned(),
            name: None,
            enabled: true,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        self.lock().webhooks.push(webhook.clone());
        webhook
    }

    pub fn webhooks(&self) -> Vec<SimWebhook> {
        self.lock().webhooks.clone()
    }

    /// Sets an account's status (what `GET /api/v1/accounts/{id}` reports in `sources`)
    /// without telling any webhook: the moment before Unipile delivers, or a change whose
    /// delivery is late. `false` when there is no such account.
    pub fn set_status(&self, account_id: &str, message: &str) -> bool {
        match self.lock().accounts.get_mut(account_id) {
            Some(account) => {
                account.status = message.to_owned();
                true
            }
            None => false,
        }
    }

    /// Sets an account's status and tells every `account_status` webhook, retrying as Unipile
    /// does. `None` when there is no such account.
    pub async fn report_status(
        &self,
        account_id: &str,
        message: &str,
        retry_delay: Duration,
    ) -> Option<Vec<DeliveryAttempt>> {
        let account_type = {
            let mut state = self.lock();
            let account = state.accounts.get_mut(account_id)?;
            account.status = message.to_owned();
            account.account_type.clone()
        };
        Some(
            self.deliver_account_status(account_id, &account_type, message, retry_delay)
                .await,
        )
    }

    /// Tells every enabled `account_status` webhook `{"AccountStatus":{account_id,
    /// account_type, message}}`, retrying as Unipile does; the lock is not held while sending.
    pub(super) async fn deliver_account_status(
        &self,
        account_id: &str,
        account_type: &str,
        message: &str,
        retry_delay: Duration,
    ) -> Vec<DeliveryAttempt> {
        let hooks: Vec<SimWebhook> = self
            .lock()
            .webhooks
            .iter()
            .filter(|w| w.enabled && w.source == "account_status")
            .cloned()
            .collect();
        let body = json!({"AccountStatus": {"account_id": account_id, "account_type": account_type, "message": message}});
        let mut attempts = Vec::new();
        for hook in hooks {
            for attempt in 0..=RETRIES {
                if attempt > 0 {
                    tokio::time::sleep(retry_delay * attempt).await;
                }
                let mut request = self.http.post(&hook.request_url).json(&body);
                for (key, value) in &hook.headers {
                    request = request.header(key, value);
                }
                let outcome = request.send().await;
                let status = outcome.as_ref().ok().map(|r| r.status().as_u16());
                attempts.push(DeliveryAttempt {
                    webhook_id: hook.id.clone(),
                    status,
                    error: outcome.err().map(|e| e.without_url().to_string()),
                });
                if status == Some(200) {
                    break;
                }
            }
        }
        attempts
    }
}

pub(super) async fn create_webhook(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = "/api/v1/webhooks".to_owned();
    post_json(
        &sim,
        "create_webhook",
        path,
        &headers,
        &body,
        |json| match parse_webhook(json) {
            Ok(webhook) => {
                let id = webhook.id.clone();
                sim.lock().webhooks.push(webhook);
                (
                    StatusCode::CREATED,
                    Json(json!({"object": "WebhookCreated", "webhook_id": id})),
                )
                    .into_response()
            }
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

pub(super) async fn list_webhooks(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    admitted(
        &sim,
        "list_webhooks",
        "GET",
        "/api/v1/webhooks".into(),
        &headers,
        || {
            let items: Vec<Value> = sim
        .webhooks()
        .iter()
        .map(|w| {
            json!({
                "object": "Webhook", "id": w.id, "account_ids": [], "enabled": w.enabled, "name": w.name,
                "request_url": w.request_url, "format": "json", "source": w.source,
                "headers": w.headers.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            })
        })
        .collect();
            Json(json!({"object": "WebhookList", "items": items, "cursor": null})).into_response()
        },
    )
}

pub(super) async fn delete_webhook(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = admit(
        &sim,
        "delete_webhook",
        "DELETE",
        format!("/api/v1/webhooks/{id}"),
        &headers,
        None,
    ) {
        return refused;
    }
    let mut state = sim.lock();
    let before = state.webhooks.len();
    state.webhooks.retain(|w| w.id != id);
    if state.webhooks.len() == before {
        return envelope(404, "errors/resource_not_found", "Webhook not found");
    }
    Json(json!({"object": "WebhookDeleted"})).into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct StatusReport {
    message: String,
    /// Milliseconds between retries (Unipile waits longer; the default keeps demos quick).
    #[serde(default)]
    retry_delay_ms: Option<u64>,
    /// `false`: the status changes and no webhook hears of it (a delivery Unipile gave up).
    #[serde(default)]
    deliver: Option<bool>,
}

/// `POST /_sim/accounts/{id}/status {"message":"CREDENTIALS"}`: what Unipile does when an
/// account's status changes.
pub(super) async fn report_status(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    Json(report): Json<StatusReport>,
) -> Response {
    if report.deliver == Some(false) {
        return if sim.set_status(&id, &report.message) {
            Json(json!({"deliveries": []})).into_response()
        } else {
            envelope(404, "errors/resource_not_found", "Account not found")
        };
    }
    let delay = Duration::from_millis(report.retry_delay_ms.unwrap_or(200));
    match sim.report_status(&id, &report.message, delay).await {
        Some(attempts) => Json(json!({"deliveries": attempts})).into_response(),
        None => envelope(404, "errors/resource_not_found", "Account not found"),
    }
}
