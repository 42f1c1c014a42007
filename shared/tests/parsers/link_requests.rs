//! `POST /accounts/link` bodies: a create names providers hosted auth offers, a reconnect a
//! valid account, and every redirect is on an allowed origin.

use crate::{hostile_text, is_id};
use proptest::prelude::*;
use serde_json::{Value, json};
use unipile_connect::domain::{
    LinkKind, LinkRequest, LinkRequestBody, Provider, ProviderSelection, RedirectPolicy,
};

const OFFERED: &[&str] = &[
    "LINKEDIN",
    "WHATSAPP",
    "INSTAGRAM",
    "MESSENGER",
    "TELEGRAM",
    "TWITTER",
    "GOOGLE",
    "OUTLOOK",
    "MAIL",
];

fn providers() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "*",
            "*:MAILING",
            "*:MESSAGING",
            "*:CALENDAR",
            "**",
            "",
            "linkedin"
        ])
        .prop_map(Value::from),
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(OFFERED).prop_map(str::to_owned),
                hostile_text()
            ],
            0..4
        )
        .prop_map(|list| json!(list)),
        Just(Value::Null),
    ]
}

fn redirect() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        "/[a-z?=&]{0,12}".prop_map(|path| json!(format!("https://app.example.com{path}"))),
        crate::redirect_urls::hostile_url().prop_map(Value::from),
    ]
}

proptest! {
    #[test]
    fn an_accepted_link_request_asks_for_what_the_rules_allow(
        kind in prop_oneof![Just("create".to_owned()), Just("reconnect".to_owned()), hostile_text()],
        providers in providers(),
        account in prop_oneof![Just(Value::Null), hostile_text().prop_map(Value::from)],
        success in redirect(),
        failure in redirect(),
    ) {
        let body = json!({"type": kind, "providers": providers, "reconnect_account": account,
            "success_redirect_url": success, "failure_redirect_url": failure});
        let Ok(body) = serde_json::from_value::<LinkRequestBody>(body) else {
            return Ok(());
        };
        let policy = RedirectPolicy::parse("https://app.example.com").expect("origins");
        let Ok(request) = LinkRequest::parse(body, &policy) else {
            return Ok(());
        };
        match &request.kind {
            LinkKind::Create { providers } => {
                prop_assert_eq!(kind.as_str(), "create");
                prop_assert!(account.is_null());
                if let ProviderSelection::Only(list) = providers {
                    prop_assert!(!list.is_empty());
                    prop_assert!(list.iter().all(Provider::offered_by_hosted_auth));
                }
            }
            LinkKind::Reconnect { account_id } => {
                prop_assert_eq!(kind.as_str(), "reconnect");
                prop_assert!(is_id(account_id.as_str(), 128));
            }
        }
        for url in [&request.success_redirect_url, &request.failure_redirect_url].into_iter().flatten() {
            prop_assert_eq!(url.origin().ascii_serialization(), "https://app.example.com");
        }
    }

    #[test]
    fn a_body_of_any_shape_is_refused_or_taken_without_a_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(body) = serde_json::from_slice::<LinkRequestBody>(&body) {
            let policy = RedirectPolicy::parse("https://app.example.com").expect("origins");
            let _ = LinkRequest::parse(body, &policy);
        }
    }
}
