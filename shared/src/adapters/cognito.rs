//! The [`UserDirectory`] on an Amazon Cognito user pool: one `ListUsers` call, filtered on the
//! attribute our user id is (`sub`, or the username), limited to one user.

use super::lazy_client::LazyClient;
use crate::domain::{Email, UserId};
use crate::ports::{DirectoryEmail, DirectoryError, UserDirectory};
use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use aws_sdk_cognitoidentityprovider::types::UserType;
use std::fmt;

/// A user pool id, `<region>_<id>` (`eu-west-1_AbC123xyZ`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPoolId(String);

impl UserPoolId {
    pub fn parse(value: &str) -> Result<Self, String> {
        let refuse =
            || format!("{value:?} is not a user pool id (<region>_<id>, e.g. eu-west-1_AbC123)");
        let (region, id) = value.split_once('_').ok_or_else(refuse)?;
        let region_ok = region.split('-').count() >= 3
            && region
                .split('-')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
            && region.chars().all(|c| !c.is_ascii_uppercase());
        let id_ok =
            !id.is_empty() && id.len() <= 50 && id.chars().all(|c| c.is_ascii_alphanumeric());
        if region_ok && id_ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(refuse())
        }
    }

    /// The pool a Cognito token issuer names
    /// (`https://cognito-idp.<region>.amazonaws.com/<pool id>`); `None` for any other issuer.
    pub fn from_issuer(issuer: &str) -> Option<Self> {
        let url = url::Url::parse(issuer.trim()).ok()?;
        let host = url.host_str()?;
        let cognito = url.scheme() == "https"
            && host.starts_with("cognito-idp.")
            && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"));
        if !cognito {
            return None;
        }
        let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
        let pool = segments.next()?;
        if segments.next().is_some() {
            return None;
        }
        Self::parse(pool).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region the pool lives in: the part before `_`.
    pub fn region(&self) -> &str {
        self.0.split_once('_').map_or("", |(region, _)| region)
    }
}

impl fmt::Display for UserPoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which pool attribute our user ids are: the one the configured user id claim carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLookup {
    /// `sub` (the default claim): the user's immutable id.
    Sub,
    /// `username` / `cognito:username` claims.
    Username,
}

