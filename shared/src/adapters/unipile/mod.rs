//! Unipile API v1 over HTTPS (reqwest + rustls), as described in `unipile-api-v1.md`.

mod client;
mod custom_login;
mod dsn;
mod webhooks;
mod wire;

pub use client::{HttpUnipile, UnipileSettings};
pub use dsn::{DsnError, UnipileDsn};
