//! The extension's cookie sync: what is accepted is a browser's cookie, user agent, IPv4
//! and country; the cookies never print, whether accepted or refused.

use crate::{hostile_text, is_id};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::net::IpAddr;
use unipile_connect::domain::cookies::{CookieSync, CookieSyncBody};

/// A cookie value that is easy to spot in any text.
fn marked_cookie() -> impl Strategy<Value = String> {
    "[!#-+\\--:<-~]{0,24}".prop_map(|tail| format!("AQEDAR-secret-{tail}"))
}

fn cookie() -> impl Strategy<Value = String> {
    prop_oneof![3 => marked_cookie(), 1 => hostile_text()]
}

fn optional(text: impl Strategy<Value = String>) -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), text.prop_map(Value::from)]
}

fn ip() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|ip| ip.to_string()),
        any::<std::net::Ipv4Addr>().prop_map(|ip| format!("::ffff:{ip}")),
        hostile_text(),
    ]
}

fn country() -> impl Strategy<Value = String> {
    prop_oneof!["\\s{0,2}[A-Za-z]{2}\\s{0,2}", hostile_text()]
}

fn user_agent() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0".to_owned()),
        hostile_text(),
        (1usize..1_200).prop_map(|n| "a".repeat(n)),
    ]
}

proptest! {
    #[test]
    fn an_accepted_sync_holds_only_what_browsers_send(
        li_at in cookie(),
        li_a in optional(cookie()),
        ua in user_agent(),
        ip in optional(ip()),
        country in optional(country()),
        member in hostile_text(),
    ) {
        let body = json!({"li_at": li_at, "li_a": li_a, "user_agent": ua, "ip": ip, "country": country, "linkedin_member_id": member});
        let body: CookieSyncBody = serde_json::from_value(body).expect("the body's shape");
        let secrets: Vec<String> = [Some(li_at.clone()), li_a.as_str().map(str::to_owned)]
            .into_iter()
            .flatten()
            .filter(|c| c.starts_with("AQEDAR-secret-"))
            .collect();
        match CookieSync::parse(body) {
            Ok(sync) => {
                let browser_cookie = |c: &str| {
                    !c.is_empty() && c.len() < 4096
                        && c.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
                };
                prop_assert!(browser_cookie(&li_at));
                if let Some(li_a) = li_a.as_str().filter(|v| !v.is_empty()) {
                    prop_assert!(browser_cookie(li_a));
                }
                prop_assert!(!sync.user_agent.is_empty() && sync.user_agent.len() <= 1024);
                prop_assert_eq!(sync.user_agent.trim(), sync.user_agent.as_str());
                prop_assert!(!sync.user_agent.chars().any(char::is_control));
                prop_assert!(matches!(sync.ip, None | Some(IpAddr::V4(_))));
                if let Some(country) = &sync.country {
                    let code = country.as_str();
                    prop_assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()));
                }
                prop_assert!(is_id(sync.member_id.as_str(), 128));
                let printed = format!("{sync:?}");
                for secret in &secrets {
                    prop_assert!(!printed.contains(secret.as_str()), "{printed}");
                }
            }
            Err(error) => {
                let shown = format!("{error} {error:?}");
                for secret in &secrets {
                    prop_assert!(!shown.contains(secret.as_str()), "{shown}");
                }
            }
        }
    }

    #[test]
    fn a_body_of_any_shape_is_refused_or_taken_without_a_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(body) = serde_json::from_slice::<CookieSyncBody>(&body) {
            let _ = CookieSync::parse(body);
        }
    }
}
