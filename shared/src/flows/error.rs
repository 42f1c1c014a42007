use crate::ports::{DirectoryError, MailError, StoreError, UnipileError};

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
}
