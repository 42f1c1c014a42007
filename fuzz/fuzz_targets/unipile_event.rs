//! Unipile's account events, in either shape (webhook or `notify_url`), from any bytes: the
//! parser never panics, and what it accepts says what the body said: the account and the
//! status exactly as sent (an unknown status is kept, not dropped), and the account a valid
//! id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use unipile_domain::{AccountId, UnipileEvent};

/// The account, the status and the type as the body carries them, in the shape the parser
/// took: the webhook's `AccountStatus` object when there is a usable one, else the notify.
fn raw(body: &Value) -> Option<(&str, &str, Option<&str>)> {
    fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
        v.get(key).and_then(Value::as_str)
    }
    if let Some(webhook) = body.get("AccountStatus")
        && let (Some(id), Some(message)) = (text(webhook, "account_id"), text(webhook, "message"))
        && webhook
            .get("account_type")
            .is_none_or(|t| t.is_null() || t.is_string())
    {
        return Some((id, message, text(webhook, "account_type")));
    }
    Some((text(body, "account_id")?, text(body, "status")?, None))
}

fuzz_target!(|body: &[u8]| {
    let Ok(event) = UnipileEvent::parse(body) else {
        return;
    };
    let id = event.account_id.as_str();
    assert!(AccountId::parse(id).is_ok());
    let value: Value = serde_json::from_slice(body).expect("an accepted body is JSON");
    let (raw_id, raw_status, raw_type) = raw(&value).expect("an accepted body has a shape");
    assert_eq!(id, raw_id);
    assert_eq!(event.status.as_str(), raw_status);
    assert_eq!(event.account_type.as_ref().map(|t| t.as_str()), raw_type);
});
