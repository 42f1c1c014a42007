//! Keeping Unipile's `account_status` webhook pointed at `status-webhook` (contract §5a):
//! register it unless an identical one is there, delete it by id. `webhook-setup` runs this
//! as a CloudFormation custom resource (what to answer CloudFormation is decided here too)
//! and as a CLI.

use crate::domain::WebhookId;
use crate::domain::webhook::{RegistrationError, WebhookAuth, WebhookRegistration, WebhookUrl};
use crate::ports::{UnipileError, WebhookDeletion, WebhookRegistry};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::time::Duration;
use url::Url;

/// What [`ensure_registered`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    Created(WebhookId),
    /// An identical webhook (same source, URL and secret header) was there already.
    AlreadyThere(WebhookId),
}

impl Registered {
    pub fn id(&self) -> &WebhookId {
        match self {
            Self::Created(id) | Self::AlreadyThere(id) => id,
        }
    }
}

async fn find_same(
    registry: &dyn WebhookRegistry,
    wanted: &WebhookRegistration,
) -> Result<Option<WebhookId>, UnipileError> {
    Ok(registry
        .list_webhooks()
        .await?
        .into_iter()
        .find(|webhook| webhook.is_same_as(wanted))
        .map(|webhook| webhook.id))
}

/// Registers `wanted` unless an identical webhook is there already: running it twice (a
/// re-deploy, the CLI after the stack) never makes Unipile deliver every status twice.
pub async fn ensure_registered(
    registry: &dyn WebhookRegistry,
    wanted: &WebhookRegistration,
) -> Result<Registered, UnipileError> {
    if let Some(id) = find_same(registry, wanted).await? {
        return Ok(Registered::AlreadyThere(id));
    }
    match registry.create_webhook(wanted).await {
        Ok(id) => Ok(Registered::Created(id)),
        Err(error) if error.is_transient() => {
            // Unipile may have registered it and lost only the answer: look before the one
            // more try, so the try cannot register a second webhook.
            tracing::warn!(%error, "webhook create failed; checking whether it was registered");
            if let Some(id) = find_same(registry, wanted).await? {
                return Ok(Registered::Created(id));
            }
            registry
                .create_webhook(wanted)
                .await
                .map(Registered::Created)
        }
        Err(error) => Err(error),
    }
}

/// Deletes the webhook `id`; one Unipile does not have is [`WebhookDeletion::AlreadyGone`].
pub async fn remove(
    registry: &dyn WebhookRegistry,
    id: &WebhookId,
) -> Result<WebhookDeletion, UnipileError> {
    registry.delete_webhook(id).await
}

/// The webhook a stack keeps registered as its custom resource: its own status webhook's URL
/// (the template gives `webhook-setup` the same URL as the resource's `RequestUrl`) and the
/// secret header. A request to register any other URL is refused: whoever can invoke the
/// function must not be able to point the tenant's statuses, and the secret, elsewhere.
#[derive(Debug, Clone)]
pub struct StackWebhook {
    /// Needed to register (Create, Update) only: a Delete deletes by id, so a URL that is
    /// missing or unusable must not keep the stack from being deleted. `Err` says why it is
    /// not known, for the FAILED answer of a Create or Update.
    pub url: Result<WebhookUrl, NotConfigured>,
    pub auth: WebhookAuth,
}

/// A setting the function lacks, in words naming the variable and never a secret's value
/// ("STATUS_WEBHOOK_URL is not set").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotConfigured(pub String);

/// The PhysicalResourceId of a Create that registered nothing, followed by its RequestId. A
/// Delete of it (the rollback of that Create) has nothing to do.
pub const UNREGISTERED_PREFIX: &str = "unregistered:";

/// CloudFormation limits the whole response to 4 KB; a reason this long says enough.
const MAX_REASON_BYTES: usize = 1000;

/// A CloudFormation custom-resource request, read leniently (CloudFormation owns the
/// format): only a usable `ResponseURL` is required, since without one no answer can be sent.
#[derive(Debug, Clone)]
pub struct CustomResourceRequest {
    pub request_type: String,
    /// A presigned S3 URL: it is a credential for this one answer, so it is never logged.
    pub response_url: Url,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub physical_resource_id: Option<String>,
    pub resource_properties: Value,
}

