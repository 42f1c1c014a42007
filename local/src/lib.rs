//! The local stack: every function on one localhost server, the Unipile simulator beside them,
//! and the landing page (`web/`, compiled in). Tests start the same pieces on free ports.

pub mod backend;
pub mod bridge;
pub mod event_webhooks;
mod host_guard;
pub mod jwt;
pub mod landing_page;
pub mod mail_page;
pub mod simulator;
pub mod stack;
