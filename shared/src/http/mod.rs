//! The HTTP edge shared by every handler: who is calling, what a response looks like.

mod authorizer;
mod extension_views;
mod identity;
mod login_views;
mod problem;
mod request;
mod response;
mod webhook_secret;

pub use crate::domain::state_token::{StateKey, StateToken, StateTokenError};
pub use crate::domain::{Caller, ClaimNames, IdentityError, ServiceCaller};
pub use authorizer::with_jwt_claims;
pub use extension_views::{CookiesDeletedView, ExtensionStepView};
pub use identity::{caller, service_caller};
pub use login_views::{CodeSentView, LoginStepView, LoginWaitView, qr_data_url, step_status};
pub use problem::Problem;
pub use request::{json_body, path_param, query_param};
pub use response::{json_response, no_content};
pub use webhook_secret::{DEFAULT_WEBHOOK_HEADER, RotatingWebhookSecret, WebhookSecret};
