//! The local stand-in for API Gateway's JWT authorizer: HS256 tokens signed with
//! `LOCAL_JWT_SECRET`, verified here, and their claims handed on as AWS would.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Used when `LOCAL_JWT_SECRET` is not set. Local only: it is in docs/configuration.md.
pub const DEFAULT_LOCAL_JWT_SECRET: &str = "local-stack-jwt-secret-not-for-production";

#[derive(Clone)]
pub struct LocalAuthorizer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for LocalAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalAuthorizer([REDACTED])")
    }
}

impl LocalAuthorizer {
    pub fn new(secret: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// A token for `sub` (and `email`), valid for `ttl`.
    pub fn mint(
        &self,
        sub: &str,
        email: Option<&str>,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        let mut claims = Map::new();
        claims.insert("sub".into(), sub.into());
        if let Some(email) = email {
            claims.insert("email".into(), email.into());
        }
        claims.insert("exp".into(), (chrono::Utc::now() + ttl).timestamp().into());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// A token for the team's backend: a client-credentials token granting `scope`.
    pub fn mint_service(
        &self,
        client: &str,
        scope: &str,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        let mut claims = Map::new();
        claims.insert("sub".into(), client.into());
        claims.insert("client_id".into(), client.into());
        claims.insert("scope".into(), scope.into());
        claims.insert("exp".into(), (chrono::Utc::now() + ttl).timestamp().into());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// Verifies `Authorization: Bearer <jwt>` and returns the claims as API Gateway passes
    /// them: every value as a string.
    pub fn verify(&self, authorization: Option<&str>) -> Result<HashMap<String, String>, String> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or("an `Authorization: Bearer <token>` header is required")?;
        let validation = Validation::new(Algorithm::HS256);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .map_err(|e| format!("the token is not valid: {e}"))?;
        Ok(data
            .claims
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_foreign_ones_do_not() {
        let authorizer = LocalAuthorizer::new("secret-a");
        let token = authorizer
            .mint("demo", Some("demo@example.com"), chrono::Duration::hours(1))
            .expect("mints");
        let claims = authorizer
            .verify(Some(&format!("Bearer {token}")))
            .expect("valid");
        assert_eq!(claims.get("sub").map(String::as_str), Some("demo"));
        assert_eq!(
            claims.get("email").map(String::as_str),
            Some("demo@example.com")
        );
        let other = LocalAuthorizer::new("secret-b");
        assert!(other.verify(Some(&format!("Bearer {token}"))).is_err());
        assert!(authorizer.verify(None).is_err());
        let expired = authorizer
            .mint("demo", None, chrono::Duration::hours(-2))
            .expect("mints");
        assert!(
            authorizer
                .verify(Some(&format!("Bearer {expired}")))
                .is_err()
        );
    }
}
