//! `POST /accounts/link`: a hosted-auth link to connect a new account or reconnect one of ours.

use super::FlowError;
use crate::domain::Caller;
use crate::domain::state_token::StateKey;
use crate::domain::{LinkKind, LinkPurpose, LinkRequest, RedirectPolicy};
use crate::ports::{AccountStore, Clock, HostedLinkRequest, Unipile, UserProfile};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;
use url::Url;

/// Everything the link flow needs besides its ports; read once at cold start.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// Where Unipile reaches our connect-callback (its function URL in AWS).
    pub public_base_url: Url,
    pub state_key: StateKey,
    pub redirects: RedirectPolicy,
    pub link_ttl: Duration,
}

/// How long after the link's expiry its callback is still accepted: a user who finishes the
/// hosted page in its last second must not lose the account to the delivery delay.
pub const CALLBACK_GRACE: Duration = Duration::minutes(15);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedLink {
    pub url: String,
    pub expires_at: String,
}

pub struct LinkPorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    pub clock: &'a dyn Clock,
}

/// The callback address for one link: `PUBLIC_BASE_URL/unipile/notify?state=<token>`.
pub fn notify_url(base: &Url, state: &str) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().push("unipile").push("notify");
    }
    url.query_pairs_mut().clear().append_pair("state", state);
    url
}

pub async fn issue_link(
    ports: LinkPorts<'_>,
    settings: &LinkSettings,
    caller: &Caller,
    request: LinkRequest,
) -> Result<IssuedLink, FlowError> {
    if let LinkKind::Reconnect { account_id } = &request.kind {
        // Someone else's account and no account at all look the same from outside.
        let owned = ports
            .store
            .get_account(account_id)
            .await?
            .is_some_and(|account| account.is_owned_by(&caller.user_id));
        if !owned {
            return Err(FlowError::NotFound(format!(
                "no account {account_id} for this user"
            )));
        }
    }
    let now = ports.clock.now();
    let expires_on: DateTime<Utc> = now + settings.link_ttl;
    // The token names what the link is for, so its callback can only answer that: a
    // creation, or the reconnection of this very account.
    let purpose = LinkPurpose::from(&request.kind);
    let state = settings
        .state_key
        .sign(&caller.user_id, &purpose, expires_on + CALLBACK_GRACE)
        .map_err(|e| FlowError::Internal(e.to_string()))?;
    let link = HostedLinkRequest {
        kind: request.kind,
        expires_on,
        name: caller.user_id.clone(),
        notify_url: notify_url(&settings.public_base_url, &state),
        success_redirect_url: request.success_redirect_url,
        failure_redirect_url: request.failure_redirect_url,
    };
    let url = ports.unipile.create_hosted_link(&link).await?;
    // Recorded only once Unipile gave a link, so a failed call leaves nothing behind.
    if let Some(email) = &caller.email {
        ports
            .store
            .save_profile(&UserProfile {
                user_id: caller.user_id.clone(),
                email: email.clone(),
                updated_at: now,
            })
            .await?;
    }
    tracing::info!(user_id = %caller.user_id, kind = purpose.as_str(), "hosted-auth link issued");
    crate::metrics::count("LinksCreated");
    Ok(IssuedLink {
        url: url.into(),
        expires_at: expires_on.to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notify_url_carries_the_state_under_our_base() {
        let base = Url::parse("https://abc.lambda-url.eu-west-1.on.aws/").expect("valid");
        assert_eq!(
            notify_url(&base, "v1.a+b.c").as_str(),
            "https://abc.lambda-url.eu-west-1.on.aws/unipile/notify?state=v1.a%2Bb.c"
        );
        let prefixed = Url::parse("https://api.example.com/prod").expect("valid");
        assert_eq!(
            notify_url(&prefixed, "t").as_str(),
            "https://api.example.com/prod/unipile/notify?state=t"
        );
    }
}
