//! The caller, from the claims an authorizer vouched for: whatever the claims, the user is
//! exactly the configured user claim when it is a valid id, and refused otherwise; the email
//! is the configured email claim when it is usable and the verified claim, if present, says
//! `true`, and none otherwise; a token granting the service scope is no user's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use unipile_connect_fuzz::{is_email, is_id};
use unipile_domain::{Caller, ClaimNames, IdentityError};

fuzz_target!(|input: (Vec<(String, String)>, bool)| {
    let (claims, custom) = input;
    let claims: HashMap<String, String> = claims.into_iter().collect();
    let names = if custom {
        ClaimNames {
            user_id: "custom:uid".into(),
            email: Some("mail".into()),
            email_verified: Some("mail_ok".into()),
            ..ClaimNames::default()
        }
    } else {
        ClaimNames::default()
    };
    let user = claims.get(&names.user_id).filter(|u| !u.is_empty());
    match Caller::from_claims(&claims, &names) {
        Ok(caller) => {
            let user = user.expect("accepted with a user claim");
            assert!(is_id(user, 256));
            assert_eq!(caller.user_id.as_str(), user);
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
            assert_eq!(
                caller.email.as_ref().map(|e| e.as_str()),
                email.map(String::as_str)
            );
        }
        Err(IdentityError::MissingClaim { claim }) => {
            assert!(user.is_none());
            assert_eq!(claim, names.user_id);
        }
        Err(IdentityError::BadClaim { claim, .. }) => {
            assert!(!is_id(user.expect("a bad claim is there"), 256));
            assert_eq!(claim, names.user_id);
        }
        Err(IdentityError::ServiceToken { scope }) => {
            assert_eq!(scope, names.service_scope);
            assert!(
                ["scope", "scp"]
                    .iter()
                    .filter_map(|c| claims.get(*c))
                    .any(|granted| granted.contains(&scope))
            );
        }
        Err(IdentityError::NoClaims) => panic!("claims were given"),
        Err(IdentityError::NotAService { .. }) => panic!("a user's route"),
    }
});
