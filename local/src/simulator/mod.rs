//! A Unipile v1 tenant in a process, following `unipile-api-v1.md`: hosted-auth links with a
//! clickable page that fires `notify_url` as Unipile does, accounts, and scripted failures.
//! It is strict where Unipile is (required fields, the `expiresOn` format, unknown fields)
//! so that a request it accepts is one the real API accepts.

mod api;
mod hosted_page;
mod state;

pub use state::{Fault, RecordedRequest, SimAccount, Simulator};

use axum::Router;
use axum::routing::{get, post};

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
            .route("/api/v1/accounts", get(api::list_accounts))
            .route(
                "/api/v1/accounts/{id}",
                get(api::get_account).delete(api::delete_account),
            )
            .route(
                "/_sim/hosted/{token}",
                get(hosted_page::show).post(hosted_page::submit),
            )
            .route("/_sim/requests", get(api::recorded_requests))
            .route("/_sim/notifications", get(api::notifications))
            .route(
                "/_sim/faults",
                post(api::add_fault).delete(api::clear_faults),
            )
            .with_state(self.clone())
    }
}
