//! The signed `state` of a hosted-auth link. Two modes, chosen by the first byte:
//! - `0`: the rest, as text, is verified: nothing panics, and nothing is accepted past its
//!   expiry (the seeds are genuine tokens, for the fuzzer to alter);
//! - a token is signed for fuzzed values, then verified: it says exactly what was signed,
//!   it is refused from its expiry on, and with any one byte altered it is refused. Each
//!   token carries a fresh random nonce, so a failing input may need a few replays to fail
//!   again; the failure message prints the token.
#![no_main]

use chrono::{DateTime, Duration, Utc};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use unipile_domain::state_token::StateKey;
use unipile_domain::{AccountId, LinkPurpose, UserId};

const KEY: &[u8] = b"fuzz-state-key-0123456789abcdef-0123456789";

/// 2026-03-01T12:00:00Z, the fuzz run's "now" (the seeds are signed valid until 2100).
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_366_400, 0).expect("a date")
}

#[derive(Debug, Arbitrary)]
struct Signing {
    user: String,
    reconnect: Option<String>,
    minutes: u16,
    altered_at: usize,
    altered_to: u8,
}

fuzz_target!(|data: &[u8]| {
    let key = StateKey::new(KEY).expect("a long key");
    match data.split_first() {
        None => {}
        Some((0, token)) => {
            let Ok(token) = std::str::from_utf8(token) else {
                return;
            };
            if let Ok(state) = key.verify(token, now()) {
                assert!(state.expires_at > now());
            }
        }
        Some((_, rest)) => {
            let Ok(Signing {
                user,
                reconnect,
                minutes,
                altered_at,
                altered_to,
            }) = Signing::arbitrary_take_rest(Unstructured::new(rest))
            else {
                return;
            };
            let Ok(user) = UserId::parse(user) else {
                return;
            };
            let purpose = match reconnect.map(AccountId::parse) {
                None => LinkPurpose::Create,
                Some(Ok(account_id)) => LinkPurpose::Reconnect { account_id },
                Some(Err(_)) => return,
            };
            let expires_at = now() + Duration::minutes(i64::from(minutes) + 1);
            let token = key.sign(&user, &purpose, expires_at).expect("signs");
            let state = key.verify(&token, now()).expect("a genuine token verifies");
            assert_eq!(state.user_id, user);
            assert_eq!(state.purpose, purpose);
            assert_eq!(state.expires_at, expires_at);
            assert!(
                key.verify(&token, expires_at).is_err(),
                "accepted at expiry"
            );

            let mut altered = token.clone().into_bytes();
            let at = altered_at % altered.len();
            if altered[at] == altered_to {
                return;
            }
            altered[at] = altered_to;
            if let Ok(altered) = String::from_utf8(altered) {
                assert!(
                    key.verify(&altered, now()).is_err(),
                    "an altered token is accepted: {token} -> {altered}"
                );
            }
        }
    }
});
