//! A Unipile v1 tenant in a process, following `unipile-api-v1.md`: hosted-auth links with a
//! clickable page that fires `notify_url` as Unipile does, accounts, and scripted failures.
//! It is strict where Unipile is (required fields, the `expiresOn` format, unknown fields)
//! so that a request it accepts is one the real API accepts. Native (custom-auth) logins
//! follow `unipile-custom-auth.md`, with a simulated phone that scans their QR codes.

mod answers;
mod api;
mod checkpoint_control;
mod checkpoints;
mod completion;
mod cookie_auth;
mod custom_auth;
mod hosted_page;
mod login_bodies;
mod login_outcomes;
mod phone;
mod qr_codes;
mod records;
mod resend;
mod state;
#[cfg(test)]
mod test_support;
mod webhooks;

pub use checkpoint_control::{CheckpointView, ScanRefusal};
pub use cookie_auth::OUTCOMES as COOKIE_OUTCOMES;
pub use login_outcomes::{CHECKPOINT_TYPES as LOGIN_CHECKPOINT_TYPES, OUTCOMES as LOGIN_OUTCOMES};
pub use records::{DeliveryAttempt, SimWebhook};
pub use state::{Fault, NotifyDelivery, RecordedRequest, SimAccount, Simulator};

use axum::Router;
use axum::routing::{delete, get, post};

/// The API key the simulator accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "local-simulator-key";

impl Simulator {
    /// The simulator's routes: `/api/v1/...` as Unipile serves them, `/_sim/...` to drive it.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/api/v1/hosted/accounts/link",
                post(api::create_hosted_link),
            )
            .route(
                "/api/v1/accounts",
                get(api::list_accounts).post(custom_auth::connect),
            )
            .route(
                "/api/v1/accounts/checkpoint",
                post(checkpoints::solve_checkpoint),
            )
            .route(
                "/api/v1/accounts/checkpoint/resend",
                post(resend::resend_checkpoint),
            )
            .route("/_sim/checkpoints/{id}", get(checkpoint_control::show))
            .route("/_sim/checkpoints/{id}/approve", post(checkpoints::approve))
            .route(
                "/_sim/checkpoints/{id}/scan",
                post(checkpoint_control::scan),
            )
            .route("/_sim/checkpoints/{id}/age", post(checkpoint_control::age))
            .route("/_sim/phone", get(phone::show))
            .route("/_sim/phone/{id}/scan", post(phone::scan))
            .route("/_sim/phone/{id}/approve", post(phone::approve))
            .route(
                "/_sim/login-outcomes",
                post(login_outcomes::script).delete(login_outcomes::clear_script),
            )
            .route(
                "/_sim/cookie-outcomes",
                post(cookie_auth::script).delete(cookie_auth::clear_script),
            )
            .route(
                "/api/v1/accounts/{id}",
                get(api::get_account)
                    .delete(api::delete_account)
                    .post(custom_auth::reconnect),
            )
            .route(
                "/_sim/hosted/{token}",
                get(hosted_page::show).post(hosted_page::submit),
            )
            .route("/api/v1/accounts/{id}/restart", post(api::restart_account))
            .route(
                "/api/v1/webhooks",
                post(webhooks::create_webhook).get(webhooks::list_webhooks),
            )
            .route("/api/v1/webhooks/{id}", delete(webhooks::delete_webhook))
            .route("/_sim/accounts/{id}/status", post(webhooks::report_status))
            .route("/_sim/linkedin-members", post(cookie_auth::add_member))
            .route("/_sim/requests", get(api::recorded_requests))
            .route("/_sim/notifications", get(api::notifications))
            .route(
                "/_sim/faults",
                post(api::add_fault).delete(api::clear_faults),
            )
            .with_state(self.clone())
    }
}
