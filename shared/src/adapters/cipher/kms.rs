//! [`Cipher`] on AWS KMS: envelope encryption under `COOKIE_KMS_KEY_ID`, digests under an HMAC
//! key derived once per cold start from `COOKIE_DIGEST_KEY_ID`.

use super::{aes_key, aes_open, aes_seal, associated_data, keyed_digest};
use crate::adapters::lazy_client::LazyClient;
use crate::domain::cookies::{CookieDigest, LinkedinCookies, Sealed};
use crate::domain::{LinkedinMemberId, UserId};
use crate::ports::{Cipher, CipherError, SealedCookies};
use async_trait::async_trait;
use aws_lc_rs::aead::LessSafeKey;
use aws_sdk_kms::error::{DisplayErrorContext, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, MacAlgorithmSpec};
use secrecy::{ExposeSecret, SecretString};

/// The sealed form of an envelope: this tag, the data key as KMS encrypted it (length-prefixed,
/// big-endian u16), then the AES-GCM nonce, ciphertext and tag. A KMS ciphertext blob (what
/// records sealed by one `Encrypt` per cookie hold) never starts with it: they still open.
const ENVELOPE: &[u8; 4] = b"UCE1";

/// What GenerateMac signs, once per cold start, to give the digest key: fixed, so every
/// instance derives the same key and digests compare across them.
const DIGEST_KEY_LABEL: &[u8] = b"unipile-connect cookie digest key v1";

/// The KMS encryption context of a cookie.
fn context(user: &UserId, member: &LinkedinMemberId) -> [(&'static str, String); 2] {
    [
        ("user_id", user.to_string()),
        ("linkedin_member_id", member.to_string()),
    ]
}

fn unavailable<E, R>(error: &SdkError<E, R>) -> CipherError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    CipherError::Unavailable(DisplayErrorContext(error).to_string())
}

fn envelope(encrypted_key: &[u8], body: Vec<u8>) -> Result<Sealed, CipherError> {
    let length = u16::try_from(encrypted_key.len())
        .map_err(|_| CipherError::Unavailable("KMS returned an oversize data key".into()))?;
    let mut sealed = ENVELOPE.to_vec();
    sealed.extend_from_slice(&length.to_be_bytes());
    sealed.extend_from_slice(encrypted_key);
    sealed.extend_from_slice(&body);
    Ok(Sealed(sealed))
}

/// An envelope's parts: the data key as KMS encrypted it, and the AES-GCM body.
type EnvelopeParts<'a> = (&'a [u8], &'a [u8]);

/// The parts of an envelope; `None` for a KMS ciphertext blob.
fn split_envelope(sealed: &[u8]) -> Result<Option<EnvelopeParts<'_>>, CipherError> {
    let Some(rest) = sealed.strip_prefix(ENVELOPE) else {
        return Ok(None);
    };
    let truncated = || CipherError::Rejected("a truncated envelope".into());
    let (length, rest) = rest.split_at_checked(2).ok_or_else(truncated)?;
    let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
    rest.split_at_checked(length)
        .map(Some)
        .ok_or_else(truncated)
}

pub struct KmsCipher {
    client: LazyClient<aws_sdk_kms::Client>,
    key_id: String,
    digest_key_id: Option<String>,
    digest_key: tokio::sync::OnceCell<aws_lc_rs::hmac::Key>,
}

impl std::fmt::Debug for KmsCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsCipher")
            .field("key_id", &self.key_id)
            .field("digest_key_id", &self.digest_key_id)
            .finish_non_exhaustive()
    }
}

impl KmsCipher {
    /// Seals under `key_id`; without a digest key (see [`Self::with_digest_key`]) every sync is
    /// sealed and stored.
    pub fn new(
        client: impl Into<LazyClient<aws_sdk_kms::Client>>,
        key_id: impl Into<String>,
    ) -> Self {
        Self {
            client: client.into(),
            key_id: key_id.into(),
            digest_key_id: None,
            digest_key: tokio::sync::OnceCell::new(),
        }
    }

    /// Digests under the HMAC key `digest_key_id` (a KMS key of spec HMAC_256).
    pub fn with_digest_key(mut self, digest_key_id: impl Into<String>) -> Self {
        self.digest_key_id = Some(digest_key_id.into());
        self
    }

    /// Opens one envelope's data key (one `Decrypt`).
    async fn data_key(
        &self,
        encrypted_key: &[u8],
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<LessSafeKey, CipherError> {
        let plaintext = self.decrypt(encrypted_key, user, member).await?;
        aes_key(&plaintext)
    }

    async fn decrypt(
        &self,
        blob: &[u8],
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<Vec<u8>, CipherError> {
        let mut request = self
            .client
            .get()
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(blob));
        for (key, value) in context(user, member) {
            request = request.encryption_context(key, value);
        }
        match request.send().await {
            Ok(output) => output
                .plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| CipherError::Unavailable("KMS returned no plaintext".into())),
            Err(error) => {
                let rejected = error.as_service_error().is_some_and(|e| {
                    e.is_invalid_ciphertext_exception() || e.is_incorrect_key_exception()
                });
                Err(if rejected {
                    CipherError::Rejected(DisplayErrorContext(&error).to_string())
                } else {
                    unavailable(&error)
                })
            }
        }
    }