/// Why an event cannot be answered at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnanswerableEvent {
    #[error("the event has no ResponseURL: it is not a CloudFormation custom-resource request")]
    NoResponseUrl,
    #[error("the event's ResponseURL is not an http(s) URL")]
    BadResponseUrl,
}

impl CustomResourceRequest {
    pub fn parse(event: &Value) -> Result<Self, UnanswerableEvent> {
        let text = |field: &str| {
            event
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let raw_url = event
            .get("ResponseURL")
            .and_then(Value::as_str)
            .ok_or(UnanswerableEvent::NoResponseUrl)?;
        let response_url = Url::parse(raw_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or(UnanswerableEvent::BadResponseUrl)?;
        Ok(Self {
            request_type: text("RequestType"),
            response_url,
            stack_id: text("StackId"),
            request_id: text("RequestId"),
            logical_resource_id: text("LogicalResourceId"),
            physical_resource_id: event
                .get("PhysicalResourceId")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|id| !id.is_empty()),
            resource_properties: event
                .get("ResourceProperties")
                .cloned()
                .unwrap_or(Value::Null),
        })
    }

    /// The PhysicalResourceId to give back when the request failed: the one CloudFormation
    /// knows (Update, Delete), so a failure never looks like a replacement; for a Create,
    /// the mark of nothing registered.
    fn unchanged_physical_id(&self) -> String {
        match &self.physical_resource_id {
            Some(id) if self.request_type != "Create" => id.clone(),
            _ => format!("{UNREGISTERED_PREFIX}{}", self.request_id),
        }
    }

    /// A FAILED answer with `reason`, which must not hold a secret (the flow redacts
    /// Unipile's words; configuration errors name variables, not values).
    pub fn failed(&self, reason: impl fmt::Display) -> CustomResourceResponse {
        self.response(
            ResponseStatus::Failed,
            reason.to_string(),
            self.unchanged_physical_id(),
            None,
        )
    }

    fn response(
        &self,
        status: ResponseStatus,
        reason: String,
        physical_resource_id: String,
        webhook_id: Option<&WebhookId>,
    ) -> CustomResourceResponse {
        CustomResourceResponse {
            status,
            reason: truncate(reason),
            physical_resource_id,
            stack_id: self.stack_id.clone(),
            request_id: self.request_id.clone(),
            logical_resource_id: self.logical_resource_id.clone(),
            data: webhook_id.map(|id| ResponseData {
                webhook_id: id.to_string(),
            }),
        }
    }
}

fn truncate(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    reason
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ResponseStatus {
    Success,
    Failed,
}

/// The body PUT to the ResponseURL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceResponse {
    pub status: ResponseStatus,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<ResponseData>,
}

/// `Fn::GetAtt <resource>.WebhookId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseData {
    pub webhook_id: String,
}

/// Why a request failed, in words for the stack's events.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("webhook-setup is not configured: {0}")]
    NotConfigured(NotConfigured),
    #[error("{0}")]
    BadProperties(String),
    #[error(
        "ResourceProperties.RequestUrl {requested} is not this stack's status webhook \
         ({own}, webhook-setup's STATUS_WEBHOOK_URL): nothing was registered"
    )]
    NotTheStacksWebhook {
        // Boxed: two URLs would make every Result of the flow carry their size.
        requested: Box<WebhookUrl>,
        own: Box<WebhookUrl>,
    },
    #[error("{0}: nothing was registered")]
    Refused(RegistrationError),
    #[error("unknown RequestType {0:?}: expected Create, Update or Delete")]
    UnknownRequestType(String),
    #[error("could not {doing}: {error}")]
    Unipile {
        doing: &'static str,
        error: UnipileError,
    },
    #[error(
        "Unipile did not finish before the function's time ran out; try again (a retry \
         reuses a webhook this attempt may have registered)"
    )]
    OutOfTime,
}

/// What a request that succeeded did.
struct Done {
    physical_resource_id: String,
    webhook_id: Option<WebhookId>,
    reason: String,
}

