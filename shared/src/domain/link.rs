use super::{AccountId, AccountStatus, IdError, Provider};
use serde::{Deserialize, Serialize};
use url::Url;

/// What the front end sends to `POST /accounts/link`. Our schema, so unknown fields are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequestBody {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub providers: Option<ProvidersField>,
    #[serde(default)]
    pub reconnect_account: Option<String>,
    #[serde(default)]
    pub success_redirect_url: Option<String>,
    #[serde(default)]
    pub failure_redirect_url: Option<String>,
}

/// What the team's backend sends to `POST /service/links`: a user's own body plus
/// `user_id`, the user the link is for. Unknown fields are refused, as in the user's.
#[derive(Debug, Clone)]
pub struct ServiceLinkBody {
    pub user_id: super::UserId,
    pub link: LinkRequestBody,
}

impl ServiceLinkBody {
    /// `serde(flatten)` cannot refuse unknown fields, so `user_id` is taken out of the
    /// object and the rest is read as the user's body.
    pub fn parse(body: serde_json::Value) -> Result<Self, String> {
        let serde_json::Value::Object(mut fields) = body else {
            return Err("the body is a JSON object".into());
        };
        let user_id = match fields.remove("user_id") {
            Some(serde_json::Value::String(user)) => {
                super::UserId::parse(user).map_err(|e| format!("user_id: {e}"))?
            }
            Some(_) => return Err("user_id is a string".into()),
            None => return Err("user_id names the user the link is for".into()),
        };
        let link = serde_json::from_value(serde_json::Value::Object(fields))
            .map_err(|e| format!("the body is not valid: {e}"))?;
        Ok(Self { user_id, link })
    }
}

/// `"*"`-style wildcard or a list of provider names, as the body gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ProvidersField {
    Wildcard(String),
    List(Vec<String>),
}

/// Which providers the hosted-auth page offers (contract §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSelection {
    All,
    Mailing,
    Messaging,
    Calendar,
    Only(Vec<Provider>),
}

impl Serialize for ProviderSelection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str("*"),
            Self::Mailing => serializer.serialize_str("*:MAILING"),
            Self::Messaging => serializer.serialize_str("*:MESSAGING"),
            Self::Calendar => serializer.serialize_str("*:CALENDAR"),
            Self::Only(list) => list.serialize(serializer),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    Create { providers: ProviderSelection },
    Reconnect { account_id: AccountId },
}

/// What a hosted-auth link was issued for, as its state token carries it: all that decides
/// which `notify_url` callback may answer the link (the providers offered do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPurpose {
    Create,
    /// Reconnect this account, which the link's user owned when the link was issued.
    Reconnect {
        account_id: AccountId,
    },
}

/// Why a callback does not answer the link its state token describes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackMismatch {
    #[error("a {link} link is not answered with {status}")]
    StatusDoesNotFitLink {
        link: &'static str,
        status: AccountStatus,
    },
    #[error("the callback names another account than the one the link reconnects")]
    AnotherAccount,
}

impl From<&LinkKind> for LinkPurpose {
    fn from(kind: &LinkKind) -> Self {
        match kind {
            LinkKind::Create { .. } => Self::Create,
            LinkKind::Reconnect { account_id } => Self::Reconnect {
                account_id: account_id.clone(),
            },
        }
    }
}

impl LinkPurpose {
    /// The `type` of the hosted-auth link (contract §2).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Reconnect { .. } => "reconnect",
        }
    }

    /// Whether a connection-success callback (`status`, `account_id`) can be this link's.
    ///
    /// - A create link is answered with CREATION_SUCCESS only (contract §3). RECONNECTED on a
    ///   create link would be a claim on an account that already existed before the link, which
    ///   is exactly what a replayed notify URL would try: refused.
    /// - A reconnect link must name the account it was issued for. Its status should be
    ///   RECONNECTED (contract §3), but CREATION_SUCCESS is tolerated too: once the account is
    ///   bound, the status word protects nothing more (that account is the user's, hosted-link
    ///   checked it), while the contract also says the two channels carry these events "not
    ///   with same format" and leaves the callback's details unconfirmed; refusing would drop a
    ///   genuine reconnection over a label.
    pub fn check_callback(
        &self,
        status: &AccountStatus,
        account_id: &AccountId,
    ) -> Result<(), CallbackMismatch> {
        match self {
            Self::Create if *status == AccountStatus::CreationSuccess => Ok(()),
            Self::Reconnect { account_id: bound } if status.is_connection_success() => {
                if bound == account_id {
                    Ok(())
                } else {
                    Err(CallbackMismatch::AnotherAccount)
                }
            }
            _ => Err(CallbackMismatch::StatusDoesNotFitLink {
                link: self.as_str(),
                status: status.clone(),
            }),
        }
    }
}

