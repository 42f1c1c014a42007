//! The use cases, each a function over ports: what a handler calls once it has parsed its
//! request. They decide; the handlers only translate HTTP.

pub mod account_reconciler;
pub mod accounts;
pub mod checkpoint;
pub mod confirmed_connection;
pub mod connect_callback;
mod cookie_login;
pub mod cookie_sync;
pub mod custom_login;
pub mod dead_letters;
mod error;
pub mod event_feed;
pub mod event_webhooks;
pub mod events;
pub mod extension_identities;
pub mod fanout;
pub mod follow_up_sweeper;
pub mod follow_ups;
pub mod hosted_link;
pub mod publishing_store;
mod reconciliation_findings;
mod reconciliation_ledger;
pub mod reconnect_retry;
pub mod service_accounts;
mod settle;
pub mod status_webhook;
pub mod webhook_setup;

pub use error::{FlowError, LoginRefusal};
