//! Properties of the parsers at the edge, over generated input: none panics whatever it is
//! given; what one accepts satisfies the rule it documents; and neither an accepted value's
//! `Debug` nor an error's text quotes a secret it was handed.

mod checkpoint_codes;
mod claims;
mod cookie_syncs;
mod link_requests;
mod redirect_urls;
mod state_tokens;
mod unipile_events;
mod webhook_secrets;

use proptest::prelude::*;

/// Any text, weighted towards what breaks parsers: control characters, unicode, separators.
pub fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x20;,.:/\\\\@%\"'{}\\[\\]<>]{0,12}",
        "[ -~]{0,64}",
        "\\PC{0,16}",
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just(String::new()),
    ]
}

/// Whether `value` is an id as the domain defines one: 1 to `max` characters, no whitespace
/// or control character, not `.` or `..`.
pub fn is_id(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.chars().count() <= max
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value != "."
        && value != ".."
}