/// A validated request for a hosted-auth link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest {
    pub kind: LinkKind,
    pub success_redirect_url: Option<Url>,
    pub failure_redirect_url: Option<Url>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRequestError {
    #[error("`type` must be \"create\" or \"reconnect\", not {0:?}")]
    UnknownKind(String),
    #[error("`providers` is required for type \"create\"")]
    MissingProviders,
    #[error(
        "`providers` must be \"*\", \"*:MAILING\", \"*:MESSAGING\", \"*:CALENDAR\" or a non-empty list of LINKEDIN, WHATSAPP, INSTAGRAM, MESSENGER, TELEGRAM, TWITTER, GOOGLE, OUTLOOK, MAIL; got {0:?}"
    )]
    BadProviders(String),
    #[error("`reconnect_account` is required for type \"reconnect\"")]
    MissingReconnectAccount,
    #[error("`reconnect_account` is only used with type \"reconnect\"")]
    UnexpectedReconnectAccount,
    #[error("`reconnect_account`: {0}")]
    BadAccountId(IdError),
    #[error("`{field}` is not an absolute http(s) URL")]
    BadRedirectUrl { field: &'static str },
    #[error("`{field}` points to an origin that is not in ALLOWED_REDIRECT_ORIGINS")]
    RedirectNotAllowed { field: &'static str },
}

/// The origins a hosted-auth page may send the browser back to; anything else would make us
/// an open redirect under Unipile's domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectPolicy {
    allowed: Vec<url::Origin>,
}

impl RedirectPolicy {
    /// Parses a comma-separated list of origins such as `https://app.example.com,http://localhost:3000`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let url = Url::parse(entry).map_err(|e| format!("{entry:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(format!("{entry:?} is not an http(s) origin"));
            }
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                return Err(format!(
                    "{entry:?} must be an origin only (scheme, host, port)"
                ));
            }
            allowed.push(url.origin());
        }
        Ok(Self { allowed })
    }

    pub fn check(&self, field: &'static str, raw: &str) -> Result<Url, LinkRequestError> {
        let url = Url::parse(raw).map_err(|_| LinkRequestError::BadRedirectUrl { field })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(LinkRequestError::BadRedirectUrl { field });
        }
        if !self.allowed.contains(&url.origin()) {
            return Err(LinkRequestError::RedirectNotAllowed { field });
        }
        Ok(url)
    }
}

impl ProviderSelection {
    fn parse(field: ProvidersField) -> Result<Self, LinkRequestError> {
        match field {
            ProvidersField::Wildcard(text) => match text.as_str() {
                "*" => Ok(Self::All),
                "*:MAILING" => Ok(Self::Mailing),
                "*:MESSAGING" => Ok(Self::Messaging),
                "*:CALENDAR" => Ok(Self::Calendar),
                _ => Err(LinkRequestError::BadProviders(text)),
            },
            ProvidersField::List(names) => {
                let mut providers: Vec<Provider> = Vec::with_capacity(names.len());
                for name in &names {
                    let provider = Provider::from(name.as_str());
                    if !provider.offered_by_hosted_auth() {
                        return Err(LinkRequestError::BadProviders(name.clone()));
                    }
                    if !providers.contains(&provider) {
                        providers.push(provider);
                    }
                }
                if providers.is_empty() {
                    return Err(LinkRequestError::BadProviders("[]".to_owned()));
                }
                Ok(Self::Only(providers))
            }
        }
    }
}

