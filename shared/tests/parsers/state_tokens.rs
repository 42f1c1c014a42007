//! The signed `state` of a hosted-auth link: a genuine one says exactly what was signed;
//! forged, truncated, altered, expired or foreign ones are never accepted.

use crate::hostile_text;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use unipile_connect::domain::{AccountId, LinkPurpose, UserId};
use unipile_connect::http::{StateKey, StateTokenError};

const KEY: &[u8] = b"property-test-state-key-0123456789abcdef";

fn key() -> StateKey {
    StateKey::new(KEY.to_vec()).expect("long enough")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("date")
}

fn user() -> impl Strategy<Value = UserId> {
    "[A-Za-z0-9_@.|:-]{1,64}".prop_filter_map("an id", |u| UserId::parse(u).ok())
}

fn purpose() -> impl Strategy<Value = LinkPurpose> {
    prop_oneof![
        Just(LinkPurpose::Create),
        "[A-Za-z0-9_-]{1,40}".prop_map(|a| LinkPurpose::Reconnect {
            account_id: AccountId::parse(a).expect("an id"),
        }),
    ]
}

/// A token for a link, signed now, valid for `minutes`.
fn signed(user: &UserId, purpose: &LinkPurpose, minutes: i64) -> String {
    key()
        .sign(user, purpose, now() + Duration::minutes(minutes))
        .expect("signs")
}

proptest! {
    #[test]
    fn a_genuine_token_says_what_was_signed(user in user(), purpose in purpose(), minutes in 1i64..1_440) {
        let token = signed(&user, &purpose, minutes);
        let verified = key().verify(&token, now()).expect("genuine");
        prop_assert_eq!(verified.user_id, user);
        prop_assert_eq!(verified.purpose, purpose);
        prop_assert_eq!(verified.expires_at, now() + Duration::minutes(minutes));
    }

    #[test]
    fn a_token_is_refused_from_the_moment_it_expires(user in user(), minutes in 1i64..1_440, late in 0i64..100_000) {
        let token = signed(&user, &LinkPurpose::Create, minutes);
        let at = now() + Duration::minutes(minutes) + Duration::seconds(late);
        prop_assert_eq!(key().verify(&token, at), Err(StateTokenError::Expired));
    }

    #[test]
    fn any_text_is_refused_without_a_panic(text in hostile_text()) {
        prop_assert!(key().verify(&text, now()).is_err());
    }

    #[test]
    fn a_truncated_token_is_refused(user in user(), purpose in purpose(), cut in any::<prop::sample::Index>()) {
        let token = signed(&user, &purpose, 30);
        let cut = cut.index(token.len());
        prop_assert!(key().verify(&token[..cut], now()).is_err());
    }

    #[test]
    fn a_token_with_any_character_changed_is_refused(
        user in user(),
        purpose in purpose(),
        at in any::<prop::sample::Index>(),
        to in "[A-Za-z0-9_.-]",
    ) {
        let token = signed(&user, &purpose, 30);
        let at = at.index(token.len());
        let mut changed = token.clone().into_bytes();
        changed[at] = to.as_bytes()[0];
        let changed = String::from_utf8(changed).expect("ASCII");
        prop_assume!(changed != token);
        // Base64 without padding leaves the last character's low bits unused: a change there
        // may decode to the same bytes, which is the same token, signed.
        if let Ok(verified) = key().verify(&changed, now()) {
            prop_assert_eq!(verified, key().verify(&token, now()).expect("genuine"));
        }
    }

    #[test]
    fn a_payload_rewritten_for_another_user_or_expiry_is_refused(
        user in user(),
        other in user(),
        hours in 1i64..10_000,
    ) {
        prop_assume!(user != other);
        let token = signed(&user, &LinkPurpose::Create, 30);
        let parts: Vec<&str> = token.split('.').collect();
        let payload = format!(
            r#"{{"u":{},"e":{},"n":"AAAAAAAAAAAAAAAAAAAAAA","k":"create"}}"#,
            serde_json::to_string(other.as_str()).expect("JSON"),
            (now() + Duration::hours(hours)).timestamp()
        );
        let forged = format!("{}.{}.{}", parts[0], B64.encode(payload), parts[2]);
        prop_assert_eq!(key().verify(&forged, now()), Err(StateTokenError::BadSignature));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused(user in user(), other_key in prop::collection::vec(any::<u8>(), 32..64)) {
        prop_assume!(other_key != KEY);
        let token = StateKey::new(other_key)
            .expect("long enough")
            .sign(&user, &LinkPurpose::Create, now() + Duration::minutes(30))
            .expect("signs");
        prop_assert_eq!(key().verify(&token, now()), Err(StateTokenError::BadSignature));
    }

    #[test]
    fn neither_the_key_nor_a_token_is_ever_printed(user in user(), text in hostile_text()) {
        let token = signed(&user, &LinkPurpose::Create, 30);
        let key_text = String::from_utf8_lossy(KEY).into_owned();
        let printed = format!("{:?}", key());
        prop_assert!(!printed.contains(&key_text));
        for refused in [key().verify(&text, now()), key().verify(&token, now() + Duration::days(2))] {
            if let Err(error) = refused {
                let shown = format!("{error} {error:?}");
                prop_assert!(!shown.contains(&token));
                prop_assert!(text.len() < 8 || !shown.contains(&text));
            }
        }
    }
}
