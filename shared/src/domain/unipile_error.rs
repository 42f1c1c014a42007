//! What a call to Unipile can fail with: the port's error, and the `type` vocabulary of
//! Unipile's error envelope it carries. Pure, so that the ports and every adapter can name it.

use crate::open_string_enum;

open_string_enum!(
    /// The `type` of Unipile's error envelope (contract §4d, §7). Branch on this, never on
    /// the HTTP status alone.
    UnipileErrorType {
        MissingCredentials => "errors/missing_credentials",
        InvalidCredentials => "errors/invalid_credentials",
        ExpiredCredentials => "errors/expired_credentials",
        InsufficientPrivileges => "errors/insufficient_privileges",
        ExpiredLink => "errors/expired_link",
        DisconnectedAccount => "errors/disconnected_account",
        CheckpointError => "errors/checkpoint_error",
        InvalidCheckpointSolution => "errors/invalid_checkpoint_solution",
        AccountRestricted => "errors/account_restricted",
        InsufficientPermissions => "errors/insufficient_permissions",
        FeatureNotSubscribed => "errors/feature_not_subscribed",
        SubscriptionRequired => "errors/subscription_required",
        ResourceNotFound => "errors/resource_not_found",
        InvalidResourceIdentifier => "errors/invalid_resource_identifier",
        TooManyRequests => "errors/too_many_requests",
        InvalidParameters => "errors/invalid_parameters",
        MissingParameters => "errors/missing_parameters",
        InvalidRequest => "errors/invalid_request",
        MalformedRequest => "errors/malformed_request",
        InvalidBody => "errors/invalid_body",
        UnexpectedError => "errors/unexpected_error",
        ProviderError => "errors/provider_error",
        AuthenticationIntentError => "errors/authentication_intent_error",
        NoClientSession => "errors/no_client_session",
        NetworkDown => "errors/network_down",
        ServiceUnavailable => "errors/service_unavailable",
        RequestTimeout => "errors/request_timeout",
        CaptchaNotSupported => "errors/captcha_not_supported",
        MultipleSessions => "errors/multiple_sessions",
        WrongAccount => "errors/wrong_account",
        InvalidImapConfiguration => "errors/invalid_imap_configuration",
        InvalidSmtpConfiguration => "errors/invalid_smtp_configuration",
        InvalidCredentialsButValidAccountImap => "errors/invalid_credentials_but_valid_account_imap",
        InvalidProxyCredentials => "errors/invalid_proxy_credentials",
        CannotResendYet => "errors/cannot_resend_yet",
        FeatureNotImplemented => "errors/feature_not_implemented",
    }
);

/// A call to Unipile that did not give what we asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnipileError {
    /// Unipile answered with its error envelope (or a bare non-2xx status).
    #[error("Unipile answered {status} {error_type}: {title}")]
    Api {
        status: u16,
        error_type: UnipileErrorType,
        title: String,
        detail: Option<String>,
    },
    /// No answer: connection refused, timeout, TLS.
    #[error("Unipile could not be reached: {0}")]
    Transport(String),
    /// A 2xx answer we could not read.
    #[error("Unipile's answer could not be read: {0}")]
    UnexpectedResponse(String),
    /// Not sent: the invocation has too little time left to wait for the answer, and a call
    /// cut off by the function's timeout would leave us not knowing what Unipile did.
    #[error("the {0} call to Unipile was not started: too little time left")]
    OutOfTime(&'static str),
}

impl UnipileError {
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Api {
                status, error_type, ..
            } => {
                *status == 404
                    || matches!(
                        error_type,
                        UnipileErrorType::ResourceNotFound
                            | UnipileErrorType::InvalidResourceIdentifier
                    )
            }
            _ => false,
        }
    }

    /// Unipile may have done what was asked although we did not hear it: no answer, an
    /// answer we could not read, or a server-side failure (5xx, 408). A refusal (other 4xx,
    /// 429) or a call never sent did nothing. Used where doing it twice costs something (a
    /// second billed account).
    pub fn may_have_acted(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status >= 500 || *status == 408,
            Self::Transport(_) | Self::UnexpectedResponse(_) => true,
            Self::OutOfTime(_) => false,
        }
    }

    /// What a caller of ours may read of it: the status and Unipile's error type (codes,
    /// documented in the contract), never Unipile's own words (`title`, `detail`), nor a
    /// transport error's or an unreadable answer's text, which can quote hosts, paths or the
    /// provider's messages. The whole error goes to the logs.
    pub fn public_detail(&self) -> String {
        match self {
            Self::Api {
                status, error_type, ..
            } => {
                let code = error_type.to_string();
                if code.is_empty() {
                    format!("Unipile answered {status}")
                } else {
                    format!("Unipile answered {status} ({code})")
                }
            }
            Self::Transport(_) => "Unipile could not be reached".to_owned(),
            Self::UnexpectedResponse(_) => "Unipile's answer could not be read".to_owned(),
            Self::OutOfTime(_) => self.to_string(),
        }
    }

    /// Worth another try later: Unipile or the provider is busy or down (contract §7).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status == 429 || *status >= 500,
            Self::Transport(_) | Self::OutOfTime(_) => true,
            Self::UnexpectedResponse(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_told_by_status_or_type() {
        let by_type = UnipileError::Api {
            status: 400,
            error_type: UnipileErrorType::from("errors/resource_not_found"),
            title: "x".into(),
            detail: None,
        };
        assert!(by_type.is_not_found());
        let other = UnipileError::Api {
            status: 401,
            error_type: UnipileErrorType::from("errors/invalid_credentials"),
            title: "x".into(),
            detail: None,
        };
        assert!(!other.is_not_found());
        assert!(!other.is_transient());
        assert!(UnipileError::Transport("refused".into()).is_transient());
    }

    #[test]
    fn what_callers_read_holds_codes_and_never_unipiles_words() {
        let refused = UnipileError::Api {
            status: 422,
            error_type: UnipileErrorType::from("errors/invalid_credentials"),
            title: "Invalid credentials for jane@corp.example".into(),
            detail: Some("LinkedIn said: session 8f3a expired".into()),
        };
        assert_eq!(
            refused.public_detail(),
            "Unipile answered 422 (errors/invalid_credentials)"
        );
        for error in [
            refused,
            UnipileError::Transport(
                "error sending request for url (https://api8.unipile.com:13851/api/v1/accounts)"
                    .into(),
            ),
            UnipileError::UnexpectedResponse("missing field `object` in {\"secret\":1}".into()),
        ] {
            let shown = error.public_detail();
            for private in ["jane", "8f3a", "api8", "13851", "secret", "LinkedIn"] {
                assert!(!shown.contains(private), "{shown}");
            }
        }
    }
}
