//! Pure domain: identifiers, statuses, accounts and the rules on them. No I/O here.

mod account;
mod ids;
mod link;
pub mod notification;
mod pending;
mod provider;
mod status;
pub(crate) mod string_enum;
pub mod transitions;
mod unipile_event;

pub use account::Account;
pub use ids::{AccountId, Email, IdError, UserId};
pub use link::{
    LinkKind, LinkRequest, LinkRequestBody, LinkRequestError, ProviderSelection, ProvidersField,
    RedirectPolicy,
};
pub use pending::{PendingAction, PendingKind};
pub use provider::Provider;
pub use status::AccountStatus;
pub use unipile_event::{UnipileEvent, UnipileEventError};
