//! The `state` we put in `notify_url`: Unipile's callback is unsigned (contract §3), so the
//! only proof that a callback belongs to a link we issued, for this user, is a token we signed.
//!
//! Format: `v2.<base64url(payload)>.<base64url(HMAC-SHA256(key, "v2." + payload))>` with
//! payload `{"u": user id, "e": expiry (unix seconds), "n": random nonce, "k": "create" |
//! "reconnect", "a": the account a reconnect link is for}`. The link type and account are
//! signed so that a notify URL cannot be spent on another kind of callback or another
//! account; the nonce names the link's single use (the callback records it).
//!
//! `v1` tokens (no type, no account) are refused: links live at most a day, so none issued
//! before the change is still worth honouring.

use crate::{AccountId, LinkNonce, LinkPurpose, UserId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const VERSION: &str = "v2";
const MIN_KEY_BYTES: usize = 32;

/// The HMAC key; its `Debug` prints nothing of it.
#[derive(Clone)]
pub struct StateKey(SecretSlice<u8>);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey([REDACTED])")
    }
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateToken {
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    /// What the link was issued for: which callbacks may answer it.
    pub purpose: LinkPurpose,
    /// The link's single use.
    pub nonce: LinkNonce,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateTokenError {
    #[error("the state token is malformed")]
    Malformed,
    #[error("the state token's format is no longer accepted; ask for a new link")]
    UnsupportedVersion,
    #[error("the state token's signature does not match")]
    BadSignature,
    #[error("the state token has expired")]
    Expired,
    #[error("no randomness available for a nonce: {0}")]
    NoRandomness(String),
}

// Our own signed payload: anything unexpected in it is refused, not skipped.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    u: String,
    e: i64,
    n: String,
    k: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<String>,
}

impl Payload {
    fn purpose(&self) -> Result<LinkPurpose, StateTokenError> {
        match (self.k.as_str(), &self.a) {
            ("create", None) => Ok(LinkPurpose::Create),
            ("reconnect", Some(account)) => Ok(LinkPurpose::Reconnect {
                account_id: AccountId::parse(account.as_str())
                    .map_err(|_| StateTokenError::Malformed)?,
            }),
            _ => Err(StateTokenError::Malformed),
        }
    }
}