impl LinkRequest {
    pub fn parse(
        body: LinkRequestBody,
        redirects: &RedirectPolicy,
    ) -> Result<Self, LinkRequestError> {
        let kind = match body.kind.as_str() {
            "create" => {
                if body.reconnect_account.is_some() {
                    return Err(LinkRequestError::UnexpectedReconnectAccount);
                }
                let providers = body.providers.ok_or(LinkRequestError::MissingProviders)?;
                LinkKind::Create {
                    providers: ProviderSelection::parse(providers)?,
                }
            }
            // Unipile takes the providers from the account being reconnected; a `providers`
            // field sent along anyway is harmless and ignored.
            "reconnect" => {
                let raw = body
                    .reconnect_account
                    .ok_or(LinkRequestError::MissingReconnectAccount)?;
                LinkKind::Reconnect {
                    account_id: AccountId::parse(raw).map_err(LinkRequestError::BadAccountId)?,
                }
            }
            other => return Err(LinkRequestError::UnknownKind(other.to_owned())),
        };
        let success_redirect_url = body
            .success_redirect_url
            .map(|raw| redirects.check("success_redirect_url", &raw))
            .transpose()?;
        let failure_redirect_url = body
            .failure_redirect_url
            .map(|raw| redirects.check("failure_redirect_url", &raw))
            .transpose()?;
        Ok(Self {
            kind,
            success_redirect_url,
            failure_redirect_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> LinkRequestBody {
        serde_json::from_str(json).expect("test body parses")
    }

    fn policy() -> RedirectPolicy {
        RedirectPolicy::parse("https://app.example.com, http://localhost:3000").expect("valid")
    }

    #[test]
    fn create_with_a_wildcard_or_a_list_of_providers() {
        let request = LinkRequest::parse(body(r#"{"type":"create","providers":"*"}"#), &policy())
            .expect("valid");
        assert_eq!(
            request.kind,
            LinkKind::Create {
                providers: ProviderSelection::All
            }
        );

        let request = LinkRequest::parse(
            body(r#"{"type":"create","providers":["LINKEDIN","WHATSAPP","LINKEDIN"]}"#),
            &policy(),
        )
        .expect("valid");
        assert_eq!(
            request.kind,
            LinkKind::Create {
                providers: ProviderSelection::Only(vec![Provider::Linkedin, Provider::Whatsapp])
            }
        );
        let json = serde_json::to_string(&ProviderSelection::Only(vec![Provider::Linkedin]))
            .expect("serializes");
        assert_eq!(json, r#"["LINKEDIN"]"#);
    }

    #[test]
    fn providers_that_hosted_auth_does_not_offer_are_refused() {
        for bad in [r#""**""#, r#"[]"#, r#"["GOOGLE_OAUTH"]"#, r#"["linkedin"]"#] {
            let json = format!(r#"{{"type":"create","providers":{bad}}}"#);
            let err = LinkRequest::parse(body(&json), &policy()).expect_err(bad);
            assert!(
                matches!(err, LinkRequestError::BadProviders(_)),
                "{bad}: {err:?}"
            );
        }
        let err = LinkRequest::parse(body(r#"{"type":"create"}"#), &policy()).expect_err("none");
        assert_eq!(err, LinkRequestError::MissingProviders);
    }

    #[test]
    fn reconnect_needs_an_account_and_create_must_not_name_one() {
        let request = LinkRequest::parse(
            body(r#"{"type":"reconnect","reconnect_account":"acc_1"}"#),
            &policy(),
        )
        .expect("valid");
        assert_eq!(
            request.kind,
            LinkKind::Reconnect {
                account_id: AccountId::parse("acc_1").expect("valid")
            }
        );
        assert_eq!(
            LinkRequest::parse(body(r#"{"type":"reconnect"}"#), &policy()),
            Err(LinkRequestError::MissingReconnectAccount)
        );
        assert_eq!(
            LinkRequest::parse(
                body(r#"{"type":"create","providers":"*","reconnect_account":"a"}"#),
                &policy()
            ),
            Err(LinkRequestError::UnexpectedReconnectAccount)
        );
        assert_eq!(
            LinkRequest::parse(body(r#"{"type":"delete"}"#), &policy()),
            Err(LinkRequestError::UnknownKind("delete".into()))
        );
    }

    #[test]
    fn redirects_must_stay_on_an_allowed_origin() {
        let ok = LinkRequest::parse(
            body(r#"{"type":"create","providers":"*","success_redirect_url":"https://app.example.com/done?x=1"}"#),
            &policy(),
        )
        .expect("allowed");
        assert_eq!(
            ok.success_redirect_url.map(String::from),
            Some("https://app.example.com/done?x=1".to_owned())
        );
        for (url, expected) in [
            (
                "https://evil.example.com/",
                LinkRequestError::RedirectNotAllowed {
                    field: "failure_redirect_url",
                },
            ),
            (
                "https://app.example.com.evil.io/",
                LinkRequestError::RedirectNotAllowed {
                    field: "failure_redirect_url",
                },
            ),
            (
                "http://app.example.com/",
                LinkRequestError::RedirectNotAllowed {
                    field: "failure_redirect_url",
                },
            ),
            (
                "javascript:alert(1)",
                LinkRequestError::BadRedirectUrl {
                    field: "failure_redirect_url",
                },
            ),
            (
                "/relative",
                LinkRequestError::BadRedirectUrl {
                    field: "failure_redirect_url",
                },
            ),
        ] {
            let json =
                format!(r#"{{"type":"create","providers":"*","failure_redirect_url":"{url}"}}"#);
            assert_eq!(
                LinkRequest::parse(body(&json), &policy()),
                Err(expected),
                "{url}"
            );
        }
    }

    #[test]
    fn no_configured_origin_means_no_redirect_is_allowed() {
        let err = LinkRequest::parse(
            body(r#"{"type":"create","providers":"*","success_redirect_url":"https://app.example.com/"}"#),
            &RedirectPolicy::default(),
        )
        .expect_err("fail closed");
        assert_eq!(
            err,
            LinkRequestError::RedirectNotAllowed {
                field: "success_redirect_url"
            }
        );
    }

    #[test]
    fn origin_lists_must_hold_origins_only() {
        assert!(RedirectPolicy::parse("https://app.example.com/path").is_err());
        assert!(RedirectPolicy::parse("ftp://app.example.com").is_err());
        assert!(
            RedirectPolicy::parse("")
                .expect("empty is allowed")
                .allowed
                .is_empty()
        );
    }

    fn id(text: &str) -> AccountId {
        AccountId::parse(text).expect("valid")
    }

    #[test]
    fn a_create_link_is_answered_by_a_creation_only() {
        let link = LinkPurpose::Create;
        assert_eq!(
            link.check_callback(&AccountStatus::CreationSuccess, &id("any")),
            Ok(())
        );
        assert_eq!(
            link.check_callback(&AccountStatus::Reconnected, &id("any")),
            Err(CallbackMismatch::StatusDoesNotFitLink {
                link: "create",
                status: AccountStatus::Reconnected
            })
        );
    }

    #[test]
    fn a_reconnect_link_is_answered_for_its_own_account_only() {
        let link = LinkPurpose::Reconnect {
            account_id: id("acc_1"),
        };
        assert_eq!(
            link.check_callback(&AccountStatus::Reconnected, &id("acc_1")),
            Ok(())
        );
        // Tolerated: the account binding is what protects a reconnect (see check_callback).
        assert_eq!(
            link.check_callback(&AccountStatus::CreationSuccess, &id("acc_1")),
            Ok(())
        );
        assert_eq!(
            link.check_callback(&AccountStatus::Reconnected, &id("acc_2")),
            Err(CallbackMismatch::AnotherAccount)
        );
        assert_eq!(
            link.check_callback(&AccountStatus::CreationSuccess, &id("acc_2")),
            Err(CallbackMismatch::AnotherAccount)
        );
        assert!(
            link.check_callback(&AccountStatus::Ok, &id("acc_1"))
                .is_err()
        );
    }

    #[test]
    fn a_link_purpose_is_its_kind_without_the_providers() {
        let create = LinkKind::Create {
            providers: ProviderSelection::All,
        };
        assert_eq!(LinkPurpose::from(&create), LinkPurpose::Create);
        let reconnect = LinkKind::Reconnect {
            account_id: id("acc_1"),
        };
        assert_eq!(
            LinkPurpose::from(&reconnect),
            LinkPurpose::Reconnect {
                account_id: id("acc_1")
            }
        );
    }

    #[test]
    fn unknown_body_fields_are_refused() {
        let parsed: Result<LinkRequestBody, _> =
            serde_json::from_str(r#"{"type":"create","providers":"*","user_id":"someone-else"}"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn a_service_link_body_is_a_users_body_plus_the_user_it_is_for() {
        let parsed = ServiceLinkBody::parse(serde_json::json!(
            {"user_id": "u1", "type": "reconnect", "reconnect_account": "acc_1"}
        ))
        .expect("valid");
        assert_eq!(parsed.user_id.as_str(), "u1");
        assert_eq!(parsed.link.reconnect_account.as_deref(), Some("acc_1"));
        for refused in [
            serde_json::json!({"type": "create", "providers": "*"}),
            serde_json::json!({"user_id": 7, "type": "create", "providers": "*"}),
            serde_json::json!({"user_id": "", "type": "create", "providers": "*"}),
            serde_json::json!({"user_id": "u1", "type": "create", "providers": "*", "x": 1}),
            serde_json::json!(["u1"]),
        ] {
            assert!(
                ServiceLinkBody::parse(refused.clone()).is_err(),
                "{refused}"
            );
        }
    }
}
