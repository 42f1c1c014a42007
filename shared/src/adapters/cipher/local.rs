//! [`Cipher`] with process keys: the local stack and tests without KMS.

use super::{aes_key, aes_open, aes_seal, associated_data, keyed_digest};
use crate::domain::cookies::{CookieDigest, LinkedinCookies, Sealed};
use crate::domain::{LinkedinMemberId, UserId};
use crate::ports::{Cipher, CipherError, SealedCookies};
use async_trait::async_trait;
use aws_lc_rs::aead::LessSafeKey;
use secrecy::ExposeSecret;

/// AES-256-GCM under one key, each value on its own (sealed form: 12-byte random nonce, then
/// ciphertext and tag); digests under an HMAC key of the same life.
pub struct LocalCipher {
    key: LessSafeKey,
    digest_key: aws_lc_rs::hmac::Key,
}

impl std::fmt::Debug for LocalCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalCipher([REDACTED])")
    }
}

impl LocalCipher {
    pub fn new(key: &[u8; 32]) -> Result<Self, CipherError> {
        Ok(Self {
            key: aes_key(key)?,
            // A key of its own, derived so that it never equals the sealing key.
            digest_key: aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                aws_lc_rs::hmac::sign(
                    &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key),
                    b"unipile-connect cookie digest",
                )
                .as_ref(),
            ),
        })
    }

    /// Keys that live as long as the process (local runs: cookies are in memory too).
    pub fn random() -> Result<Self, CipherError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| CipherError::Unavailable(e.to_string()))?;
        Self::new(&key)
    }
}

#[async_trait]
impl Cipher for LocalCipher {
    async fn seal_cookies(
        &self,
        cookies: &LinkedinCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SealedCookies, CipherError> {
        let aad = associated_data(user, member);
        let seal = |value: &secrecy::SecretString| {
            aes_seal(&self.key, value.expose_secret().as_bytes(), &aad).map(Sealed)
        };
        Ok(SealedCookies {
            li_at: seal(&cookies.li_at)?,
            li_a: cookies.li_a.as_ref().map(seal).transpose()?,
        })
    }

    async fn open_cookies(
        &self,
        sealed: &SealedCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<LinkedinCookies, CipherError> {
        let aad = associated_data(user, member);
        let open = |value: &Sealed| aes_open(&self.key, &value.0, &aad);
        Ok(LinkedinCookies {
            li_at: open(&sealed.li_at)?,
            li_a: sealed.li_a.as_ref().map(open).transpose()?,
        })
    }

    async fn digest(&self, material: &[u8]) -> Result<Option<CookieDigest>, CipherError> {
        Ok(Some(CookieDigest(keyed_digest(&self.digest_key, material))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn ids(user: &str, member: &str) -> (UserId, LinkedinMemberId) {
        (
            UserId::parse(user).expect("user"),
            LinkedinMemberId::parse(member).expect("member"),
        )
    }

    fn cookies(li_at: &str, li_a: Option<&str>) -> LinkedinCookies {
        LinkedinCookies {
            li_at: SecretString::from(li_at.to_owned()),
            li_a: li_a.map(|v| SecretString::from(v.to_owned())),
        }
    }

    #[tokio::test]
    async fn sealed_cookies_open_only_for_their_own_user_and_member() {
        let cipher = LocalCipher::random().expect("key");
        let (user, member) = ids("u1", "42");
        let sealed = cipher
            .seal_cookies(
                &cookies("AQEDAR-the-li-at-cookie", Some("AQJ-premium")),
                &user,
                &member,
            )
            .await
            .expect("sealed");
        assert!(
            !sealed.li_at.0.windows(7).any(|w| w == b"AQEDAR-"),
            "no plaintext in the ciphertext"
        );
        let opened = cipher
            .open_cookies(&sealed, &user, &member)
            .await
            .expect("opens");
        assert_eq!(opened.li_at.expose_secret(), "AQEDAR-the-li-at-cookie");
        assert_eq!(
            opened.li_a.as_ref().map(|v| v.expose_secret().to_owned()),
            Some("AQJ-premium".to_owned())
        );

        let (other_user, other_member) = ids("u2", "43");
        assert!(
            cipher
                .open(&sealed.li_at, &other_user, &member)
                .await
                .is_err()
        );
        assert!(
            cipher
                .open(&sealed.li_at, &user, &other_member)
                .await
                .is_err()
        );
        let mut tampered = sealed.li_at.clone();
        if let Some(last) = tampered.0.last_mut() {
            *last ^= 1;
        }
        assert!(cipher.open(&tampered, &user, &member).await.is_err());
        assert_eq!(
            format!("{:?}", sealed.li_at),
            format!("Sealed({} bytes)", sealed.li_at.0.len())
        );
    }

    #[tokio::test]
    async fn digests_are_equal_for_the_same_material_only_and_hide_it() {
        let cipher = LocalCipher::new(&[7; 32]).expect("key");
        let one = cipher.digest(b"AQEDAR-cookie").await.expect("digest");
        assert_eq!(one, cipher.digest(b"AQEDAR-cookie").await.expect("digest"));
        assert_ne!(one, cipher.digest(b"AQEDAR-cookiE").await.expect("digest"));
        let other_key = LocalCipher::new(&[8; 32]).expect("key");
        assert_ne!(
            one,
            other_key.digest(b"AQEDAR-cookie").await.expect("digest")
        );
        assert!(!one.expect("a digest").0.contains("AQEDAR"));
    }
}
