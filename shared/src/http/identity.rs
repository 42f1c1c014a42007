use crate::domain::{Email, IdError, UserId};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use std::collections::HashMap;

/// Which JWT claims name the user and their email (`sub` and `email` unless configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub user_id: String,
    /// `None`: the tokens carry no email claim (a Cognito access token).
    pub email: Option<String>,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            user_id: "sub".into(),
            email: Some("email".into()),
        }
    }
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
    /// Reads the caller from the authorizer's claims, never from the body or query: an HTTP
    /// API JWT authorizer (`authorizer.jwt.claims`) or a REST API Cognito authorizer
    /// (`authorizer.claims`).
    pub fn from_request(request: &Request, names: &ClaimNames) -> Result<Self, IdentityError> {
        let claims = claims(request).ok_or(IdentityError::NoClaims)?;
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
        // An unusable email is not a reason to refuse the user: they just get no mail.
        let email = names
            .email
            .as_ref()
            .and_then(|claim| claims.get(claim))
            .and_then(|e| Email::parse(e.as_str()).ok());
        Ok(Self { user_id, email })
    }
}

fn claims(request: &Request) -> Option<HashMap<String, String>> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context
            .authorizer
            .as_ref()?
            .jwt
            .as_ref()
            .map(|jwt| jwt.claims.clone()),
        RequestContext::ApiGatewayV1(context) => {
            let claims = context.authorizer.fields.get("claims")?.as_object()?;
            Some(
                claims
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::with_jwt_claims;

    fn request_with_claims(claims: &[(&str, &str)]) -> Request {
        let claims = claims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        with_jwt_claims(Request::default(), claims)
    }

    #[test]
    fn the_caller_comes_from_the_jwt_claims() {
        let request = request_with_claims(&[("sub", "user_42"), ("email", "jane@example.com")]);
        let caller = Caller::from_request(&request, &ClaimNames::default()).expect("claims");
        assert_eq!(caller.user_id.as_str(), "user_42");
        assert_eq!(
            caller.email.map(String::from),
            Some("jane@example.com".to_owned())
        );
    }

    #[test]
    fn claim_names_are_configurable() {
        let request = request_with_claims(&[("custom:uid", "u1"), ("mail", "a@b.co")]);
        let names = ClaimNames {
            user_id: "custom:uid".into(),
            email: Some("mail".into()),
        };
        let caller = Caller::from_request(&request, &names).expect("claims");
        assert_eq!(caller.user_id.as_str(), "u1");
        assert!(caller.email.is_some());
    }

    #[test]
    fn without_an_email_claim_the_caller_has_no_email() {
        let request = request_with_claims(&[("sub", "u1"), ("email", "a@b.co")]);
        let names = ClaimNames {
            email: None,
            ..ClaimNames::default()
        };
        let caller = Caller::from_request(&request, &names).expect("claims");
        assert_eq!(caller.email, None);
    }

    #[test]
    fn no_authorizer_or_no_subject_is_refused() {
        assert_eq!(
            Caller::from_request(&Request::default(), &ClaimNames::default()),
            Err(IdentityError::NoClaims)
        );
        assert_eq!(
            Caller::from_request(
                &request_with_claims(&[("email", "a@b.co")]),
                &ClaimNames::default()
            ),
            Err(IdentityError::MissingClaim {
                claim: "sub".into()
            })
        );
    }

    #[test]
    fn an_unusable_email_claim_leaves_the_caller_without_email() {
        let request = request_with_claims(&[("sub", "u1"), ("email", "not-an-email")]);
        let caller = Caller::from_request(&request, &ClaimNames::default()).expect("claims");
        assert_eq!(caller.email, None);
    }
}
