use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains a control or whitespace character")]
    BadCharacter { kind: &'static str },
    #[error("{kind} cannot be `.` or `..`")]
    DotSegment { kind: &'static str },
    #[error("{kind} is not a valid email address")]
    NotAnEmail { kind: &'static str },
    #[error("{kind} may hold only letters, digits, `-` and `_`")]
    NotAProfileId { kind: &'static str },
}

/// Identifiers end up inside DynamoDB keys (`USER#<id>`) and URLs: refuse anything that
/// could smuggle whitespace or control characters into them, and the two names a URL path
/// cannot hold as a segment (`GET /api/v1/accounts/..` would be another resource: URL
/// libraries drop or resolve such segments).
fn check_token(kind: &'static str, value: &str, max: usize) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value == "." || value == ".." {
        return Err(IdError::DotSegment { kind });
    }
    if value.chars().count() > max {
        return Err(IdError::TooLong { kind, max });
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(IdError::BadCharacter { kind });
    }
    Ok(())
}

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_token($kind, &value, $max)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_newtype!(
    /// Our customer's user, as named by the `sub` claim of their token.
    UserId,
    "user id",
    256
);
id_newtype!(
    /// A Unipile account id (`e54m8LR22bA7G5qsAc8w`).
    AccountId,
    "account id",
    128
);

id_newtype!(
    /// A LinkedIn member id as the extension reads it (`plainId`): one LinkedIn identity of
    /// our user; a user may switch between several.
    LinkedinMemberId,
    "linkedin member id",
    128
);

/// A LinkedIn member's profile id as LinkedIn's pages and Unipile's Account show it
/// (`urn:li:fsd_profile:ACoAAB…` on the page, `connection_params.im.id` = `ACoAAB…` at
/// Unipile, contract §6): the one identity both sides name, so an account can be matched to
/// the extension's identity. Letters, digits, `-` and `_` only, at most 128.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LinkedinProfileId(String);

impl LinkedinProfileId {
    const KIND: &'static str = "linkedin profile id";
    pub const MAX: usize = 128;

    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        check_token(Self::KIND, &value, Self::MAX)?;
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(IdError::NotAProfileId { kind: Self::KIND });
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LinkedinProfileId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<LinkedinProfileId> for String {
    fn from(value: LinkedinProfileId) -> Self {
        value.0
    }
}

impl fmt::Display for LinkedinProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

id_newtype!(
    /// A webhook registered with Unipile (`webhook_id` of `POST /api/v1/webhooks`).
    WebhookId,
    "webhook id",
    256
);

id_newtype!(
    /// The random nonce of one hosted-auth link's state token: it names the link's single use
    /// (a DynamoDB key, `STATE#<nonce>`).
    LinkNonce,
    "link nonce",
    64
);

/// Where we write to a user. Only a light shape check: the identity provider vouched for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        check_token("email", &value, 320)?;
        match value.split_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => Ok(Self(value)),
            _ => Err(IdError::NotAnEmail { kind: "email" }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_empty_whitespace_and_overlong_values() {
        assert_eq!(UserId::parse(""), Err(IdError::Empty { kind: "user id" }));
        assert_eq!(
            AccountId::parse("abc def"),
            Err(IdError::BadCharacter { kind: "account id" })
        );
        assert_eq!(
            AccountId::parse("a".repeat(129)),
            Err(IdError::TooLong {
                kind: "account id",
                max: 128
            })
        );
        assert_eq!(
            UserId::parse("user_42").map(String::from),
            Ok("user_42".to_owned())
        );
    }

    #[test]
    fn ids_that_a_url_path_would_resolve_away_are_refused() {
        for dots in [".", ".."] {
            assert_eq!(
                AccountId::parse(dots),
                Err(IdError::DotSegment { kind: "account id" })
            );
        }
        assert!(AccountId::parse("...").is_ok(), "only the two path names");
        assert!(AccountId::parse(".a").is_ok());
    }

    #[test]
    fn ids_deserialize_through_parse() {
        let bad: Result<AccountId, _> = serde_json::from_str("\"\"");
        assert!(bad.is_err());
        let good: AccountId = serde_json::from_str("\"e54m8LR22bA7G5qsAc8w\"").expect("valid id");
        assert_eq!(good.as_str(), "e54m8LR22bA7G5qsAc8w");
    }

    #[test]
    fn a_profile_id_is_letters_digits_dashes_and_underscores() {
        let id = LinkedinProfileId::parse("ACoAAB1x-y_Z9").expect("Unipile's form");
        assert_eq!(id.as_str(), "ACoAAB1x-y_Z9");
        for bad in ["urn:li:fsd_profile:ACoAAB", "ACoAAB/..", "é", "ACoAAB+"] {
            assert_eq!(
                LinkedinProfileId::parse(bad),
                Err(IdError::NotAProfileId {
                    kind: "linkedin profile id"
                }),
                "{bad}"
            );
        }
        assert!(LinkedinProfileId::parse("").is_err());
        assert!(LinkedinProfileId::parse("ACoA AB").is_err());
        assert!(LinkedinProfileId::parse("a".repeat(129)).is_err());
    }

    #[test]
    fn email_needs_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("jane@example.com").is_ok());
        assert_eq!(
            Email::parse("jane"),
            Err(IdError::NotAnEmail { kind: "email" })
        );
        assert_eq!(
            Email::parse("@example.com"),
            Err(IdError::NotAnEmail { kind: "email" })
        );
    }
}
