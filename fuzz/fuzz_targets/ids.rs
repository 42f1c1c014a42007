//! Identifiers as they arrive in claims, paths and bodies: an id is accepted exactly when it
//! is 1 to its maximum of characters, holds no whitespace or control character and is not
//! `.` or `..`, and it is kept as given; an email also needs a local part and a dotted domain;
//! a LinkedIn profile id holds only ASCII letters, digits, `-` and `_`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unipile_connect_fuzz::{is_email, is_id, is_profile_id};
use unipile_domain::{
    AccountId, Email, LinkNonce, LinkedinMemberId, LinkedinProfileId, UserId, WebhookId,
};

macro_rules! check {
    ($value:expr, $kind:ty, $max:expr) => {
        let parsed = <$kind>::parse($value.to_owned());
        assert_eq!(parsed.is_ok(), is_id($value, $max), "{}", stringify!($kind));
        if let Ok(id) = parsed {
            assert_eq!(id.as_str(), $value);
        }
    };
}

fuzz_target!(|value: &str| {
    check!(value, UserId, 256);
    check!(value, AccountId, 128);
    check!(value, LinkedinMemberId, 128);
    check!(value, WebhookId, 256);
    check!(value, LinkNonce, 64);
    assert_eq!(Email::parse(value.to_owned()).is_ok(), is_email(value));
    let profile = LinkedinProfileId::parse(value.to_owned());
    assert_eq!(profile.is_ok(), is_profile_id(value), "LinkedinProfileId");
    if let Ok(id) = profile {
        assert_eq!(id.as_str(), value);
    }
});
