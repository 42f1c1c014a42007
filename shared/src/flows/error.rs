use crate::domain::AccountId;
use crate::ports::{DirectoryError, MailError, StoreError, UnipileError};

/// Why the provider (through Unipile) refused a custom-auth login: each has its own words for
/// the user and its own way forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// The username or password (or the mailbox's) is wrong.
    Credentials,
    /// The mail server's IMAP or SMTP settings do not work.
    MailSettings,
    /// The mailbox exists but refused the password: an app password may be needed.
    AppPassword,
    /// The provider asks for a captcha, which only Unipile's hosted page can show.
    Captcha,
    /// The provider cannot complete this method (`checkpoint_error`, a method it does not
    /// offer): the hosted page can.
    MethodNotAvailable,
    /// The provider restricted the account: the user must fix it with the provider.
    AccountRestricted,
    /// A reconnect signed in with another account than the one being reconnected.
    WrongAccount,
    /// LinkedIn Recruiter allows one session: the extension's cookie connection avoids it.
    MultipleSessions,
}

/// Why a use case did not complete. The HTTP edge turns each into one problem+json response
/// (`http::Problem`), in one place.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The event a feed reader's cursor names is not in the feed (never published, or older
    /// than the feed keeps): the reader starts again from the oldest event kept.
    #[error("{0}")]
    UnknownEvent(String),
    #[error(transparent)]
    Unipile(#[from] UnipileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// A limit on what one user may have is reached (the LinkedIn identities the extension may
    /// sync): the request is valid, the user's current state refuses it.
    #[error("{0}")]
    LimitReached(String),
    /// The user's answer (a verification code) was checked and refused; they may try again.
    #[error("{0}")]
    WrongCode(String),
    /// What the request answers is over (a verification past its lifetime).
    #[error("{0}")]
    Expired(String),
    /// Another request is doing this work right now; try again shortly.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Internal(String),
    /// Too many sign-in starts (or code resends) for now: try again after `retry_after`
    /// seconds.
    #[error("{detail}")]
    TooManyAttempts { detail: String, retry_after: u64 },
    /// Another sign-in of this user with this provider waits for its checkpoint.
    #[error("{detail}")]
    LoginWaiting {
        account_id: AccountId,
        detail: String,
    },
    /// The provider refused the sign-in.
    #[error("{detail}")]
    LoginRefused {
        refusal: LoginRefusal,
        detail: String,
    },
}
