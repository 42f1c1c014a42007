//! SES is asked once per email: an attempt whose answer went missing may have sent it, and the
//! SDK's own retries would then send it again. The mailer is built exactly as `main` builds
//! it (`deps::ses_mailer`), pointed at a stand-in for SES that answers every request with a
//! retryable error and counts what it receives.

use axum::Router;
use axum::http::StatusCode;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use unipile_connect::domain::Email;
use unipile_connect::domain::notification::OutgoingEmail;
use unipile_connect::ports::MailError;
use unipile_connect::{config, deps};

/// A stand-in for SES on a free port: every request answers `status`. Returns its URL and
/// the count of requests it received.
async fn ses_answering(status: StatusCode) -> (String, Arc<AtomicUsize>) {
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let router = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            (
                status,
                [("content-type", "application/json")],
                r#"{"message":"try again later"}"#,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, received)
}

async fn send_through(endpoint: &str) -> Result<(), MailError> {
    let env = HashMap::from([
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("MAIL_FROM".to_owned(), "alerts@example.com".to_owned()),
    ]);
    let aws = config::aws_sdk_config(&env).await;
    let mailer = deps::ses_mailer(&env, &aws).expect("mailer");
    let email = OutgoingEmail {
        to: Email::parse("jane@example.com").expect("email"),
        subject: "Reconnect".into(),
        text: "text".into(),
        html: "<p>html</p>".into(),
    };
    mailer.send(&email).await
}

#[tokio::test]
async fn given_ses_answering_a_retryable_error_then_the_mailer_asks_it_once() {
    for status in [
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (endpoint, received) = ses_answering(status).await;
        let sent = send_through(&endpoint).await;
        assert!(sent.is_err(), "{status}: {sent:?}");
        assert_eq!(
            received.load(Ordering::SeqCst),
            1,
            "{status}: SES was asked more than once for one email"
        );
    }
}
