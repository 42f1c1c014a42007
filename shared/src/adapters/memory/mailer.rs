//! The [`Mailer`] in memory.

use crate::domain::notification::OutgoingEmail;
use crate::ports::{MailError, Mailer};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// An email the memory mailer accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SentEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: DateTime<Utc>,
}

/// A [`Mailer`] that keeps what it sends, and can be told to fail the next sends.
#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<SentEmail>>,
    failing: std::sync::atomic::AtomicU32,
    after_send: Mutex<Option<AfterSend>>,
}

/// Run once right after the next email is accepted: how a test puts a crash between the mail
/// service accepting an email and the write that records it.
type AfterSend = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for MemoryMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryMailer")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl MemoryMailer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn sent(&self) -> Vec<SentEmail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs `then` once, right after the next email is accepted.
    pub fn after_next_send(&self, then: impl FnOnce() + Send + 'static) {
        *self.after_send.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(then));
    }

    /// The next `count` sends fail as an unreachable mail service would.
    pub fn fail_next(&self, count: u32) {
        self.failing
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        use std::sync::atomic::Ordering;
        if self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(MailError::Unavailable("simulated outage".into()));
        }
        // Printed whole: locally this log line is how a developer reads the email.
        tracing::info!(to = %email.to, subject = %email.subject, text = %email.text, "email sent (kept in memory)");
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(SentEmail {
                to: email.to.to_string(),
                subject: email.subject.clone(),
                text: email.text.clone(),
                html: email.html.clone(),
                sent_at: Utc::now(),
            });
        let then = self
            .after_send
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(then) = then {
            then();
        }
        Ok(())
    }
}
