use crate::domain::{Caller, ClaimNames, IdentityError, ServiceCaller};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use std::collections::HashMap;

/// Reads the caller from the authorizer's claims, never from the body or query: an HTTP API
/// JWT authorizer (`authorizer.jwt.claims`) or a REST API Cognito authorizer
/// (`authorizer.claims`).
pub fn caller(request: &Request, names: &ClaimNames) -> Result<Caller, IdentityError> {
    let claims = claims(request).ok_or(IdentityError::NoClaims)?;
    Caller::from_claims(&claims, names)
}

/// Reads the team's backend from the authorizer's claims: a token granting the service
/// scope, whatever API Gateway's route already required.
pub fn service_caller(
    request: &Request,
    names: &ClaimNames,
) -> Result<ServiceCaller, IdentityError> {
    let claims = claims(request).ok_or(IdentityError::NoClaims)?;
    ServiceCaller::from_claims(&claims, names)
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
        let caller = caller(&request, &ClaimNames::default()).expect("claims");
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
            email_verified: None,
            ..ClaimNames::default()
        };
        let caller = caller(&request, &names).expect("claims");
        assert_eq!(caller.user_id.as_str(), "u1");
        assert!(caller.email.is_some());
    }

    #[test]
    fn an_email_the_token_says_is_not_verified_is_not_taken() {
        for (verified, taken) in [
            (Some("false"), false),
            (Some("False"), false),
            (Some(""), false),
            (Some("true"), true),
            (Some("TRUE"), true),
            (None, true),
        ] {
            let mut claims = vec![("sub", "u1"), ("email", "a@b.co")];
            claims.extend(verified.map(|v| ("email_verified", v)));
            let caller = caller(&request_with_claims(&claims), &ClaimNames::default())
                .expect("the user is still known");
            assert_eq!(caller.email.is_some(), taken, "{verified:?}");
        }
        let unchecked = ClaimNames {
            email_verified: None,
            ..ClaimNames::default()
        };
        let request = request_with_claims(&[
            ("sub", "u1"),
            ("email", "a@b.co"),
            ("email_verified", "false"),
        ]);
        assert!(
            caller(&request, &unchecked)
                .expect("claims")
                .email
                .is_some()
        );
        let custom = ClaimNames {
            email_verified: Some("custom:mail_ok".into()),
            ..ClaimNames::default()
        };
        let request = request_with_claims(&[
            ("sub", "u1"),
            ("email", "a@b.co"),
            ("email_verified", "true"),
            ("custom:mail_ok", "false"),
        ]);
        assert_eq!(caller(&request, &custom).expect("claims").email, None);
    }

    #[test]
    fn without_an_email_claim_the_caller_has_no_email() {
        let request = request_with_claims(&[("sub", "u1"), ("email", "a@b.co")]);
        let names = ClaimNames {
            email: None,
            ..ClaimNames::default()
        };
        let caller = caller(&request, &names).expect("claims");
        assert_eq!(caller.email, None);
    }

    #[test]
    fn no_authorizer_or_no_subject_is_refused() {
        assert_eq!(
            caller(&Request::default(), &ClaimNames::default()),
            Err(IdentityError::NoClaims)
        );
        assert_eq!(
            caller(
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
        let caller = caller(&request, &ClaimNames::default()).expect("claims");
        assert_eq!(caller.email, None);
    }
}
