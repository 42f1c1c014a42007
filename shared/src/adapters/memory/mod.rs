//! In-memory adapters: the same contracts as the AWS ones, for unit tests and the local stack.

mod directory;
mod events;
mod feed;
mod mailer;
mod store;
mod unipile;
mod webhooks;

pub use directory::MemoryDirectory;
pub use events::MemoryEvents;
pub use feed::MemoryFeed;
pub use mailer::{MemoryMailer, SentEmail};
pub use store::MemoryStore;
pub use unipile::{CookieOutcome, MemoryUnipile};
pub use webhooks::MemoryWebhooks;

pub use super::sqs::MemoryDeadLetters;
