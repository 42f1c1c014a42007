//! The caller, from the claims the authorizer vouched for: only the configured user claim
//! names the user, taken as given when it is a valid id and refused otherwise; an email comes
//! only from the configured email claim, only when it is usable and when the configured
//! verified claim, if the token has it, says `true`; a token granting the service scope is
//! no user's.

use crate::{hostile_text, is_id};
use lambda_http::Request;
use proptest::prelude::*;
use std::collections::HashMap;
use unipile_connect::http::{ClaimNames, IdentityError, caller, with_jwt_claims};

/// Claim names as identity providers spell them, and any other.
fn claim_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("sub".to_owned()),
        Just("email".to_owned()),
        Just("custom:uid".to_owned()),
        Just("mail".to_owned()),
        Just("email_verified".to_owned()),
        Just("mail_ok".to_owned()),
        Just("scope".to_owned()),
        hostile_text(),
    ]
}

fn claim_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("unipile-connect/service".to_owned()),
        Just("openid unipile-connect/service".to_owned()),
        "[A-Za-z0-9_@.|:-]{1,40}",
        "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}",
        hostile_text(),
        (250usize..330).prop_map(|n| "u".repeat(n)),
    ]
}

fn names() -> impl Strategy<Value = ClaimNames> {
    prop_oneof![
        Just(ClaimNames::default()),
        Just(ClaimNames {
            user_id: "custom:uid".into(),
            email: Some("mail".into()),
            email_verified: Some("mail_ok".into()),
            ..ClaimNames::default()
        }),
        Just(ClaimNames {
            user_id: "sub".into(),
            email: None,
            email_verified: None,
            ..ClaimNames::default()
        }),
    ]
}

fn is_email(value: &str) -> bool {
    is_id(value, 320)
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

proptest! {
    #[test]
    fn the_caller_is_exactly_what_the_configured_claims_say(
        claims in prop::collection::hash_map(claim_name(), claim_value(), 0..6),
        names in names(),
    ) {
        let request = with_jwt_claims(Request::default(), claims.clone());
        let user = claims.get(&names.user_id).filter(|u| !u.is_empty());
        match caller(&request, &names) {
            Ok(caller) => {
                let user = user.expect("accepted with a user claim");
                prop_assert!(is_id(user, 256));
                prop_assert_eq!(caller.user_id.as_str(), user.as_str());
                let verified = names
                    .email_verified
                    .as_ref()
                    .and_then(|n| claims.get(n))
                    .is_none_or(|v| v.trim().eq_ignore_ascii_case("true"));
                let email = names
                    .email
                    .as_ref()
                    .and_then(|n| claims.get(n))
                    .filter(|e| is_email(e) && verified);
                prop_assert_eq!(caller.email.as_ref().map(|e| e.as_str()), email.map(String::as_str));
            }
            Err(IdentityError::MissingClaim { claim }) => {
                prop_assert!(user.is_none());
                prop_assert_eq!(claim, names.user_id);
            }
            Err(IdentityError::BadClaim { claim, .. }) => {
                prop_assert!(!is_id(user.expect("a claim to be bad"), 256));
                prop_assert_eq!(claim, names.user_id);
            }
            Err(IdentityError::ServiceToken { scope }) => {
                prop_assert_eq!(&scope, &names.service_scope);
                prop_assert!(claims
                    .get("scope")
                    .is_some_and(|s| s.split_whitespace().any(|s| s == scope)));
            }
            Err(IdentityError::NoClaims) => prop_assert!(false, "the request carries claims"),
            Err(IdentityError::NotAService { .. }) => prop_assert!(false, "a user's route"),
        }
    }

    #[test]
    fn a_request_without_an_authorizer_has_no_caller(names in names()) {
        prop_assert_eq!(caller(&Request::default(), &names), Err(IdentityError::NoClaims));
    }

    #[test]
    fn only_the_configured_claim_names_the_user(other in claim_value(), user in "[a-z0-9]{1,12}") {
        let claims = HashMap::from([
            ("sub".to_owned(), other),
            ("custom:uid".to_owned(), user.clone()),
        ]);
        let names = ClaimNames { user_id: "custom:uid".into(), email: None, email_verified: None, ..ClaimNames::default() };
        let request = with_jwt_claims(Request::default(), claims);
        let caller = caller(&request, &names).expect("a valid user claim");
        prop_assert_eq!(caller.user_id.as_str(), user.as_str());
    }
}