impl StateKey {
    /// At least 32 bytes, so that the key is as strong as the MAC.
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, String> {
        let key = key.into();
        if key.len() < MIN_KEY_BYTES {
            return Err(format!("must be at least {MIN_KEY_BYTES} bytes long"));
        }
        Ok(Self(SecretSlice::from(key)))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; this cannot fail.
        match Hmac::<Sha256>::new_from_slice(self.0.expose_secret()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// A fresh token (new nonce) for a link `user_id` asked for, for `purpose`.
    pub fn sign(
        &self,
        user_id: &UserId,
        purpose: &LinkPurpose,
        expires_at: DateTime<Utc>,
    ) -> Result<String, StateTokenError> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| StateTokenError::NoRandomness(e.to_string()))?;
        let payload = Payload {
            u: user_id.as_str().to_owned(),
            e: expires_at.timestamp(),
            n: B64.encode(nonce),
            k: purpose.as_str().to_owned(),
            a: match purpose {
                LinkPurpose::Create => None,
                LinkPurpose::Reconnect { account_id } => Some(account_id.as_str().to_owned()),
            },
        };
        let payload = serde_json::to_vec(&payload).map_err(|_| StateTokenError::Malformed)?;
        let signed = format!("{VERSION}.{}", B64.encode(payload));
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        Ok(format!(
            "{signed}.{}",
            B64.encode(mac.finalize().into_bytes())
        ))
    }

    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<StateToken, StateTokenError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(StateTokenError::Malformed)?;
        let (version, payload) = signed.split_once('.').ok_or(StateTokenError::Malformed)?;
        if version != VERSION {
            return Err(if version == "v1" {
                StateTokenError::UnsupportedVersion
            } else {
                StateTokenError::Malformed
            });
        }
        let signature = B64
            .decode(signature)
            .map_err(|_| StateTokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        // Constant-time comparison, so the signature cannot be guessed byte by byte.
        mac.verify_slice(&signature)
            .map_err(|_| StateTokenError::BadSignature)?;
        let payload = B64
            .decode(payload)
            .map_err(|_| StateTokenError::Malformed)?;
        let payload: Payload =
            serde_json::from_slice(&payload).map_err(|_| StateTokenError::Malformed)?;
        let expires_at =
            DateTime::from_timestamp(payload.e, 0).ok_or(StateTokenError::Malformed)?;
        if expires_at <= now {
            return Err(StateTokenError::Expired);
        }
        let purpose = payload.purpose()?;
        let user_id = UserId::parse(payload.u).map_err(|_| StateTokenError::Malformed)?;
        let nonce = LinkNonce::parse(payload.n).map_err(|_| StateTokenError::Malformed)?;
        Ok(StateToken {
            user_id,
            expires_at,
            purpose,
            nonce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key() -> StateKey {
        StateKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).expect("long enough")
    }

    fn user() -> UserId {
        UserId::parse("user_42").expect("valid")
    }

    fn reconnect(account: &str) -> LinkPurpose {
        LinkPurpose::Reconnect {
            account_id: AccountId::parse(account).expect("valid"),
        }
    }

    /// The token with its payload (JSON) replaced and the original signature kept.
    fn with_payload(token: &str, json: &str) -> String {
        let parts: Vec<&str> = token.split('.').collect();
        format!("{}.{}.{}", parts[0], B64.encode(json), parts[2])
    }

    fn payload_of(token: &str) -> serde_json::Value {
        let parts: Vec<&str> = token.split('.').collect();
        serde_json::from_slice(&B64.decode(parts[1]).expect("base64")).expect("JSON")
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let now = Utc::now();
        let token = key()
            .sign(&user(), &LinkPurpose::Create, now + Duration::minutes(30))
            .expect("signs");
        assert!(token.starts_with("v2."));
        let verified = key().verify(&token, now).expect("valid");
        assert_eq!(verified.user_id, user());
        assert_eq!(verified.purpose, LinkPurpose::Create);
        assert_eq!(
            key().verify(&token, now + Duration::minutes(31)),
            Err(StateTokenError::Expired)
        );
    }

    #[test]
    fn a_reconnect_token_names_its_link_type_and_account() {
        let now = Utc::now();
        let token = key()
            .sign(&user(), &reconnect("acc_1"), now + Duration::minutes(30))
            .expect("signs");
        let verified = key().verify(&token, now).expect("valid");
        assert_eq!(verified.purpose, reconnect("acc_1"));
        let payload = payload_of(&token);
        assert_eq!(payload["k"], "reconnect");
        assert_eq!(payload["a"], "acc_1");
        let create = key()
            .sign(&user(), &LinkPurpose::Create, now + Duration::minutes(30))
            .expect("signs");
        assert_eq!(payload_of(&create).get("a"), None);
    }

    #[test]
    fn two_tokens_for_the_same_link_differ_in_their_nonce() {
        let at = Utc::now() + Duration::minutes(5);
        let now = Utc::now();
        let first = key()
            .sign(&user(), &LinkPurpose::Create, at)
            .expect("signs");
        let second = key()
            .sign(&user(), &LinkPurpose::Create, at)
            .expect("signs");
        assert_ne!(first, second);
        assert_ne!(
            key().verify(&first, now).expect("valid").nonce,
            key().verify(&second, now).expect("valid").nonce
        );
    }

    #[test]
    fn a_changed_payload_or_another_key_is_refused() {
        let now = Utc::now();
        let token = key()
            .sign(&user(), &LinkPurpose::Create, now + Duration::minutes(30))
            .expect("signs");
        let other = StateKey::new(vec![7u8; 32]).expect("long enough");
        assert_eq!(
            other.verify(&token, now),
            Err(StateTokenError::BadSignature)
        );

        let forged = with_payload(
            &token,
            r#"{"u":"someone_else","e":99999999999,"n":"AAAA","k":"create"}"#,
        );
        assert_eq!(
            key().verify(&forged, now),
            Err(StateTokenError::BadSignature)
        );
    }

    #[test]
    fn changing_the_link_type_or_the_account_breaks_the_signature() {
        let now = Utc::now();
        let token = key()
            .sign(&user(), &reconnect("acc_1"), now + Duration::minutes(30))
            .expect("signs");
        let mut payload = payload_of(&token);

        payload["a"] = "acc_2".into();
        let other_account = with_payload(&token, &payload.to_string());
        assert_eq!(
            key().verify(&other_account, now),
            Err(StateTokenError::BadSignature)
        );

        payload["k"] = "create".into();
        if let Some(fields) = payload.as_object_mut() {
            fields.remove("a");
        }
        let other_type = with_payload(&token, &payload.to_string());
        assert_eq!(
            key().verify(&other_type, now),
            Err(StateTokenError::BadSignature)
        );
    }

    #[test]
    fn a_v1_token_is_refused_even_when_correctly_signed() {
        let now = Utc::now();
        // A token as the previous format made them, signed with the right key.
        let payload = B64.encode(format!(
            r#"{{"u":"user_42","e":{},"n":"AAAAAAAAAAAAAAAAAAAAAA"}}"#,
            (now + Duration::minutes(30)).timestamp()
        ));
        let signed = format!("v1.{payload}");
        let mut mac = key().mac();
        mac.update(signed.as_bytes());
        let v1 = format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()));
        assert_eq!(
            key().verify(&v1, now),
            Err(StateTokenError::UnsupportedVersion)
        );
    }

    #[test]
    fn a_signed_payload_with_an_incoherent_link_is_malformed() {
        let now = Utc::now();
        let exp = (now + Duration::minutes(30)).timestamp();
        let sign = |json: String| {
            let signed = format!("v2.{}", B64.encode(json));
            let mut mac = key().mac();
            mac.update(signed.as_bytes());
            format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
        };
        for json in [
            format!(r#"{{"u":"u","e":{exp},"n":"AAAA","k":"reconnect"}}"#),
            format!(r#"{{"u":"u","e":{exp},"n":"AAAA","k":"create","a":"acc_1"}}"#),
            format!(r#"{{"u":"u","e":{exp},"n":"AAAA","k":"delete"}}"#),
            format!(r#"{{"u":"u","e":{exp},"n":"AAAA"}}"#),
            format!(r#"{{"u":"u","e":{exp},"n":"","k":"create"}}"#),
            format!(r#"{{"u":"u","e":{exp},"n":"AAAA","k":"create","x":1}}"#),
        ] {
            assert_eq!(
                key().verify(&sign(json.clone()), now),
                Err(StateTokenError::Malformed),
                "{json}"
            );
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in [
            "",
            "v1",
            "v2.a",
            "v3.a.b",
            "v2.!!!.???",
            "v2..",
            "....",
            "v1.a.b",
        ] {
            assert!(key().verify(bad, Utc::now()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_keys_are_refused_and_keys_never_print() {
        assert!(StateKey::new(b"short".to_vec()).is_err());
        assert_eq!(format!("{:?}", key()), "StateKey([REDACTED])");
    }
}
