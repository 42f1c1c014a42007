//! The `state` we put in `notify_url`: Unipile's callback is unsigned (contract §3), so the
//! only proof that a callback belongs to a link we issued, for this user, is a token we signed.
//!
//! Format: `v1.<base64url(payload)>.<base64url(HMAC-SHA256(key, "v1." + payload))>` with
//! payload `{"u": user id, "e": expiry (unix seconds), "n": random nonce}`.

use crate::domain::UserId;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const VERSION: &str = "v1";
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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateTokenError {
    #[error("the state token is malformed")]
    Malformed,
    #[error("the state token's signature does not match")]
    BadSignature,
    #[error("the state token has expired")]
    Expired,
    #[error("no randomness available for a nonce: {0}")]
    NoRandomness(String),
}

#[derive(Serialize, Deserialize)]
struct Payload {
    u: String,
    e: i64,
    n: String,
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

    pub fn sign(
        &self,
        user_id: &UserId,
        expires_at: DateTime<Utc>,
    ) -> Result<String, StateTokenError> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| StateTokenError::NoRandomness(e.to_string()))?;
        let payload = Payload {
            u: user_id.as_str().to_owned(),
            e: expires_at.timestamp(),
            n: B64.encode(nonce),
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
            return Err(StateTokenError::Malformed);
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
        let user_id = UserId::parse(payload.u).map_err(|_| StateTokenError::Malformed)?;
        Ok(StateToken {
            user_id,
            expires_at,
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

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let now = Utc::now();
        let token = key()
            .sign(&user(), now + Duration::minutes(30))
            .expect("signs");
        let verified = key().verify(&token, now).expect("valid");
        assert_eq!(verified.user_id, user());
        assert_eq!(
            key().verify(&token, now + Duration::minutes(31)),
            Err(StateTokenError::Expired)
        );
    }

    #[test]
    fn two_tokens_for_the_same_user_differ() {
        let at = Utc::now() + Duration::minutes(5);
        assert_ne!(
            key().sign(&user(), at).expect("signs"),
            key().sign(&user(), at).expect("signs")
        );
    }

    #[test]
    fn a_changed_payload_or_another_key_is_refused() {
        let now = Utc::now();
        let token = key()
            .sign(&user(), now + Duration::minutes(30))
            .expect("signs");
        let other = StateKey::new(vec![7u8; 32]).expect("long enough");
        assert_eq!(
            other.verify(&token, now),
            Err(StateTokenError::BadSignature)
        );

        let forged_payload = B64.encode(br#"{"u":"someone_else","e":99999999999,"n":"AAAA"}"#);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("v1.{forged_payload}.{}", parts[2]);
        assert_eq!(
            key().verify(&forged, now),
            Err(StateTokenError::BadSignature)
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in ["", "v1", "v1.a", "v2.a.b", "v1.!!!.???", "v1..", "...."] {
            assert!(key().verify(bad, Utc::now()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_keys_are_refused_and_keys_never_print() {
        assert!(StateKey::new(b"short".to_vec()).is_err());
        assert_eq!(format!("{:?}", key()), "StateKey([REDACTED])");
    }
}
