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
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            user_id: "sub".into(),
            email: Some("email".into()),
            email_verified: Some("email_verified".into()),
        }
    }
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
}

impl Caller {
    /// The caller the claims name: the user id claim must be there and be a valid id; an
    /// unusable or unverified email is not a reason to refuse the user (they just get no
    /// mail: a message to an address nobody proved is theirs may reach a stranger).
    pub fn from_claims(
        claims: &HashMap<String, String>,
        names: &ClaimNames,
    ) -> Result<Self, IdentityError> {
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
