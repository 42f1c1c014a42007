//! The [`Mailer`] on Amazon SES v2 (`SendEmail`, simple content: subject, text and HTML).

use super::lazy_client::LazyClient;
use crate::domain::notification::OutgoingEmail;
use crate::ports::{MailError, Mailer};
use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{DisplayErrorContext, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

#[derive(Debug)]
pub struct SesMailer {
    client: LazyClient<Client>,
    from: String,
    configuration_set: Option<String>,
}

/// An SES client that never retries on its own. An attempt that timed out or lost its answer
/// may have sent the email; the SDK's default retries would then send it again. The outbox
/// retries instead, behind its "sending" mark, so that no owner gets two emails.
pub fn client(aws: &aws_config::SdkConfig) -> Client {
    let config = aws_sdk_sesv2::config::Builder::from(aws)
        .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

impl SesMailer {
    pub fn new(
        client: impl Into<LazyClient<Client>>,
        from: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client: client.into(),
            from: from.into(),
            configuration_set,
        }
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        let result = self
            .client
            .get()
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .to_addresses(email.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Sent, perhaps: the request went out and no answer came back.
            Err(error @ (SdkError::TimeoutError(_) | SdkError::ResponseError(_))) => Err(
                MailError::Uncertain(DisplayErrorContext(&error).to_string()),
            ),
            Err(error) => {
                let rejected = error.as_service_error().is_some_and(|e| {
                    e.is_message_rejected()
                        || e.is_mail_from_domain_not_verified_exception()
                        || e.is_bad_request_exception()
                });
                let text = DisplayErrorContext(&error).to_string();
                Err(if rejected {
                    MailError::Rejected(text)
                } else {
                    MailError::Unavailable(text)
                })
            }
        }
    }
}