impl UserLookup {
    /// The lookup for a user id claim; `None` for a claim `ListUsers` cannot search on.
    pub fn for_claim(claim: &str) -> Option<Self> {
        match claim {
            "sub" => Some(Self::Sub),
            "username" | "cognito:username" => Some(Self::Username),
            _ => None,
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Self::Sub => "sub",
            Self::Username => "username",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoSettings {
    pub pool: UserPoolId,
    pub lookup: UserLookup,
}

#[derive(Debug)]
pub struct CognitoDirectory {
    client: LazyClient<Client>,
    settings: CognitoSettings,
}

impl CognitoDirectory {
    /// `client` should be configured for the pool's region ([`UserPoolId::region`]).
    pub fn new(client: impl Into<LazyClient<Client>>, settings: CognitoSettings) -> Self {
        Self {
            client: client.into(),
            settings,
        }
    }
}

/// `attribute = "value"`, with `\` and `"` escaped as `ListUsers` wants.
fn filter(lookup: UserLookup, user: &UserId) -> String {
    let escaped = user.as_str().replace('\\', "\\\\").replace('"', "\\\"");
    format!("{} = \"{escaped}\"", lookup.attribute())
}

/// The user's email, if `found` is really `user` (a filter is exact, but a wrong answer would
/// mail a stranger) and has a well-formed one.
fn email_of(found: &UserType, lookup: UserLookup, user: &UserId) -> Option<DirectoryEmail> {
    let attribute = |name: &str| {
        found
            .attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value())
    };
    let same_user = match lookup {
        UserLookup::Sub => attribute("sub") == Some(user.as_str()),
        // Usernames may be case-insensitive in the pool.
        UserLookup::Username => found
            .username()
            .is_some_and(|name| name.eq_ignore_ascii_case(user.as_str())),
    };
    if !same_user {
        tracing::warn!(user_id = %user, "the user pool answered with another user: ignored");
        return None;
    }
    let address = Email::parse(attribute("email")?).ok()?;
    Some(DirectoryEmail {
        address,
        // Cognito writes "true" once the user proved the address; absent means never.
        verified: attribute("email_verified") == Some("true"),
    })
}

#[async_trait]
impl UserDirectory for CognitoDirectory {
    async fn email_of(&self, user: &UserId) -> Result<Option<DirectoryEmail>, DirectoryError> {
        let lookup = self.settings.lookup;
        let output = self
            .client
            .get()
            .list_users()
            .user_pool_id(self.settings.pool.as_str())
            .filter(filter(lookup, user))
            .limit(1)
            .attributes_to_get("sub")
            .attributes_to_get("email")
            .attributes_to_get("email_verified")
            .send()
            .await
            .map_err(|e| DirectoryError(DisplayErrorContext(&e).to_string()))?;
        Ok(output
            .users()
            .first()
            .and_then(|found| email_of(found, lookup, user)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::AttributeType;

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("user id")
    }

    fn found(username: &str, attributes: &[(&str, &str)]) -> UserType {
        let mut builder = UserType::builder().username(username);
        for (name, value) in attributes {
            builder = builder.attributes(
                AttributeType::builder()
                    .name(*name)
                    .value(*value)
                    .build()
                    .expect("attribute"),
            );
        }
        builder.build()
    }

    #[test]
    fn pool_ids_are_region_underscore_id() {
        let pool = UserPoolId::parse("eu-west-1_AbC123xyZ").expect("valid");
        assert_eq!(pool.region(), "eu-west-1");
        assert!(UserPoolId::parse("us-gov-west-1_abc").is_ok());
        for bad in [
            "",
            "eu-west-1",
            "_abc",
            "eu-west-1_",
            "eu_west_1_abc",
            "EU-WEST-1_abc",
            "eu-west-1_a b",
            "x_abc",
        ] {
            assert!(UserPoolId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_cognito_issuer_names_its_pool_and_other_issuers_none() {
        assert_eq!(
            UserPoolId::from_issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"),
            Some(UserPoolId::parse("eu-west-1_AbC123").expect("valid"))
        );
        assert!(
            UserPoolId::from_issuer(
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/"
            )
            .is_some()
        );
        for other in [
            "https://example.auth0.com/",
            "https://login.microsoftonline.com/tenant/v2.0",
            "http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
            "https://cognito-idp.eu-west-1.amazonaws.com/",
            "not a url",
        ] {
            assert_eq!(UserPoolId::from_issuer(other), None, "{other}");
        }
    }

    #[test]
    fn the_filter_names_the_claims_attribute_and_escapes_quotes() {
        assert_eq!(UserLookup::for_claim("sub"), Some(UserLookup::Sub));
        assert_eq!(
            UserLookup::for_claim("cognito:username"),
            Some(UserLookup::Username)
        );
        assert_eq!(
            UserLookup::for_claim("username"),
            Some(UserLookup::Username)
        );
        assert_eq!(UserLookup::for_claim("custom:uid"), None);
        assert_eq!(
            filter(UserLookup::Sub, &user("1f2e-3d")),
            r#"sub = "1f2e-3d""#
        );
        assert_eq!(
            filter(UserLookup::Username, &user(r#"ja"ne\x"#)),
            r#"username = "ja\"ne\\x""#
        );
    }

    #[test]
    fn only_the_asked_user_counts_and_verification_is_read() {
        let jane = found(
            "jane",
            &[
                ("sub", "s-1"),
                ("email", "jane@example.com"),
                ("email_verified", "true"),
            ],
        );
        assert_eq!(
            email_of(&jane, UserLookup::Sub, &user("s-1")),
            Some(DirectoryEmail {
                address: Email::parse("jane@example.com").expect("email"),
                verified: true
            })
        );
        assert_eq!(email_of(&jane, UserLookup::Sub, &user("s-2")), None);
        assert!(email_of(&jane, UserLookup::Username, &user("JANE")).is_some());
        let unverified = found("joe", &[("sub", "s-3"), ("email", "joe@example.com")]);
        assert_eq!(
            email_of(&unverified, UserLookup::Sub, &user("s-3")).map(|e| e.verified),
            Some(false)
        );
        let no_email = found("ann", &[("sub", "s-4"), ("email_verified", "true")]);
        assert_eq!(email_of(&no_email, UserLookup::Sub, &user("s-4")), None);
    }
}
