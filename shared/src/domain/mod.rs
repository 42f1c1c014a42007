//! Pure domain: identifiers, statuses, accounts and the rules on them. No I/O here.

mod account;
mod cookie_record;
pub mod cookies;
mod country;
mod ids;
mod link;
pub mod notification;
mod pending;
mod provider;
pub mod reconnect;
mod status;
pub(crate) mod string_enum;
pub mod transitions;
mod unipile_event;
pub mod webhook;

pub use account::Account;
pub use cookie_record::CookieRecord;
pub use country::Country;
pub use ids::{AccountId, Email, IdError, LinkNonce, LinkedinMemberId, UserId, WebhookId};
pub use link::{
    CallbackMismatch, LinkKind, LinkPurpose, LinkRequest, LinkRequestBody, LinkRequestError,
    ProviderSelection, ProvidersField, RedirectPolicy,
};
pub use pending::{PendingAction, PendingKind};
pub use provider::Provider;
pub use status::AccountStatus;
pub use unipile_event::{UnipileEvent, UnipileEventError};
