//! Sealing cookies: KMS envelope encryption in AWS, AES-256-GCM with a process key locally.
//! Both bind the ciphertext to its (user, LinkedIn member), as KMS encryption context and GCM
//! associated data, so a ciphertext copied to another record does not open.

mod kms;
mod local;

pub use kms::KmsCipher;
pub use local::LocalCipher;

use crate::domain::{LinkedinMemberId, UserId};
use crate::ports::CipherError;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use secrecy::SecretString;

/// The associated data: both ids, length-prefixed so that no two pairs collide.
fn associated_data(user: &UserId, member: &LinkedinMemberId) -> Vec<u8> {
    let mut aad = Vec::new();
    for part in [user.as_str(), member.as_str()] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

fn aes_key(bytes: &[u8]) -> Result<LessSafeKey, CipherError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| CipherError::Unavailable("not an AES-256 key".into()))
}

/// A random nonce, then ciphertext and tag.
fn aes_seal(key: &LessSafeKey, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CipherError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| CipherError::Unavailable(e.to_string()))?;
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut in_out,
    )
    .map_err(|_| CipherError::Unavailable("AES-GCM seal failed".into()))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&in_out);
    Ok(sealed)
}

fn aes_open(key: &LessSafeKey, sealed: &[u8], aad: &[u8]) -> Result<SecretString, CipherError> {
    if sealed.len() < NONCE_LEN {
        return Err(CipherError::Rejected("too short".into()));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| CipherError::Rejected("bad nonce".into()))?;
    let mut in_out = ciphertext.to_vec();
    let opened = key
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .map_err(|_| {
            CipherError::Rejected("the ciphertext does not open for this user and member".into())
        })?;
    plaintext(opened.to_vec())
}

fn plaintext(bytes: Vec<u8>) -> Result<SecretString, CipherError> {
    String::from_utf8(bytes)
        .map(SecretString::from)
        .map_err(|_| CipherError::Rejected("the plaintext is not text".into()))
}

/// HMAC-SHA256 of `material` under `key`, base64.
fn keyed_digest(key: &aws_lc_rs::hmac::Key, material: &[u8]) -> String {
    use base64::Engine;
    let tag = aws_lc_rs::hmac::sign(key, material);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(tag.as_ref())
}
