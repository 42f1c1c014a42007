//! Unipile's account events (webhook and `notify_url` shapes): Unipile owns them, so they
//! are read leniently, but the account they name is always a valid id.

use crate::{hostile_text, is_id};
use proptest::prelude::*;
use serde_json::{Value, json};
use unipile_connect::domain::{AccountStatus, UnipileEvent};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        hostile_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("AccountStatus".to_owned()),
                    Just("account_id".to_owned()),
                    Just("message".to_owned()),
                    Just("status".to_owned()),
                    Just("name".to_owned()),
                    hostile_text(),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn no_bytes_make_the_event_parser_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = UnipileEvent::parse(&body);
    }

    #[test]
    fn whatever_json_is_accepted_names_a_valid_account(value in any_json()) {
        if let Ok(event) = UnipileEvent::parse(value.to_string().as_bytes()) {
            prop_assert!(is_id(event.account_id.as_str(), 128), "{value}");
        }
    }

    #[test]
    fn a_webhook_delivery_says_its_account_and_status_as_sent(
        account in hostile_text(),
        message in hostile_text(),
        extra in hostile_text(),
    ) {
        prop_assume!(!["account_id", "account_type", "message"].contains(&extra.as_str()));
        let body = json!({"AccountStatus": {"account_id": account, "account_type": "LINKEDIN", "message": message, extra: 1}});
        match UnipileEvent::parse(body.to_string().as_bytes()) {
            Ok(event) => {
                prop_assert_eq!(event.account_id.as_str(), account.as_str());
                prop_assert_eq!(event.status, AccountStatus::from(message));
                prop_assert!(event.name.is_none());
            }
            Err(_) => prop_assert!(!is_id(&account, 128), "refused a valid id {account:?}"),
        }
    }

    #[test]
    fn a_notify_callback_says_its_account_status_and_name(
        account in hostile_text(),
        status in hostile_text(),
        name in hostile_text(),
    ) {
        let body = json!({"status": status, "account_id": account, "name": name});
        match UnipileEvent::parse(body.to_string().as_bytes()) {
            Ok(event) => {
                prop_assert_eq!(event.account_id.as_str(), account.as_str());
                prop_assert_eq!(event.status, AccountStatus::from(status));
                prop_assert_eq!(event.name, Some(name));
            }
            Err(_) => prop_assert!(!is_id(&account, 128), "refused a valid id {account:?}"),
        }
    }
}
