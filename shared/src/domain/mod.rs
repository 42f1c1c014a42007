//! Pure domain: identifiers, statuses, accounts and the rules on them. No I/O here.
//!
//! Built as the crate `unipile_domain` (manifest in `shared/domain/`) so that whatever needs
//! only the domain, the fuzz targets first, builds without the AWS SDK; `unipile_connect`
//! re-exports it as `unipile_connect::domain`.

mod account;
pub mod checkpoint;
mod claims;
mod cookie_record;
pub mod cookies;
mod country;
pub mod custom_login;
pub mod dead_letter;
mod event_schemas;
pub mod event_webhook;
pub mod events;
pub mod feed;
mod ids;
mod link;
pub mod login_attempt;
pub mod notification;
mod outage;
pub mod pending;
mod provider;
pub mod reconnect;
pub mod secure_url;
pub mod state_token;
mod status;
mod string_enum;
pub mod transitions;
pub mod truth;
pub mod unipile_error;
mod unipile_event;
pub mod webhook;

pub use account::Account;
pub use claims::{Caller, ClaimNames, DEFAULT_SERVICE_SCOPE, IdentityError, ServiceCaller};
pub use cookie_record::{CookieRecord, LinkedinIdentities, PausedIdentity};
pub use country::Country;
pub use ids::{
    AccountId, Email, IdError, LinkNonce, LinkedinMemberId, LinkedinProfileId, UserId, WebhookId,
};
pub use link::{
    CallbackMismatch, LinkKind, LinkPurpose, LinkRequest, LinkRequestBody, LinkRequestError,
    ProviderSelection, ProvidersField, RedirectPolicy, ServiceLinkBody,
};
pub use outage::Outage;
pub use pending::{CLAIM_LEASE, MAX_FOLLOW_UP_ATTEMPTS, PendingAction, PendingKind, retry_at};
pub use provider::Provider;
pub use status::AccountStatus;
pub use unipile_event::{UnipileEvent, UnipileEventError};