/// `RequestUrl` (required: the stack's status-webhook URL, and no other) and `Name`
/// (optional). Other properties are ignored, so a template can change one of its own (a
/// secret version, say) to force an Update that registers again with the current secret.
fn registration(properties: &Value, stack: &StackWebhook) -> Result<WebhookRegistration, Failure> {
    let own = stack
        .url
        .as_ref()
        .map_err(|missing| Failure::NotConfigured(missing.clone()))?;
    let property = |name: &str| -> Result<Option<&str>, Failure> {
        match properties.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Failure::BadProperties(format!(
                "ResourceProperties.{name} must be a string"
            ))),
        }
    };
    let request_url = property("RequestUrl")?.ok_or_else(|| {
        Failure::BadProperties(
            "ResourceProperties.RequestUrl is required: the stack's status-webhook URL".into(),
        )
    })?;
    let requested = WebhookUrl::parse(request_url)
        .map_err(|e| Failure::BadProperties(format!("ResourceProperties.RequestUrl: {e}")))?;
    if requested != *own {
        return Err(Failure::NotTheStacksWebhook {
            requested: Box::new(requested),
            own: Box::new(own.clone()),
        });
    }
    // The URL is judged: what is left to refuse is the name (a property) or the secret.
    WebhookRegistration::new(requested, property("Name")?, stack.auth.clone()).map_err(
        |e| match e {
            RegistrationError::WeakSecret => Failure::Refused(e),
            other => Failure::BadProperties(format!("ResourceProperties: {other}")),
        },
    )
}

async fn register(
    registry: &dyn WebhookRegistry,
    stack: &StackWebhook,
    request: &CustomResourceRequest,
) -> Result<Done, Failure> {
    let wanted = registration(&request.resource_properties, stack)?;
    let registered = ensure_registered(registry, &wanted)
        .await
        .map_err(|error| Failure::Unipile {
            doing: "register the account_status webhook",
            error,
        })?;
    let id = registered.id().clone();
    let reason = match &registered {
        Registered::Created(_) => format!("registered webhook {id} for {}", wanted.request_url),
        Registered::AlreadyThere(_) => format!(
            "webhook {id} for {} was already registered with this secret: reused",
            wanted.request_url
        ),
    };
    tracing::info!(
        request_type = %request.request_type,
        webhook_id = %id,
        created = matches!(registered, Registered::Created(_)),
        "account_status webhook registered"
    );
    Ok(Done {
        physical_resource_id: id.to_string(),
        webhook_id: Some(id),
        reason,
    })
}

/// What a Delete has to delete.
enum DeleteTarget {
    Webhook(WebhookId),
    /// Nothing: the PhysicalResourceId to answer, and why.
    Nothing(String, &'static str),
}

impl CustomResourceRequest {
    fn delete_target(&self) -> DeleteTarget {
        match &self.physical_resource_id {
            None => DeleteTarget::Nothing(self.unchanged_physical_id(), "no PhysicalResourceId"),
            Some(id) if id.starts_with(UNREGISTERED_PREFIX) => {
                DeleteTarget::Nothing(id.clone(), "the Create registered no webhook")
            }
            // Every id this function hands out is a webhook id or the mark above; anything
            // else names no webhook of ours, and failing would only block the stack's
            // deletion.
            Some(id) => WebhookId::parse(id.clone()).map_or_else(
                |_| DeleteTarget::Nothing(id.clone(), "the PhysicalResourceId is not a webhook id"),
                DeleteTarget::Webhook,
            ),
        }
    }

