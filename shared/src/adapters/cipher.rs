//! Sealing cookies: KMS in AWS (the key never leaves KMS), AES-256-GCM locally. Both bind the
//! ciphertext to its (user, LinkedIn member), as KMS encryption context or GCM associated
//! data, so a ciphertext copied to another record does not open.

use crate::domain::cookies::Sealed;
use crate::domain::{LinkedinMemberId, UserId};
use crate::ports::{Cipher, CipherError};
use async_trait::async_trait;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use secrecy::{ExposeSecret, SecretString};

/// The KMS encryption context of a cookie.
fn context(user: &UserId, member: &LinkedinMemberId) -> [(&'static str, String); 2] {
    [
        ("user_id", user.to_string()),
        ("linkedin_member_id", member.to_string()),
    ]
}

fn plaintext(bytes: Vec<u8>) -> Result<SecretString, CipherError> {
    String::from_utf8(bytes)
        .map(SecretString::from)
        .map_err(|_| CipherError::Rejected("the plaintext is not text".into()))
}

/// [`Cipher`] on AWS KMS (`Encrypt`/`Decrypt` under `COOKIE_KMS_KEY_ID`).
#[derive(Debug, Clone)]
pub struct KmsCipher {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsCipher {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

#[async_trait]
impl Cipher for KmsCipher {
    async fn seal(
        &self,
        secret: &SecretString,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<Sealed, CipherError> {
        let mut request = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(secret.expose_secret().as_bytes()));
        for (key, value) in context(user, member) {
            request = request.encryption_context(key, value);
        }
        let output = request
            .send()
            .await
            .map_err(|e| CipherError::Unavailable(DisplayErrorContext(&e).to_string()))?;
        output
            .ciphertext_blob
            .map(|blob| Sealed(blob.into_inner()))
            .ok_or_else(|| CipherError::Unavailable("KMS returned no ciphertext".into()))
    }

    async fn open(
        &self,
        sealed: &Sealed,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SecretString, CipherError> {
        let mut request = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(sealed.0.clone()));
        for (key, value) in context(user, member) {
            request = request.encryption_context(key, value);
        }
        match request.send().await {
            Ok(output) => {
                let bytes = output
                    .plaintext
                    .ok_or_else(|| CipherError::Unavailable("KMS returned no plaintext".into()))?;
                plaintext(bytes.into_inner())
            }
            Err(error) => {
                let rejected = error.as_service_error().is_some_and(|e| {
                    e.is_invalid_ciphertext_exception() || e.is_incorrect_key_exception()
                });
                let text = DisplayErrorContext(&error).to_string();
                Err(if rejected {
                    CipherError::Rejected(text)
                } else {
                    CipherError::Unavailable(text)
                })
            }
        }
    }
}

/// [`Cipher`] with a local AES-256-GCM key: the local stack and tests without KMS.
/// Sealed form: 12-byte random nonce, then ciphertext and tag.
pub struct LocalCipher {
    key: LessSafeKey,
}

impl std::fmt::Debug for LocalCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalCipher([REDACTED])")
    }
}

/// The associated data: both ids, length-prefixed so that no two pairs collide.
fn associated_data(user: &UserId, member: &LinkedinMemberId) -> Vec<u8> {
    let mut aad = Vec::new();
    for part in [user.as_str(), member.as_str()] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

impl LocalCipher {
    pub fn new(key: &[u8; 32]) -> Result<Self, CipherError> {
        let key = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| CipherError::Unavailable("bad AES key".into()))?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// A key that lives as long as the process (local runs: cookies are in memory too).
    pub fn random() -> Result<Self, CipherError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| CipherError::Unavailable(e.to_string()))?;
        Self::new(&key)
    }
}

#[async_trait]
impl Cipher for LocalCipher {
    async fn seal(
        &self,
        secret: &SecretString,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<Sealed, CipherError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| CipherError::Unavailable(e.to_string()))?;
        let mut in_out = secret.expose_secret().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated_data(user, member).as_slice()),
                &mut in_out,
            )
            .map_err(|_| CipherError::Unavailable("AES-GCM seal failed".into()))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&in_out);
        Ok(Sealed(sealed))
    }

    async fn open(
        &self,
        sealed: &Sealed,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SecretString, CipherError> {
        if sealed.0.len() < NONCE_LEN {
            return Err(CipherError::Rejected("too short".into()));
        }
        let (nonce, ciphertext) = sealed.0.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| CipherError::Rejected("bad nonce".into()))?;
        let mut in_out = ciphertext.to_vec();
        let opened = self
            .key
            .open_in_place(
                nonce,
                Aad::from(associated_data(user, member).as_slice()),
                &mut in_out,
            )
            .map_err(|_| {
                CipherError::Rejected(
                    "the ciphertext does not open for this user and member".into(),
                )
            })?;
        plaintext(opened.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(user: &str, member: &str) -> (UserId, LinkedinMemberId) {
        (
            UserId::parse(user).expect("user"),
            LinkedinMemberId::parse(member).expect("member"),
        )
    }

    #[tokio::test]
    async fn a_sealed_cookie_opens_only_for_its_own_user_and_member() {
        let cipher = LocalCipher::random().expect("key");
        let (user, member) = ids("u1", "42");
        let secret = SecretString::from("AQEDAR-the-li-at-cookie".to_owned());
        let sealed = cipher.seal(&secret, &user, &member).await.expect("sealed");
        assert!(
            !sealed.0.windows(7).any(|w| w == b"AQEDAR-"),
            "no plaintext in the ciphertext"
        );
        let opened = cipher.open(&sealed, &user, &member).await.expect("opens");
        assert_eq!(opened.expose_secret(), "AQEDAR-the-li-at-cookie");

        let (other_user, other_member) = ids("u2", "43");
        assert!(cipher.open(&sealed, &other_user, &member).await.is_err());
        assert!(cipher.open(&sealed, &user, &other_member).await.is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.0.last_mut() {
            *last ^= 1;
        }
        assert!(cipher.open(&tampered, &user, &member).await.is_err());
        assert_eq!(
            format!("{sealed:?}"),
            format!("Sealed({} bytes)", sealed.0.len())
        );
    }
}
