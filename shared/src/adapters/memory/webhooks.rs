//! The [`WebhookRegistry`] port in memory.

use crate::domain::WebhookId;
use crate::domain::webhook::{ACCOUNT_STATUS_SOURCE, RegisteredWebhook, WebhookRegistration};
use crate::ports::{UnipileError, WebhookDeletion, WebhookRegistry};
use async_trait::async_trait;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Unipile's webhook list in memory. It can be told to fail, to lose the answer of a create
/// it did register, or to answer slowly, so the registration flow tests without a network.
#[derive(Debug, Default)]
pub struct MemoryWebhooks {
    state: Mutex<MemoryWebhooksState>,
}

#[derive(Debug, Default)]
struct MemoryWebhooksState {
    webhooks: Vec<RegisteredWebhook>,
    next_id: u32,
    creates: u32,
    failure: Option<UnipileError>,
    lose_next_create_answer: Option<UnipileError>,
    delay: Duration,
}

impl MemoryWebhooks {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemoryWebhooksState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A webhook someone registered earlier (by hand, another stack, another application).
    pub fn add(&self, webhook: RegisteredWebhook) {
        self.lock().webhooks.push(webhook);
    }

    pub fn webhooks(&self) -> Vec<RegisteredWebhook> {
        self.lock().webhooks.clone()
    }

    /// How many creates were asked for, answered or not.
    pub fn creates(&self) -> u32 {
        self.lock().creates
    }

    /// Every call fails with `error` until [`Self::recover`].
    pub fn fail_with(&self, error: UnipileError) {
        self.lock().failure = Some(error);
    }

    pub fn recover(&self) {
        self.lock().failure = None;
    }

    /// The next create registers the webhook but answers `error`, as when the answer is lost
    /// on the way back.
    pub fn lose_next_create_answer(&self, error: UnipileError) {
        self.lock().lose_next_create_answer = Some(error);
    }

    /// Every call takes `delay` before answering.
    pub fn slow_down(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    async fn call(&self) -> Result<(), UnipileError> {
        let delay = self.lock().delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.lock().failure.clone().map_or(Ok(()), Err)
    }
}

#[async_trait]
impl WebhookRegistry for MemoryWebhooks {
    async fn list_webhooks(&self) -> Result<Vec<RegisteredWebhook>, UnipileError> {
        self.call().await?;
        Ok(self.webhooks())
    }

    async fn create_webhook(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookId, UnipileError> {
        self.lock().creates += 1;
        self.call().await?;
        let mut state = self.lock();
        state.next_id += 1;
        let id = WebhookId::parse(format!("wh_{}", state.next_id))
            .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))?;
        state.webhooks.push(RegisteredWebhook {
            id: id.clone(),
            source: Some(ACCOUNT_STATUS_SOURCE.to_owned()),
            request_url: registration.request_url.to_string(),
            name: Some(registration.name.clone()),
            enabled: Some(true),
            headers: registration.headers(),
        });
        match state.lose_next_create_answer.take() {
            Some(error) => Err(error),
            None => Ok(id),
        }
    }

    async fn delete_webhook(&self, id: &WebhookId) -> Result<WebhookDeletion, UnipileError> {
        self.call().await?;
        let mut state = self.lock();
        let before = state.webhooks.len();
        state.webhooks.retain(|w| &w.id != id);
        if state.webhooks.len() == before {
            // Unipile answers 404, which the HTTP adapter reports as this.
            return Ok(WebhookDeletion::AlreadyGone);
        }
        Ok(WebhookDeletion::Deleted)
    }
}