    /// The answer when Unipile cannot be reached at all (the function's configuration is
    /// broken): FAILED naming `problem`, except a Delete with nothing to delete, which
    /// succeeds, so that the rollback of a Create that failed the same way is not blocked.
    pub fn unconfigured(&self, problem: impl fmt::Display) -> CustomResourceResponse {
        match (self.request_type.as_str(), self.delete_target()) {
            ("Delete", DeleteTarget::Nothing(physical, why)) => self.response(
                ResponseStatus::Success,
                format!("nothing to delete: {why}"),
                physical,
                None,
            ),
            _ => self.failed(format!("webhook-setup is not configured: {problem}")),
        }
    }
}

async fn delete(
    registry: &dyn WebhookRegistry,
    request: &CustomResourceRequest,
) -> Result<Done, Failure> {
    let id = match request.delete_target() {
        DeleteTarget::Webhook(id) => id,
        DeleteTarget::Nothing(physical_resource_id, why) => {
            return Ok(Done {
                physical_resource_id,
                webhook_id: None,
                reason: format!("nothing to delete: {why}"),
            });
        }
    };
    let deletion = remove(registry, &id)
        .await
        .map_err(|error| Failure::Unipile {
            doing: "delete the account_status webhook",
            error,
        })?;
    tracing::info!(webhook_id = %id, ?deletion, "account_status webhook deleted");
    let reason = match deletion {
        WebhookDeletion::Deleted => format!("deleted webhook {id}"),
        WebhookDeletion::AlreadyGone => format!("webhook {id} was already gone"),
    };
    Ok(Done {
        physical_resource_id: id.to_string(),
        webhook_id: Some(id),
        reason,
    })
}

async fn decide(
    registry: &dyn WebhookRegistry,
    stack: &StackWebhook,
    request: &CustomResourceRequest,
) -> Result<Done, Failure> {
    match request.request_type.as_str() {
        "Create" => register(registry, stack, request).await,
        // The new webhook's id becomes the PhysicalResourceId. The old webhook is NOT deleted
        // here: when the id changed, CloudFormation sends a Delete for the old id once the
        // whole stack update has succeeded, and if the update rolls back, it sends an Update
        // back to the old properties (which finds the old webhook still there) and a Delete
        // of the new id. Deleting now would leave no webhook after a rollback.
        "Update" => register(registry, stack, request).await,
        "Delete" => delete(registry, request).await,
        other => Err(Failure::UnknownRequestType(other.to_owned())),
    }
}

/// What to answer CloudFormation for `request`, for the webhook of `stack`. It always gives
/// an answer: a URL other than the stack's own, a weak secret and Unipile's failures become
/// FAILED with a reason (the webhook secret redacted from it), and with a
/// `budget` (the invocation's time left, less what sending the answer needs) Unipile work
/// still running when it runs out is abandoned for a FAILED answer. A create abandoned
/// mid-way may still register a webhook; the next Create or Update finds and reuses it.
pub async fn answer(
    registry: &dyn WebhookRegistry,
    stack: &StackWebhook,
    request: &CustomResourceRequest,
    budget: Option<Duration>,
) -> CustomResourceResponse {
    let work = decide(registry, stack, request);
    let outcome = match budget {
        Some(budget) => tokio::time::timeout(budget, work)
            .await
            .unwrap_or(Err(Failure::OutOfTime)),
        None => work.await,
    };
    match outcome {
        Ok(done) => request.response(
            ResponseStatus::Success,
            done.reason,
            done.physical_resource_id,
            done.webhook_id.as_ref(),
        ),
        Err(failure) => {
            let reason = stack.auth.redact(&failure.to_string());
            tracing::error!(
                request_type = %request.request_type,
                logical_resource_id = %request.logical_resource_id,
                %reason,
                "custom resource request failed"
            );
            request.failed(reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryWebhooks;
    use crate::domain::webhook::{RegisteredWebhook, WebhookHeader};
    use crate::ports::UnipileErrorType;
    use secrecy::SecretString;
    use serde_json::json;

    const SECRET: &str = "webhook-secret-never-shown-0123456789";
    const URL: &str = "https://status.lambda-url.eu-west-1.on.aws/";

    fn auth(secret: &str) -> WebhookAuth {
        WebhookAuth::new("Unipile-Auth", SecretString::from(secret)).expect("valid")
    }

    fn url(text: &str) -> WebhookUrl {
        WebhookUrl::parse(text).expect("valid")
    }

    /// The stack whose own status webhook is `url`, with the secret `SECRET`.
    fn stack_at(text: &str) -> StackWebhook {
        StackWebhook {
            url: Ok(url(text)),
            auth: auth(SECRET),
        }
    }

    fn stack() -> StackWebhook {
        stack_at(URL)
    }

    fn event(request_type: &str, physical: Option<&str>, url: &str) -> CustomResourceRequest {
        let mut event = json!({
            "RequestType": request_type,
            "ResponseURL": "https://cloudformation-custom-resource-response.s3.amazonaws.com/x?Signature=s",
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1",
            "RequestId": "req-1",
            "LogicalResourceId": "StatusWebhookRegistration",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:ws", "RequestUrl": url},
        });
        if let Some(physical) = physical {
            event["PhysicalResourceId"] = json!(physical);
        }
        CustomResourceRequest::parse(&event).expect("answerable")
    }

    fn unavailable() -> UnipileError {
        UnipileError::Api {
            status: 503,
            error_type: UnipileErrorType::ServiceUnavailable,
            title: "Service unavailable".into(),
            detail: None,
        }
    }

    #[tokio::test]
    async fn given_no_webhook_when_the_stack_is_created_then_one_is_registered_with_the_secret() {
        let registry = MemoryWebhooks::new();
        let answer = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        assert_eq!(answer.status, ResponseStatus::Success, "{}", answer.reason);
        let webhooks = registry.webhooks();
        assert_eq!(webhooks.len(), 1);
        assert_eq!(answer.physical_resource_id, webhooks[0].id.as_str());
        assert_eq!(
            answer.data.map(|d| d.webhook_id).as_deref(),
            Some(webhooks[0].id.as_str())
        );
        assert_eq!(webhooks[0].request_url, URL);
        assert!(auth(SECRET).is_carried_by(&webhooks[0].headers));
        assert_eq!(answer.request_id, "req-1");
        assert_eq!(answer.logical_resource_id, "StatusWebhookRegistration");
    }

    #[tokio::test]
    async fn given_an_identical_webhook_when_the_stack_is_created_again_then_it_is_reused() {
        let registry = MemoryWebhooks::new();
        let first = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        let second = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        assert_eq!(second.status, ResponseStatus::Success);
        assert_eq!(second.physical_resource_id, first.physical_resource_id);
        assert!(
            second.reason.contains("already registered"),
            "{}",
            second.reason
        );
        assert_eq!(registry.webhooks().len(), 1);
        assert_eq!(registry.creates(), 1);
    }

    #[tokio::test]
    async fn given_a_webhook_with_another_secret_or_url_then_it_is_not_identical() {
        let registry = MemoryWebhooks::new();
        let wanted =
            WebhookRegistration::new(url(URL), None, auth("an-old-secret-rotated-out-0123456789"))
                .expect("valid");
        let old = ensure_registered(&registry, &wanted)
            .await
            .expect("registered");
        let elsewhere =
            WebhookRegistration::new(url("https://elsewhere.example.com/"), None, auth(SECRET))
                .expect("valid");
        ensure_registered(&registry, &elsewhere)
            .await
            .expect("registered");

        let new = ensure_registered(
            &registry,
            &WebhookRegistration::new(url(URL), None, auth(SECRET)).expect("valid"),
        )
        .await
        .expect("registered");
        assert!(matches!(new, Registered::Created(_)), "{new:?}");
        assert_ne!(new.id(), old.id());
        assert_eq!(registry.webhooks().len(), 3);
    }

    #[tokio::test]
    async fn given_a_webhook_listed_without_a_source_when_url_and_secret_match_then_it_is_reused() {
        let registry = MemoryWebhooks::new();
        registry.add(RegisteredWebhook {
            id: WebhookId::parse("by_hand").expect("id"),
            source: None,
            request_url: URL.into(),
            name: Some("registered by hand".into()),
            enabled: None,
            headers: vec![WebhookHeader {
                key: "unipile-auth".into(),
                value: SecretString::from(SECRET),
            }],
        });
        let registered = ensure_registered(
            &registry,
            &WebhookRegistration::new(url(URL), None, auth(SECRET)).expect("valid"),
        )
        .await
        .expect("registered");
        assert_eq!(
            registered,
            Registered::AlreadyThere(WebhookId::parse("by_hand").expect("id"))
        );
        assert_eq!(registry.creates(), 0);
    }

    #[tokio::test]
    async fn given_a_create_whose_answer_is_lost_then_the_registered_webhook_is_found_not_doubled()
    {
        let registry = MemoryWebhooks::new();
        registry.lose_next_create_answer(unavailable());
        let registered = ensure_registered(
            &registry,
            &WebhookRegistration::new(url(URL), None, auth(SECRET)).expect("valid"),
        )
        .await
        .expect("registered");
        assert!(matches!(registered, Registered::Created(_)));
        assert_eq!(registry.webhooks().len(), 1);
        assert_eq!(registry.creates(), 1);
    }

    #[tokio::test]
    async fn given_an_update_to_a_new_url_then_the_new_one_is_registered_and_the_old_one_kept() {
        let registry = MemoryWebhooks::new();
        let created = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        let new_url = "https://new.lambda-url.eu-west-1.on.aws/";
        // The stack's own URL moved with the update (the function's environment first).
        let updated = answer(
            &registry,
            &stack_at(new_url),
            &event("Update", Some(&created.physical_resource_id), new_url),
            None,
        )
        .await;
        assert_eq!(updated.status, ResponseStatus::Success);
        assert_ne!(updated.physical_resource_id, created.physical_resource_id);
        assert_eq!(
            registry.webhooks().len(),
            2,
            "CloudFormation deletes the old one later"
        );
        let cleanup = answer(
            &registry,
            &stack_at(new_url),
            &event("Delete", Some(&created.physical_resource_id), URL),
            None,
        )
        .await;
        assert_eq!(cleanup.status, ResponseStatus::Success);
        let left = registry.webhooks();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].request_url, new_url);
    }

    #[tokio::test]
    async fn given_a_request_for_another_url_than_the_stacks_own_then_nothing_is_registered() {
        let registry = MemoryWebhooks::new();
        // Any call to Unipile would fail: a reason that is not Unipile's shows none was made.
        registry.fail_with(unavailable());
        let elsewhere = "https://collector.example.net/hook";
        let failed = answer(&registry, &stack(), &event("Create", None, elsewhere), None).await;
        assert_eq!(failed.status, ResponseStatus::Failed);
        assert_eq!(
            failed.reason,
            format!(
                "ResourceProperties.RequestUrl {elsewhere} is not this stack's status webhook \
                 ({URL}, webhook-setup's STATUS_WEBHOOK_URL): nothing was registered"
            )
        );
        assert_eq!(failed.physical_resource_id, "unregistered:req-1");
        let update = answer(
            &registry,
            &stack(),
            &event("Update", Some("wh_1"), elsewhere),
            None,
        )
        .await;
        assert_eq!(update.status, ResponseStatus::Failed);
        assert_eq!(
            update.physical_resource_id, "wh_1",
            "a failure is no replacement"
        );
        registry.recover();
        assert!(registry.webhooks().is_empty());
        assert_eq!(registry.creates(), 0);
    }

    #[tokio::test]
    async fn given_a_plain_http_request_url_then_it_is_refused() {
        let registry = MemoryWebhooks::new();
        let failed = answer(
            &registry,
            &stack(),
            &event("Create", None, "http://status.lambda-url.eu-west-1.on.aws/"),
            None,
        )
        .await;
        assert_eq!(failed.status, ResponseStatus::Failed);
        assert!(
            failed
                .reason
                .starts_with("ResourceProperties.RequestUrl: the webhook URL"),
            "{}",
            failed.reason
        );
        assert!(failed.reason.contains("is not https"), "{}", failed.reason);
        assert_eq!(registry.creates(), 0);
    }

    #[tokio::test]
    async fn given_a_secret_shorter_than_32_characters_then_nothing_is_registered_and_it_is_not_shown()
     {
        let registry = MemoryWebhooks::new();
        let weak = "short-webhook-secret";
        let stack = StackWebhook {
            url: Ok(url(URL)),
            auth: auth(weak),
        };
        let failed = answer(&registry, &stack, &event("Create", None, URL), None).await;
        assert_eq!(failed.status, ResponseStatus::Failed);
        assert!(
            failed
                .reason
                .starts_with("the webhook secret is shorter than 32 characters"),
            "{}",
            failed.reason
        );
        assert!(
            failed.reason.ends_with("nothing was registered"),
            "{}",
            failed.reason
        );
        let body = serde_json::to_string(&failed).expect("JSON");
        assert!(!body.contains(weak), "{body}");
        assert!(registry.webhooks().is_empty());
        assert_eq!(registry.creates(), 0);
    }

    #[tokio::test]
    async fn given_no_url_of_its_own_then_a_delete_still_deletes_and_a_create_or_update_fails_naming_it()
     {
        let registry = MemoryWebhooks::new();
        let created = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        assert_eq!(
            created.status,
            ResponseStatus::Success,
            "{}",
            created.reason
        );
        let unknown = StackWebhook {
            url: Err(NotConfigured("STATUS_WEBHOOK_URL is not set".into())),
            auth: auth(SECRET),
        };

        for request in [
            event("Create", None, URL),
            event("Update", Some(&created.physical_resource_id), URL),
        ] {
            let failed = answer(&registry, &unknown, &request, None).await;
            assert_eq!(failed.status, ResponseStatus::Failed);
            assert_eq!(
                failed.reason,
                "webhook-setup is not configured: STATUS_WEBHOOK_URL is not set"
            );
        }
        assert_eq!(registry.creates(), 1, "nothing registered without it");

        // The stack's deletion is not held up by a setting only registering needs.
        let deleted = answer(
            &registry,
            &unknown,
            &event("Delete", Some(&created.physical_resource_id), URL),
            None,
        )
        .await;
        assert_eq!(
            deleted.status,
            ResponseStatus::Success,
            "{}",
            deleted.reason
        );
        assert_eq!(deleted.physical_resource_id, created.physical_resource_id);
        assert!(registry.webhooks().is_empty());
    }

    #[tokio::test]
    async fn given_a_deleted_stack_then_the_webhook_goes_and_a_second_delete_still_succeeds() {
        let registry = MemoryWebhooks::new();
        let created = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        let id = Some(created.physical_resource_id.as_str());
        let deleted = answer(&registry, &stack(), &event("Delete", id, URL), None).await;
        assert_eq!(deleted.status, ResponseStatus::Success);
        assert!(registry.webhooks().is_empty());
        let again = answer(&registry, &stack(), &event("Delete", id, URL), None).await;
        assert_eq!(again.status, ResponseStatus::Success, "404 is already gone");
        assert!(again.reason.contains("already gone"), "{}", again.reason);
        assert_eq!(again.physical_resource_id, created.physical_resource_id);
    }

    #[tokio::test]
    async fn given_a_create_that_registered_nothing_then_its_delete_is_a_no_op() {
        let registry = MemoryWebhooks::new();
        registry.fail_with(unavailable());
        let failed = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        assert_eq!(failed.status, ResponseStatus::Failed);
        assert_eq!(failed.physical_resource_id, "unregistered:req-1");
        let rollback = answer(
            &registry,
            &stack(),
            &event("Delete", Some(&failed.physical_resource_id), URL),
            None,
        )
        .await;
        assert_eq!(
            rollback.status,
            ResponseStatus::Success,
            "Unipile is still down"
        );
        assert_eq!(rollback.physical_resource_id, "unregistered:req-1");
    }

    #[tokio::test]
    async fn given_unipile_failing_then_the_answer_is_failed_with_a_clear_reason_and_no_secret() {
        let registry = MemoryWebhooks::new();
        // An error that quotes the secret back, as a validation message might.
        registry.fail_with(UnipileError::Api {
            status: 503,
            error_type: UnipileErrorType::ServiceUnavailable,
            title: format!("header value {SECRET} rejected"),
            detail: None,
        });
        let failed = answer(&registry, &stack(), &event("Create", None, URL), None).await;
        assert_eq!(failed.status, ResponseStatus::Failed);
        assert!(
            failed
                .reason
                .starts_with("could not register the account_status webhook: Unipile answered 503"),
            "{}",
            failed.reason
        );
        let body = serde_json::to_string(&failed).expect("JSON");
        assert!(!body.contains(SECRET), "{body}");

        let old_id = "wh_old";
        let update = answer(
            &registry,
            &stack(),
            &event("Update", Some(old_id), URL),
            None,
        )
        .await;
        assert_eq!(update.status, ResponseStatus::Failed);
        assert_eq!(
            update.physical_resource_id, old_id,
            "a failure is no replacement"
        );
        let delete = answer(
            &registry,
            &stack(),
            &event("Delete", Some(old_id), URL),
            None,
        )
        .await;
        assert_eq!(delete.status, ResponseStatus::Failed);
        assert!(
            delete.reason.contains("could not delete"),
            "{}",
            delete.reason
        );
    }

    #[tokio::test]
    async fn given_unipile_too_slow_for_the_time_left_then_a_failed_answer_comes_in_time() {
        let registry = MemoryWebhooks::new();
        registry.slow_down(Duration::from_secs(30));
        let started = std::time::Instant::now();
        let answer = answer(
            &registry,
            &stack(),
            &event("Create", None, URL),
            Some(Duration::from_millis(50)),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(answer.status, ResponseStatus::Failed);
        assert!(answer.reason.contains("time ran out"), "{}", answer.reason);
    }

    #[tokio::test]
    async fn given_malformed_requests_then_they_fail_with_the_property_named() {
        let registry = MemoryWebhooks::new();
        let failed = answer(
            &registry,
            &stack(),
            &event("Create", None, "not a url"),
            None,
        )
        .await;
        assert_eq!(failed.status, ResponseStatus::Failed);
        assert!(
            failed.reason.contains("not an http(s) URL"),
            "{}",
            failed.reason
        );

        let mut no_url = event("Create", None, URL);
        no_url.resource_properties = json!({"ServiceToken": "arn"});
        let failed = answer(&registry, &stack(), &no_url, None).await;
        assert!(
            failed.reason.contains("RequestUrl is required"),
            "{}",
            failed.reason
        );

        let odd = answer(&registry, &stack(), &event("Replace", Some("x"), URL), None).await;
        assert_eq!(odd.status, ResponseStatus::Failed);
        assert!(odd.reason.contains("unknown RequestType"), "{}", odd.reason);
        assert!(registry.webhooks().is_empty());

        assert_eq!(
            CustomResourceRequest::parse(&json!({"RequestType": "Create"})).err(),
            Some(UnanswerableEvent::NoResponseUrl)
        );
        assert_eq!(
            CustomResourceRequest::parse(&json!("text")).err(),
            Some(UnanswerableEvent::NoResponseUrl)
        );
    }

    #[test]
    fn given_a_broken_configuration_then_only_a_delete_of_nothing_succeeds() {
        let problem = "UNIPILE_WEBHOOK_SECRET is not set";
        let create = event("Create", None, URL).unconfigured(problem);
        assert_eq!(create.status, ResponseStatus::Failed);
        assert_eq!(
            create.reason,
            "webhook-setup is not configured: UNIPILE_WEBHOOK_SECRET is not set"
        );
        let rollback = event("Delete", Some("unregistered:req-1"), URL).unconfigured(problem);
        assert_eq!(
            rollback.status,
            ResponseStatus::Success,
            "the rollback is not blocked"
        );
        assert_eq!(rollback.physical_resource_id, "unregistered:req-1");
        let delete = event("Delete", Some("wh_1"), URL).unconfigured(problem);
        assert_eq!(delete.status, ResponseStatus::Failed);
        assert_eq!(delete.physical_resource_id, "wh_1");
    }

    #[test]
    fn the_answer_is_the_json_cloudformation_expects() {
        let request = event("Create", None, URL);
        let failed = request.failed("x".repeat(5000));
        let body = serde_json::to_value(&failed).expect("JSON");
        assert_eq!(body["Status"], "FAILED");
        assert_eq!(body["PhysicalResourceId"], "unregistered:req-1");
        assert_eq!(
            body["StackId"],
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1"
        );
        assert!(body.get("Data").is_none());
        assert!(failed.reason.len() <= MAX_REASON_BYTES + '…'.len_utf8());
        let ok = request.response(
            ResponseStatus::Success,
            "done".into(),
            "wh_1".into(),
            Some(&WebhookId::parse("wh_1").expect("id")),
        );
        assert_eq!(
            serde_json::to_value(&ok).expect("JSON"),
            json!({"Status": "SUCCESS", "Reason": "done", "PhysicalResourceId": "wh_1",
                   "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1",
                   "RequestId": "req-1", "LogicalResourceId": "StatusWebhookRegistration",
                   "Data": {"WebhookId": "wh_1"}})
        );
    }
}
