//! RFC 9457 problem+json: every error a handler returns takes this shape, built here only.

use super::response::build;
use crate::domain::IdentityError;
use crate::flows::{FlowError, LoginRefusal};
use crate::ports::{StoreError, UnipileError, UnipileErrorType};
use lambda_http::{Body, Response};
use serde::Serialize;

/// What a 503 asks the caller to wait before trying again.
pub const RETRY_AFTER_SECONDS: &str = "5";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Unipile's error `type`, when the problem is Unipile's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unipile_type: Option<Box<str>>,
    /// The account the problem is about, when the caller can act on it (the sign-in that
    /// waits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Box<str>>,
    /// Seconds to wait before trying again: the `Retry-After` header, not the body.
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: u16, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("urn:unipile-connect:problem:{slug}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            unipile_type: None,
            account_id: None,
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, "invalid-request", "The request is not valid", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, "unauthenticated", "Authentication required", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "not-found", "Not found", detail)
    }

    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, "method-not-allowed", "Method not allowed", detail)
    }

    /// A body larger than the platform hands a function (the local stack answers it as API
    /// Gateway and Lambda would refuse it, before any handler runs).
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(
            413,
            "payload-too-large",
            "The request body is too large",
            detail,
        )
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, "internal", "Internal error", detail)
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::to_string(&self).unwrap_or_else(|_| {
            r#"{"type":"urn:unipile-connect:problem:internal","title":"Internal error","status":500}"#.to_owned()
        });
        let mut response = build(self.status, "application/problem+json", Body::Text(body));
        // Every 503 is "try again shortly": say when, for callers that honour it.
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        } else if self.status == 503 {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

impl From<IdentityError> for Problem {
    /// A token of the wrong kind for the route is 403: it was verified, and trying again
    /// with it will not help; anything else about it is 401.
    fn from(error: IdentityError) -> Self {
        if error.is_wrong_kind() {
            Self::new(
                403,
                "wrong-token-kind",
                "Not for this kind of token",
                error.to_string(),
            )
        } else {
            Self::unauthorized(error.to_string())
        }
    }
}

impl From<&UnipileError> for Problem {
    fn from(error: &UnipileError) -> Self {
        let mut problem = match error {
            UnipileError::Api {
                error_type:
                    UnipileErrorType::InvalidCredentials | UnipileErrorType::ExpiredCredentials,
                ..
            } => Self::new(
                422,
                "credentials-refused",
                "The provider did not accept these credentials",
                error.public_detail(),
            ),
            UnipileError::Api {
                status: 409 | 425, ..
            } => Self::new(
                409,
                "authentication-in-progress",
                "Another authentication of this account is in progress; try again shortly",
                error.public_detail(),
            ),
            UnipileError::Api { status: 429, .. } => Self::new(
                503,
                "unipile-busy",
                "Unipile is rate limiting us; try again shortly",
                error.public_detail(),
            ),
            UnipileError::OutOfTime(_) => Self::new(
                503,
                "out-of-time",
                "Not enough time was left to finish; try again",
                error.public_detail(),
            ),
            UnipileError::Transport(_) => Self::new(
                504,
                "unipile-unreachable",
                "Unipile could not be reached",
                error.public_detail(),
            ),
            _ if error.is_transient() => Self::new(
                502,
                "unipile-unavailable",
                "Unipile is unavailable",
                error.public_detail(),
            ),
            _ => Self::new(
                502,
                "unipile-refused",
                "Unipile refused the request",
                error.public_detail(),
            ),
        };
        if let UnipileError::Api { error_type, .. } = error {
            problem.unipile_type = Some(error_type.as_str())
                .filter(|t| !t.is_empty())
                .map(Into::into);
        }
        problem
    }
}

impl From<&FlowError> for Problem {
    fn from(error: &FlowError) -> Self {
        match error {
            FlowError::InvalidRequest(detail) => Self::bad_request(detail.clone()),
            FlowError::Unauthenticated(detail) => Self::unauthorized(detail.clone()),
            FlowError::NotFound(detail) => Self::not_found(detail.clone()),
            FlowError::Conflict(detail) => Self::new(409, "conflict", "Conflict", detail.clone()),
            FlowError::UnknownEvent(detail) => Self::new(
                404,
                "unknown-event",
                "Unknown event: start again without `after`",
                detail.clone(),
            ),
            // 409, not 422: the body is fine; what refuses it is the state of the user's
            // identities, and it passes again if that changes.
            FlowError::LimitReached(detail) => Self::new(
                409,
                "linkedin-identity-limit",
                "Too many LinkedIn identities for this user",
                detail.clone(),
            ),
            FlowError::WrongCode(detail) => Self::new(
                422,
                "checkpoint-code-refused",
                "The verification code was not accepted",
                detail.clone(),
            ),
            FlowError::Expired(detail) => Self::new(
                410,
                "checkpoint-expired",
                "The verification expired",
                detail.clone(),
            ),
            FlowError::Unipile(error) => Self::from(error),
            FlowError::Store(StoreError::BadCursor(detail)) => {
                Self::bad_request(format!("cursor: {detail}"))
            }
            FlowError::Store(StoreError::Unavailable(_)) => Self::new(
                503,
                "store-unavailable",
                "Storage is unavailable; try again",
                "the account store did not answer",
            ),
            FlowError::Mail(_) => Self::new(
                502,
                "mail-unavailable",
                "The email could not be sent",
                "the mail service refused or did not answer",
            ),
            FlowError::Directory(_) => Self::new(
                503,
                "directory-unavailable",
                "The user directory is unavailable; try again",
                "the user directory did not answer",
            ),
            FlowError::Busy(detail) => Self::new(
                503,
                "busy",
                "Work in progress; try again shortly",
                detail.clone(),
            ),
            FlowError::Store(_) | FlowError::Internal(_) => {
                Self::internal("an internal error occurred")
            }
            FlowError::TooManyAttempts {
                detail,
                retry_after,
            } => Self {
                retry_after: Some(u32::try_from(*retry_after).unwrap_or(u32::MAX)),
                ..Self::new(
                    429,
                    "too-many-attempts",
                    "Too many attempts",
                    detail.clone(),
                )
            },
            FlowError::LoginWaiting { account_id, detail } => Self {
                account_id: Some(account_id.as_str().into()),
                ..Self::new(
                    409,
                    "attempt-in-progress",
                    "Another sign-in is waiting",
                    detail.clone(),
                )
            },
            FlowError::LoginRefused { refusal, detail } => {
                let (slug, title) = match refusal {
                    LoginRefusal::Credentials => (
                        "credentials-refused",
                        "The provider did not accept these credentials",
                    ),
                    LoginRefusal::MailSettings => (
                        "imap-settings-refused",
                        "The mail server settings did not work",
                    ),
                    LoginRefusal::AppPassword => {
                        ("app-password-needed", "The mailbox refused this password")
                    }
                    LoginRefusal::Captcha => {
                        ("captcha-required", "The provider asks for a captcha")
                    }
                    LoginRefusal::MethodNotAvailable => (
                        "method-not-available",
                        "The provider refused this way of signing in",
                    ),
                    LoginRefusal::AccountRestricted => {
                        ("account-restricted", "The provider restricted the account")
                    }
                    LoginRefusal::WrongAccount => {
                        ("wrong-account", "Signed in with another account")
                    }
                    LoginRefusal::MultipleSessions => {
                        ("multiple-sessions", "The provider allows one session only")
                    }
                };
                Self::new(422, slug, title, detail.clone())
            }
        }
    }
}

impl From<FlowError> for Problem {
    fn from(error: FlowError) -> Self {
        // Internal details go to the log, not to the caller.
        let refused = matches!(error, FlowError::Store(StoreError::BadCursor(_)));
        if !refused
            && matches!(
                error,
                FlowError::Store(_)
                    | FlowError::Internal(_)
                    | FlowError::Mail(_)
                    | FlowError::Directory(_)
            )
        {
            tracing::error!(error = %error, "request failed");
        } else {
            tracing::info!(error = %error, "request refused");
        }
        Self::from(&error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unipile_failures_become_gateway_problems_with_their_type() {
        let error = UnipileError::Api {
            status: 503,
            error_type: UnipileErrorType::ServiceUnavailable,
            title: "down".into(),
            detail: None,
        };
        let problem = Problem::from(&error);
        assert_eq!(problem.status, 502);
        assert_eq!(
            problem.unipile_type.as_deref(),
            Some("errors/service_unavailable")
        );

        let refused = UnipileError::Api {
            status: 401,
            error_type: UnipileErrorType::MissingCredentials,
            title: "bad key".into(),
            detail: None,
        };
        assert_eq!(
            Problem::from(&refused).problem_type,
            "urn:unipile-connect:problem:unipile-refused"
        );
    }

    #[test]
    fn store_internals_never_reach_the_caller() {
        let problem = Problem::from(&FlowError::Store(StoreError::Unavailable(
            "arn:aws:dynamodb:secret-table".into(),
        )));
        assert_eq!(problem.status, 503);
        assert!(!problem.detail.contains("arn:"));
    }

    #[test]
    fn out_of_time_is_a_503_that_says_when_to_retry() {
        let response = Problem::from(&UnipileError::OutOfTime("cookie_login")).into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(
            response
                .headers()
                .get(http::header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(RETRY_AFTER_SECONDS.as_bytes())
        );
        let refused = Problem::bad_request("no").into_response();
        assert!(refused.headers().get(http::header::RETRY_AFTER).is_none());
    }

    #[test]
    fn problems_are_served_as_problem_json() {
        let response = Problem::bad_request("`type` is missing").into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
    }
}
