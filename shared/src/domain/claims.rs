//! Who a request is from, as the identity provider's token claims say: the rules that turn
//! the claims the API Gateway authorizer vouched for into a [`Caller`]. Reading the claims out
//! of the request is the HTTP edge's (`unipile_connect::http::caller`).

use crate::{Email, IdError, UserId};
use std::collections::HashMap;

/// Which JWT claims name the user and their email (`sub`, `email` and `email_verified` unless
/// configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub user_id: String,
    /// `None`: the tokens carry no email claim (a Cognito access token).
    pub email: Option<String>,
    /// The claim saying whether the user proved they receive mail at that address. A token
    /// that carries it and says anything but `true` gives no email; a token without it is
    /// taken as its identity provider vouching for the address. `None`: never read.
    pub email_verified: Option<String>,
    /// The OAuth scope that makes a token the team's backend's (`SERVICE_SCOPE`): such a
    /// token may call the service routes and no route of a user.
    pub service_scope: String,
}

/// `SERVICE_SCOPE`'s default: the scope a Cognito resource server `unipile-connect` with a
/// `service` scope grants its client-credentials clients.
pub const DEFAULT_SERVICE_SCOPE: &str = "unipile-connect/service";

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            user_id: "sub".into(),
            email: Some("email".into()),
            email_verified: Some("email_verified".into()),
            service_scope: DEFAULT_SERVICE_SCOPE.into(),
        }
    }
}

/// The scopes a token grants: OAuth's `scope` claim (space-separated: Cognito, Auth0) and
/// `scp` (a list: Okta, Entra ID), which API Gateway hands over as text, a list written
/// `[a b]`.
fn scopes(claims: &HashMap<String, String>) -> impl Iterator<Item = &str> {
    ["scope", "scp"]
        .into_iter()
        .filter_map(|claim| claims.get(claim))
        .flat_map(|value| {
            value
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(|c: char| c.is_whitespace() || c == ',')
                .map(|s| s.trim_matches('"'))
                .filter(|s| !s.is_empty())
        })
}

fn grants(claims: &HashMap<String, String>, scope: &str) -> bool {
    !scope.is_empty() && scopes(claims).any(|s| s == scope)
}

/// A verified-email claim's value that vouches for the address. API Gateway hands JWT claims
/// over as text, so a JSON `true` arrives as `"true"`.
fn says_verified(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("true")
}

/// The signed-in user behind an API request, as the API Gateway authorizer vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub email: Option<Email>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the request carries no authorizer claims")]
    NoClaims,
    #[error("the `{claim}` claim is missing")]
    MissingClaim { claim: String },
    #[error("the `{claim}` claim is not usable: {error}")]
    BadClaim { claim: String, error: IdError },
    /// A service token on a user's route: the team's backend acts through `/service/`.
    #[error("a service token (scope `{scope}`) acts for no user: use the /service/ routes")]
    ServiceToken { scope: String },
    /// A user's token on a service route.
    #[error("this route is the team's backend's: its token must grant the `{scope}` scope")]
    NotAService { scope: String },
}

impl IdentityError {
    /// Whether the token is fine but not for this route (403), rather than unusable (401).
    pub fn is_wrong_kind(&self) -> bool {
        matches!(self, Self::ServiceToken { .. } | Self::NotAService { .. })
    }
}

/// The team's backend behind a service request: a token granting the service scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCaller {
    /// Who the token was issued to, for the logs (`client_id`, `azp` or `sub`), if it says.
    pub client: Option<String>,
}

impl ServiceCaller {
    pub fn from_claims(
        claims: &HashMap<String, String>,
        names: &ClaimNames,
    ) -> Result<Self, IdentityError> {
        if !grants(claims, &names.service_scope) {
            return Err(IdentityError::NotAService {
                scope: names.service_scope.clone(),
            });
        }
        let client = ["client_id", "azp", "sub"]
            .into_iter()
            .find_map(|claim| claims.get(claim).filter(|v| !v.is_empty()).cloned());
        Ok(Self { client })
    }
}

impl Caller {
    /// The caller the claims name: the user id claim must be there and be a valid id; an
    /// unusable or unverified email is not a reason to refuse the user (they just get no
    /// mail: a message to an address nobody proved is theirs may reach a stranger).
    pub fn from_claims(
        claims: &HashMap<String, String>,
        names: &ClaimNames,
    ) -> Result<Self, IdentityError> {
        // A client-credentials token's `sub` is its client: taken as a user, it would own
        // accounts nobody can reach.
        if grants(claims, &names.service_scope) {
            return Err(IdentityError::ServiceToken {
                scope: names.service_scope.clone(),
            });
        }
        let user = claims
            .get(&names.user_id)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| IdentityError::MissingClaim {
                claim: names.user_id.clone(),
            })?;
        let user_id = UserId::parse(user.as_str()).map_err(|error| IdentityError::BadClaim {
            claim: names.user_id.clone(),
            error,
        })?;
        let email = names
            .email
            .as_ref()
            .and_then(|claim| claims.get(claim))
            .and_then(|e| Email::parse(e.as_str()).ok())
            .filter(|_| {
                names
                    .email_verified
                    .as_ref()
                    .and_then(|claim| claims.get(claim))
                    .is_none_or(|v| says_verified(v))
            });
        Ok(Self { user_id, email })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_token_granting_the_service_scope_is_the_teams_backend_and_no_user() {
        let names = ClaimNames::default();
        for token in [
            claims(&[
                ("sub", "7abc"),
                ("client_id", "7abc"),
                ("scope", "unipile-connect/service"),
            ]),
            claims(&[
                ("sub", "7abc"),
                ("scope", "openid unipile-connect/service other"),
            ]),
            claims(&[("sub", "7abc"), ("scp", "[unipile-connect/service other]")]),
            claims(&[
                ("sub", "7abc"),
                ("scp", r#"["other","unipile-connect/service"]"#),
            ]),
        ] {
            assert!(
                ServiceCaller::from_claims(&token, &names).is_ok(),
                "{token:?}"
            );
            let refused = Caller::from_claims(&token, &names).expect_err("no user");
            assert!(refused.is_wrong_kind(), "{refused}");
        }
        let service = ServiceCaller::from_claims(
            &claims(&[("client_id", "7abc"), ("scope", "unipile-connect/service")]),
            &names,
        )
        .expect("service");
        assert_eq!(service.client.as_deref(), Some("7abc"));
    }

    #[test]
    fn a_users_token_is_no_service_even_with_a_scope_that_only_looks_alike() {
        let names = ClaimNames::default();
        for token in [
            claims(&[("sub", "u1")]),
            claims(&[("sub", "u1"), ("scope", "openid profile")]),
            claims(&[
                ("sub", "u1"),
                ("scope", "unipile-connect/service-x unipile-connect"),
            ]),
            claims(&[("sub", "u1"), ("scp", "[]")]),
        ] {
            let refused = ServiceCaller::from_claims(&token, &names).expect_err("a user");
            assert!(refused.is_wrong_kind());
            assert!(Caller::from_claims(&token, &names).is_ok(), "{token:?}");
        }
        let elsewhere = ClaimNames {
            service_scope: "api://backend/connect".into(),
            ..ClaimNames::default()
        };
        let token = claims(&[("sub", "c1"), ("scope", "api://backend/connect")]);
        assert!(ServiceCaller::from_claims(&token, &elsewhere).is_ok());
        assert!(ServiceCaller::from_claims(&token, &names).is_err());
    }
}