    /// One sealed value: an envelope opens with `keys` (data keys opened so far, by their
    /// encrypted form), a KMS blob with one `Decrypt` of its own.
    async fn open_one(
        &self,
        sealed: &Sealed,
        keys: &mut Vec<(Vec<u8>, LessSafeKey)>,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SecretString, CipherError> {
        let aad = associated_data(user, member);
        match split_envelope(&sealed.0)? {
            Some((encrypted_key, body)) => {
                if let Some((_, key)) = keys.iter().find(|(k, _)| k == encrypted_key) {
                    return aes_open(key, body, &aad);
                }
                let key = self.data_key(encrypted_key, user, member).await?;
                let opened = aes_open(&key, body, &aad);
                keys.push((encrypted_key.to_vec(), key));
                opened
            }
            None => super::plaintext(self.decrypt(&sealed.0, user, member).await?),
        }
    }
}

#[async_trait]
impl Cipher for KmsCipher {
    /// One `GenerateDataKey` for both cookies; the data key is used here and dropped.
    async fn seal_cookies(
        &self,
        cookies: &LinkedinCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<SealedCookies, CipherError> {
        let mut request = self
            .client
            .get()
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256);
        for (key, value) in context(user, member) {
            request = request.encryption_context(key, value);
        }
        let output = request.send().await.map_err(|e| unavailable(&e))?;
        let (Some(plaintext), Some(encrypted_key)) = (output.plaintext, output.ciphertext_blob)
        else {
            return Err(CipherError::Unavailable("KMS returned no data key".into()));
        };
        let key = aes_key(plaintext.as_ref())?;
        let aad = associated_data(user, member);
        let seal = |value: &SecretString| {
            aes_seal(&key, value.expose_secret().as_bytes(), &aad)
                .and_then(|body| envelope(encrypted_key.as_ref(), body))
        };
        Ok(SealedCookies {
            li_at: seal(&cookies.li_at)?,
            li_a: cookies.li_a.as_ref().map(seal).transpose()?,
        })
    }

    /// One `Decrypt` for cookies sealed together.
    async fn open_cookies(
        &self,
        sealed: &SealedCookies,
        user: &UserId,
        member: &LinkedinMemberId,
    ) -> Result<LinkedinCookies, CipherError> {
        let mut keys = Vec::new();
        let li_at = self
            .open_one(&sealed.li_at, &mut keys, user, member)
            .await?;
        let li_a = match &sealed.li_a {
            Some(li_a) => Some(self.open_one(li_a, &mut keys, user, member).await?),
            None => None,
        };
        Ok(LinkedinCookies { li_at, li_a })
    }

    /// The first digest of a cold start derives the key (one `GenerateMac`); later ones are
    /// local.
    async fn digest(&self, material: &[u8]) -> Result<Option<CookieDigest>, CipherError> {
        let Some(digest_key_id) = &self.digest_key_id else {
            return Ok(None);
        };
        let key = self
            .digest_key
            .get_or_try_init(|| async {
                let output = self
                    .client
                    .get()
                    .generate_mac()
                    .key_id(digest_key_id)
                    .mac_algorithm(MacAlgorithmSpec::HmacSha256)
                    .message(Blob::new(DIGEST_KEY_LABEL))
                    .send()
                    .await
                    .map_err(|e| unavailable(&e))?;
                let mac = output
                    .mac
                    .ok_or_else(|| CipherError::Unavailable("KMS returned no MAC".into()))?;
                Ok::<_, CipherError>(aws_lc_rs::hmac::Key::new(
                    aws_lc_rs::hmac::HMAC_SHA256,
                    mac.as_ref(),
                ))
            })
            .await?;
        Ok(Some(CookieDigest(keyed_digest(key, material))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_splits_into_its_key_and_body_and_a_kms_blob_is_not_one() {
        let sealed = envelope(b"encrypted-key", b"nonce-and-body".to_vec()).expect("sealed");
        assert_eq!(
            split_envelope(&sealed.0).expect("splits"),
            Some((&b"encrypted-key"[..], &b"nonce-and-body"[..]))
        );
        // KMS ciphertext blobs start with a version byte of 1.
        assert_eq!(split_envelope(&[1, 2, 2, 0, 120]).expect("legacy"), None);
        let mut truncated = sealed.0.clone();
        truncated.truncate(8);
        assert!(split_envelope(&truncated).is_err());
    }
}
