//! The [`WebhookRegistry`] port over HTTP (contract §5a). Our request is built exactly;
//! Unipile's answers are read leniently: `object` is not insisted on, unknown fields are
//! ignored, list items may lack `source`, and headers may come as `[{key, value}]` or as an
//! object. Header values are secrets (ours, or another application's on the same tenant):
//! they are kept as such and never logged.

use super::client::{HttpUnipile, read};
use crate::domain::WebhookId;
use crate::domain::webhook::{
    ACCOUNT_STATUS_SOURCE, RegisteredWebhook, WebhookHeader, WebhookRegistration,
};
use crate::ports::{UnipileError, WebhookDeletion, WebhookRegistry};
use async_trait::async_trait;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tenant with more webhooks than this many pages is not one we understand: stop rather
/// than loop.
const MAX_PAGES: usize = 100;

/// `POST /api/v1/webhooks` (contract §5a). `account_ids` is left out so the webhook covers
/// every current and future account.
#[derive(Serialize)]
struct CreateWebhookBody<'a> {
    source: &'static str,
    request_url: &'a str,
    name: &'a str,
    format: &'static str,
    headers: Vec<HeaderBody<'a>>,
    enabled: bool,
}

#[derive(Serialize)]
struct HeaderBody<'a> {
    key: &'a str,
    value: &'a str,
}

/// `{"object":"WebhookCreated","webhook_id":"..."}`; `id` is accepted too.
#[derive(Deserialize)]
struct WebhookCreated {
    #[serde(default)]
    webhook_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// `{"object":"WebhookList","items":[...],"cursor":...}`. `items` is required: reading a
/// list we do not understand as empty would register a duplicate.
#[derive(Deserialize)]
struct WebhookList {
    items: Vec<Value>,
    #[serde(default)]
    cursor: Option<Value>,
}

#[derive(Deserialize)]
struct WebhookItem {
    id: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    request_url: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    headers: Option<Value>,
}

/// `[{"key","value"}]` as the contract shows, or `{"key": "value"}`; anything else has no
/// headers we can read.
fn headers_of(value: Option<Value>) -> Vec<WebhookHeader> {
    let header = |key: &str, value: &Value| {
        value.as_str().map(|v| WebhookHeader {
            key: key.to_owned(),
            value: SecretString::from(v.to_owned()),
        })
    };
    match value {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|h| header(h.get("key")?.as_str()?, h.get("value")?))
            .collect(),
        Some(Value::Object(map)) => map.iter().filter_map(|(k, v)| header(k, v)).collect(),
        _ => Vec::new(),
    }
}

fn registered(item: Value) -> Option<RegisteredWebhook> {
    let item: WebhookItem = serde_json::from_value(item).ok()?;
    Some(RegisteredWebhook {
        id: WebhookId::parse(item.id).ok()?,
        source: item.source,
        request_url: item.request_url.unwrap_or_default(),
        name: item.name,
        enabled: item.enabled,
        headers: headers_of(item.headers),
    })
}

/// The next page's cursor: `null`, absent or empty means this was the last page.
fn next_cursor(cursor: Option<Value>) -> Option<String> {
    match cursor? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[async_trait]
impl WebhookRegistry for HttpUnipile {
    async fn list_webhooks(&self) -> Result<Vec<RegisteredWebhook>, UnipileError> {
        let mut webhooks = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let response = self
                .send_repeatable("list_webhooks", || {
                    let request = self.request(Method::GET, &["webhooks"]);
                    match &cursor {
                        Some(cursor) => request.query(&[("cursor", cursor)]),
                        None => request,
                    }
                })
                .await?;
            let page: WebhookList = read(response).await?;
            for item in page.items {
                match registered(item) {
                    Some(webhook) => webhooks.push(webhook),
                    // The item itself is not logged: its headers may hold a secret.
                    None => tracing::warn!("a listed webhook without a usable id was skipped"),
                }
            }
            match next_cursor(page.cursor) {
                Some(next) if cursor.as_ref() == Some(&next) => {
                    return Err(UnipileError::UnexpectedResponse(
                        "the webhook list gave the same cursor twice".into(),
                    ));
                }
                Some(next) => cursor = Some(next),
                None => return Ok(webhooks),
            }
        }
        Err(UnipileError::UnexpectedResponse(format!(
            "the webhook list did not end within {MAX_PAGES} pages"
        )))
    }

    async fn create_webhook(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookId, UnipileError> {
        let headers = registration.headers();
        let body = CreateWebhookBody {
            source: ACCOUNT_STATUS_SOURCE,
            request_url: registration.request_url.as_str(),
            name: &registration.name,
            format: "json",
            headers: headers
                .iter()
                .map(|h| HeaderBody {
                    key: &h.key,
                    value: h.value.expose_secret(),
                })
                .collect(),
            enabled: true,
        };
        // Once, without `send_repeatable`'s retries: see the port.
        let response = self
            .request(Method::POST, &["webhooks"])
            .json(&body)
            .send()
            .await
            .map_err(|e| UnipileError::Transport(e.without_url().to_string()))?;
        let created: WebhookCreated = read(response).await?;
        let id = created.webhook_id.or(created.id).ok_or_else(|| {
            UnipileError::UnexpectedResponse("the created webhook has no webhook_id".into())
        })?;
        WebhookId::parse(id).map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))
    }

    async fn delete_webhook(&self, id: &WebhookId) -> Result<WebhookDeletion, UnipileError> {
        // Safe to repeat: a retry after a delete whose answer was lost finds it gone.
        let response = self
            .send_repeatable("delete_webhook", || {
                self.request(Method::DELETE, &["webhooks", id.as_str()])
            })
            .await?;
        // Any 2xx is done, whatever its body (`{"object":"WebhookDeleted"}`, or none).
        if response.status().is_success() {
            return Ok(WebhookDeletion::Deleted);
        }
        match read::<Value>(response).await {
            Err(error) if error.is_not_found() => Ok(WebhookDeletion::AlreadyGone),
            Err(error) => Err(error),
            Ok(_) => Ok(WebhookDeletion::Deleted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_items_are_read_leniently() {
        let page: WebhookList = serde_json::from_value(json!({
            "object": "WebhookList",
            "items": [
                {"object": "Webhook", "id": "a", "request_url": "https://x.example.com/",
                 "headers": [{"key": "Unipile-Auth", "value": "s"}, {"key": "bad"}],
                 "account_ids": [], "type": "AUTO", "enabled": true, "name": null},
                {"id": "b", "source": "messaging", "headers": {"X-Key": "v"}},
                {"name": "no id"},
            ],
            "cursor": null,
        }))
        .expect("a list");
        assert_eq!(next_cursor(page.cursor), None);
        let items: Vec<RegisteredWebhook> = page.items.into_iter().filter_map(registered).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].id.as_str(), "a");
        assert_eq!(items[0].source, None);
        assert_eq!(items[0].headers.len(), 1);
        assert_eq!(items[1].source.as_deref(), Some("messaging"));
        assert_eq!(items[1].headers[0].key, "X-Key");
        assert_eq!(items[1].request_url, "");
    }

    #[test]
    fn a_list_without_items_is_not_read_as_empty() {
        assert!(serde_json::from_value::<WebhookList>(json!({"object": "Error"})).is_err());
        assert_eq!(next_cursor(Some(json!("c2"))), Some("c2".into()));
        assert_eq!(next_cursor(Some(json!(""))), None);
    }
}
