//! Pure domain: identifiers, statuses, accounts and the rules on them. No I/O here.

mod account;
pub mod checkpoint;
mod cookie_record;
pub mod cookies;
mod country;
pub mod dead_letter;
mod ids;
mod link;
pub mod notification;
mod outage;
pub mod pending;
mod provider;
pub mod reconnect;
mod status;
pub(crate) mod string_enum;
pub mod transitions;
pub mod truth;
mod unipile_event;
pub mod webhook;

pub use account::Account;
pub use cookie_record::{CookieRecord, LinkedinIdentities, PausedIdentity};
pub use country::Country;
pub use ids::{AccountId, Email, IdError, LinkNonce, LinkedinMemberId, UserId, WebhookId};
pub use link::{
    CallbackMismatch, LinkKind, LinkPurpose, LinkRequest, LinkRequestBody, LinkRequestError,
    ProviderSelection, ProvidersField, RedirectPolicy,
};
pub use outage::Outage;
pub use pending::{CLAIM_LEASE, MAX_FOLLOW_UP_ATTEMPTS, PendingAction, PendingKind, retry_at};
pub use provider::Provider;
pub use status::AccountStatus;
pub use unipile_event::{UnipileEvent, UnipileEventError};
