//! What the local stack's environment points it at: everything on this machine (memory, the
//! built-in simulator, or emulators on loopback), or real resources (a DynamoDB table or SES in
//! AWS, a Unipile tenant). With real ones, what only a local playground may do is turned off:
//! minting tokens for anyone with a public secret, moving the clock, the simulator.

use crate::jwt::DEFAULT_LOCAL_JWT_SECRET;
use std::collections::HashMap;
use unipile_connect::adapters::unipile::UnipileDsn;
use unipile_connect::domain::secure_url::is_loopback;
use url::Url;

/// Shortest `LOCAL_JWT_SECRET` accepted with a real backend (HS256 wants at least its own
/// output's size of key material).
pub const MIN_REAL_JWT_SECRET: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// Nothing leaves this machine: the playground's helpers are on.
    Local,
    /// Real resources, each named by why: the helpers are off.
    Real(Vec<String>),
}

impl Backend {
    /// Reads `env` (the process environment with the secrets filled in).
    pub fn of(env: &HashMap<String, String>) -> Self {
        let set = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        // An AWS endpoint on this machine is an emulator; none, or another, is AWS itself.
        let aws_is_local = set("AWS_ENDPOINT_URL")
            .and_then(|endpoint| Url::parse(endpoint).ok())
            .is_some_and(|url| is_loopback(&url));
        let mut real = Vec::new();
        if !aws_is_local {
            if let Some(table) = set("TABLE_NAME") {
                real.push(format!("TABLE_NAME ({table}) is a DynamoDB table in AWS"));
            }
            if set("MAIL_FROM").is_some() {
                real.push("MAIL_FROM sends through Amazon SES".to_owned());
            }
            if set("COGNITO_USER_POOL_ID").is_some() {
                real.push("COGNITO_USER_POOL_ID reads a Cognito user pool".to_owned());
            }
        }
        if let Some(dsn) = set("UNIPILE_DSN") {
            // Read as the Unipile client reads it (host:port means https).
            let on_this_machine = UnipileDsn::parse(dsn)
                .ok()
                .and_then(|dsn| Url::parse(&dsn.api_url()).ok())
                .is_some_and(|url| is_loopback(&url));
            if !on_this_machine {
                real.push("UNIPILE_DSN is a Unipile tenant".to_owned());
            }
        }
        if real.is_empty() {
            Self::Local
        } else {
            Self::Real(real)
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local)
    }

    /// Refuses to start with a real backend and a token secret anyone could know, or with
    /// no Unipile tenant to talk to (the simulator is a playground's).
    pub fn check(&self, env: &HashMap<String, String>) -> Result<(), String> {
        let Self::Real(why) = self else {
            return Ok(());
        };
        let why = why.join("; ");
        let secret = env.get("LOCAL_JWT_SECRET").map_or("", String::as_str);
        if secret.chars().count() < MIN_REAL_JWT_SECRET || secret == DEFAULT_LOCAL_JWT_SECRET {
            return Err(format!(
                "a real backend is configured ({why}): set LOCAL_JWT_SECRET to a random secret of \
                 {MIN_REAL_JWT_SECRET} characters or more (the default one is public, so anyone \
                 could sign a token for any user)"
            ));
        }
        if !env.contains_key("UNIPILE_DSN") {
            return Err(format!(
                "a real backend is configured ({why}): set UNIPILE_DSN to your Unipile tenant \
                 (the built-in simulator runs only when nothing real is configured)"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn memory_emulators_and_the_simulator_are_local() {
        for local in [
            env(&[]),
            env(&[
                ("TABLE_NAME", "t"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
                ("MAIL_FROM", "a@example.com"),
            ]),
            env(&[("UNIPILE_DSN", "http://127.0.0.1:9999")]),
            env(&[("UNIPILE_DSN", "http://localhost:9999/")]),
        ] {
            assert_eq!(Backend::of(&local), Backend::Local, "{local:?}");
        }
    }

    #[test]
    fn aws_resources_or_a_unipile_tenant_are_real() {
        for (pairs, named) in [
            (vec![("TABLE_NAME", "accounts")], "TABLE_NAME"),
            (
                vec![
                    ("TABLE_NAME", "accounts"),
                    (
                        "AWS_ENDPOINT_URL",
                        "https://dynamodb.eu-west-1.amazonaws.com",
                    ),
                ],
                "TABLE_NAME",
            ),
            (vec![("MAIL_FROM", "a@example.com")], "MAIL_FROM"),
            (
                vec![("UNIPILE_DSN", "api8.unipile.com:13443")],
                "UNIPILE_DSN",
            ),
            (vec![("UNIPILE_DSN", "http://10.0.0.5:8080")], "UNIPILE_DSN"),
        ] {
            match Backend::of(&env(&pairs)) {
                Backend::Real(why) => assert!(why.iter().any(|w| w.contains(named)), "{why:?}"),
                Backend::Local => panic!("{pairs:?} is real"),
            }
        }
    }

    #[test]
    fn a_real_backend_needs_a_random_token_secret_and_a_tenant() {
        let real = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("UNIPILE_DSN", "api8.unipile.com:13443")];
            pairs.extend_from_slice(extra);
            let env = env(&pairs);
            Backend::of(&env).check(&env)
        };
        let missing = real(&[]).expect_err("no secret");
        assert!(missing.contains("LOCAL_JWT_SECRET"), "{missing}");
        assert!(real(&[("LOCAL_JWT_SECRET", DEFAULT_LOCAL_JWT_SECRET)]).is_err());
        assert!(real(&[("LOCAL_JWT_SECRET", "short")]).is_err());
        let random = "jwt-secret-never-logged-q3J9x2LmV8pZt4";
        assert!(real(&[("LOCAL_JWT_SECRET", random)]).is_ok());
        let table_only = env(&[("TABLE_NAME", "accounts"), ("LOCAL_JWT_SECRET", random)]);
        let no_tenant = Backend::of(&table_only)
            .check(&table_only)
            .expect_err("no tenant");
        assert!(no_tenant.contains("UNIPILE_DSN"), "{no_tenant}");
        assert!(Backend::Local.check(&HashMap::new()).is_ok());
    }
}
