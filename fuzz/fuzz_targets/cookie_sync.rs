//! The extension's cookie sync, read as the handler reads it (JSON, then the domain's rules):
//! no bytes make it panic; what it accepts is a browser cookie, a user agent, an IPv4 address,
//! a country and a LinkedIn profile id of letters, digits, `-` and `_`; and no text it
//! produces (a JSON error, a refusal, a `Debug`) depends on the cookie's value, so none can
//! show it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::net::IpAddr;
use unipile_connect_fuzz::{is_profile_id, rotated};
use unipile_domain::cookies::{CookieSync, CookieSyncBody, MAX_COOKIE_BYTES};

/// A browser cookie value: printable ASCII, no separators, under 4 KB.
fn is_cookie(value: &str) -> bool {
    !value.is_empty()
        && value.len() < MAX_COOKIE_BYTES
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
}

/// Everything the parse of `body` can show: the JSON error, or the body's `Debug` and then
/// the refusal or the accepted sync's `Debug`.
fn texts(body: &[u8]) -> Vec<String> {
    let parsed: CookieSyncBody = match serde_json::from_slice(body) {
        Ok(parsed) => parsed,
        Err(error) => return vec![error.to_string()],
    };
    let shown = format!("{parsed:?}");
    match CookieSync::parse(parsed) {
        Ok(sync) => vec![shown, format!("{sync:?}")],
        Err(error) => vec![shown, error.to_string()],
    }
}

fn check_accepted(sync: &CookieSync) {
    assert!(is_cookie(sync.cookies.li_at.expose_secret()));
    if let Some(li_a) = &sync.cookies.li_a {
        assert!(is_cookie(li_a.expose_secret()));
    }
    assert!(!sync.user_agent.is_empty() && sync.user_agent.len() <= 1024);
    assert!(!sync.user_agent.chars().any(char::is_control));
    assert_eq!(sync.user_agent.trim(), sync.user_agent);
    assert!(matches!(sync.ip, None | Some(IpAddr::V4(_))));
    if let Some(country) = &sync.country {
        let code = country.as_str();
        assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()));
    }
    if let Some(profile) = &sync.profile_id {
        assert!(is_profile_id(profile.as_str()));
    }
}

fuzz_target!(|body: &[u8]| {
    if let Ok(parsed) = serde_json::from_slice::<CookieSyncBody>(body)
        && let Ok(sync) = CookieSync::parse(parsed)
    {
        check_accepted(&sync);
    }
    // The same body with other cookie values must show exactly the same texts.
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let original = serde_json::to_vec(&value).expect("a Value serializes");
    for cookie in ["li_at", "li_a"] {
        if let Some(Value::String(text)) = value.get_mut(cookie) {
            *text = rotated(text);
        }
    }
    let other = serde_json::to_vec(&value).expect("a Value serializes");
    assert_eq!(texts(&original), texts(&other), "a text shows a cookie");
});
