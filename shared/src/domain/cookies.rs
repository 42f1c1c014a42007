//! What the Chrome extension sends: LinkedIn session cookies and where they were used.
//! Cookies are session credentials: in memory they are `SecretString`s (redacted in `Debug`),
//! at rest they are ciphertext ([`Sealed`]).

use super::{Country, IdError, LinkedinMemberId, LinkedinProfileId};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::IpAddr;

/// A cookie must fit in a browser's 4 KB cookie limit (and in one KMS `Encrypt`).
pub const MAX_COOKIE_BYTES: usize = 4096;
const MAX_USER_AGENT_BYTES: usize = 1024;

/// `POST /extension/cookies`. Our schema: unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CookieSyncBody {
    pub li_at: SecretString,
    #[serde(default)]
    pub li_a: Option<SecretString>,
    pub user_agent: String,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    pub linkedin_member_id: String,
    /// The member's profile id (`ACoAAB…`), which Unipile's Account also carries: how an
    /// account connected elsewhere (hosted auth, a connect whose answer was lost) is found.
    /// Older extensions send none.
    #[serde(default)]
    pub linkedin_profile_id: Option<String>,
}

/// The session cookies, in memory only.
#[derive(Debug, Clone)]
pub struct LinkedinCookies {
    pub li_at: SecretString,
    pub li_a: Option<SecretString>,
}

/// A validated sync from the extension.
#[derive(Debug, Clone)]
pub struct CookieSync {
    pub member_id: LinkedinMemberId,
    pub profile_id: Option<LinkedinProfileId>,
    pub cookies: LinkedinCookies,
    pub user_agent: String,
    pub ip: Option<IpAddr>,
    pub country: Option<Country>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieSyncError {
    #[error("`li_at` must be a non-empty cookie value under 4 KB")]
    BadLiAt,
    #[error("`li_a` must be a cookie value under 4 KB")]
    BadLiA,
    #[error("`user_agent` must be the browser's user agent (non-empty, at most 1 KB)")]
    BadUserAgent,
    #[error("`ip` must be an IPv4 address")]
    BadIp,
    /// Unipile infers the proxy location from an IPv4 address only: an IPv6 one would be
    /// dropped on the way, so it is refused where the extension can see why.
    #[error(
        "`ip` is an IPv6 address: Unipile takes IPv4 only to choose the login's location; send `country` (and no `ip`) instead"
    )]
    Ipv6NotAccepted,
    #[error("`country`: {0}")]
    BadCountry(String),
    #[error("`linkedin_member_id`: {0}")]
    BadMemberId(IdError),
    #[error("`linkedin_profile_id`: {0} (send the id as Unipile shows it, e.g. ACoAAB…)")]
    BadProfileId(IdError),
}

/// A cookie value: printable ASCII with no separators, as browsers store them.
fn valid_cookie(value: &str) -> bool {
    !value.is_empty()
        && value.len() < MAX_COOKIE_BYTES
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
}

impl CookieSync {
    pub fn parse(body: CookieSyncBody) -> Result<Self, CookieSyncError> {
        if !valid_cookie(body.li_at.expose_secret()) {
            return Err(CookieSyncError::BadLiAt);
        }
        // An empty li_a is what an extension sends for "no premium session".
        let li_a = body.li_a.filter(|v| !v.expose_secret().is_empty());
        if li_a
            .as_ref()
            .is_some_and(|v| !valid_cookie(v.expose_secret()))
        {
            return Err(CookieSyncError::BadLiA);
        }
        let user_agent = body.user_agent.trim().to_owned();
        if user_agent.is_empty()
            || user_agent.len() > MAX_USER_AGENT_BYTES
            || user_agent.chars().any(char::is_control)
        {
            return Err(CookieSyncError::BadUserAgent);
        }
        let ip = body
            .ip
            .filter(|ip| !ip.trim().is_empty())
            .map(|ip| {
                match ip.trim().parse::<IpAddr>() {
                    Ok(IpAddr::V4(v4)) => Ok(IpAddr::V4(v4)),
                    // `::ffff:a.b.c.d` is the IPv4 address a dual-stack socket reports.
                    Ok(IpAddr::V6(v6)) => v6
                        .to_ipv4_mapped()
                        .map(IpAddr::V4)
                        .ok_or(CookieSyncError::Ipv6NotAccepted),
                    Err(_) => Err(CookieSyncError::BadIp),
                }
            })
            .transpose()?;
        let country = body
            .country
            .filter(|c| !c.trim().is_empty())
            .map(|c| Country::parse(&c).map_err(CookieSyncError::BadCountry))
            .transpose()?;
        Ok(Self {
            member_id: LinkedinMemberId::parse(body.linkedin_member_id)
                .map_err(CookieSyncError::BadMemberId)?,
            // An empty one is an extension that found none on the page.
            profile_id: body
                .linkedin_profile_id
                .filter(|id| !id.is_empty())
                .map(LinkedinProfileId::parse)
                .transpose()
                .map_err(CookieSyncError::BadProfileId)?,
            cookies: LinkedinCookies {
                li_at: body.li_at,
                li_a,
            },
            user_agent,
            ip,
            country,
        })
    }
}

impl CookieSync {
    /// What a sync says about its identity's session, in one canonical byte string (each
    /// part length-prefixed, so no two syncs collide): what [`CookieDigest`] is taken of. It
    /// holds the cookies in clear: hashed at once, never kept.
    pub fn digest_material(&self, user: &super::UserId) -> Vec<u8> {
        let ip = self.ip.map(|ip| ip.to_string()).unwrap_or_default();
        let country = self.country.as_ref().map(|c| c.as_str().to_owned());
        let parts: [&[u8]; 7] = [
            user.as_str().as_bytes(),
            self.member_id.as_str().as_bytes(),
            self.cookies.li_at.expose_secret().as_bytes(),
            self.cookies
                .li_a
                .as_ref()
                .map_or(&b"\0none"[..], |v| v.expose_secret().as_bytes()),
            self.user_agent.as_bytes(),
            ip.as_bytes(),
            country.as_deref().unwrap_or("").as_bytes(),
        ];
        // The profile id last, and only when sent: a sync that first names it is stored rather
        // than skipped as unchanged, while the digests of syncs without one stay as they were.
        let profile = self.profile_id.as_ref().map(|p| p.as_str().as_bytes());
        let mut material = Vec::new();
        for part in parts.into_iter().chain(profile) {
            material.extend_from_slice(&(part.len() as u32).to_be_bytes());
            material.extend_from_slice(part);
        }
        material
    }
}

/// A keyed digest (HMAC-SHA256, base64) of what a sync sent: equal digests mean the same
/// cookies from the same browser, so the sync may skip sealing and storing them again. The key
/// never leaves the process (and KMS), so the digest says nothing about the cookie.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CookieDigest(pub String);

/// Ciphertext of a cookie, as stored. `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub Vec<u8>);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";

    fn body(json: &str) -> Result<CookieSync, CookieSyncError> {
        CookieSync::parse(serde_json::from_str(json).expect("the body deserializes"))
    }

    #[test]
    fn a_profile_id_is_optional_checked_and_part_of_the_digest() {
        let without = body(&format!(
            r#"{{"li_at":"x","user_agent":"{UA}","linkedin_member_id":"42"}}"#
        ))
        .expect("no profile id");
        assert_eq!(without.profile_id, None);
        let empty = body(&format!(
            r#"{{"li_at":"x","user_agent":"{UA}","linkedin_member_id":"42","linkedin_profile_id":""}}"#
        ))
        .expect("an empty one is none");
        assert_eq!(empty.profile_id, None);
        let with = body(&format!(
            r#"{{"li_at":"x","user_agent":"{UA}","linkedin_member_id":"42","linkedin_profile_id":"ACoAAB-x_1"}}"#
        ))
        .expect("Unipile's form");
        assert_eq!(
            with.profile_id.as_ref().map(|p| p.as_str()),
            Some("ACoAAB-x_1")
        );
        let user = super::super::UserId::parse("u").expect("user");
        assert_ne!(with.digest_material(&user), without.digest_material(&user));
        assert_eq!(empty.digest_material(&user), without.digest_material(&user));
        let urn = body(&format!(
            r#"{{"li_at":"x","user_agent":"{UA}","linkedin_member_id":"42","linkedin_profile_id":"urn:li:fsd_profile:ACoAAB"}}"#
        ));
        assert!(matches!(urn, Err(CookieSyncError::BadProfileId(_))));
    }

    #[test]
    fn a_full_sync_parses_and_never_prints_the_cookies() {
        let sync = body(&format!(
            r#"{{"li_at":"AQEDAR-secret-li-at","li_a":"AQJ-secret-li-a","user_agent":"{UA}","ip":"81.2.69.160","country":"fr","linkedin_member_id":"123456789"}}"#
        ))
        .expect("valid");
        assert_eq!(sync.member_id.as_str(), "123456789");
        assert_eq!(sync.country.as_ref().map(Country::as_str), Some("FR"));
        assert_eq!(sync.ip, Some("81.2.69.160".parse().expect("ip")));
        let printed = format!("{sync:?}");
        assert!(!printed.contains("secret-li-at") && !printed.contains("secret-li-a"));
    }

    #[test]
    fn each_field_is_checked() {
        let cases = [
            (r#""li_at":"""#, CookieSyncError::BadLiAt),
            (r#""li_at":"has space""#, CookieSyncError::BadLiAt),
            (r#""li_at":"x","li_a":"a;b""#, CookieSyncError::BadLiA),
            (r#""li_at":"x","ip":"999.1.1.1""#, CookieSyncError::BadIp),
            (
                r#""li_at":"x","ip":"2001:db8::1""#,
                CookieSyncError::Ipv6NotAccepted,
            ),
            (
                r#""li_at":"x","country":"XX""#,
                CookieSyncError::BadCountry(
                    "\"XX\" is not an ISO 3166-1 alpha-2 country code".into(),
                ),
            ),
        ];
        for (fields, expected) in cases {
            let json = format!(r#"{{{fields},"user_agent":"{UA}","linkedin_member_id":"42"}}"#);
            assert_eq!(body(&json).err(), Some(expected), "{fields}");
        }
        let long = "a".repeat(MAX_COOKIE_BYTES);
        let json = format!(r#"{{"li_at":"{long}","user_agent":"{UA}","linkedin_member_id":"42"}}"#);
        assert_eq!(body(&json).err(), Some(CookieSyncError::BadLiAt));
        let json = r#"{"li_at":"x","user_agent":"  ","linkedin_member_id":"42"}"#;
        assert_eq!(body(json).err(), Some(CookieSyncError::BadUserAgent));
        let json = format!(r#"{{"li_at":"x","user_agent":"{UA}","linkedin_member_id":""}}"#);
        assert!(matches!(
            body(&json).err(),
            Some(CookieSyncError::BadMemberId(_))
        ));
    }

    #[test]
    fn an_ipv4_mapped_address_is_sent_as_the_ipv4_it_is() {
        let json = format!(
            r#"{{"li_at":"x","ip":"::ffff:81.2.69.160","user_agent":"{UA}","linkedin_member_id":"42"}}"#
        );
        assert_eq!(
            body(&json).expect("valid").ip,
            Some("81.2.69.160".parse().expect("ip"))
        );
    }

    #[test]
    fn missing_or_unknown_fields_are_refused_by_the_schema() {
        for json in [
            r#"{"li_at":"x","user_agent":"ua"}"#,
            r#"{"li_at":"x","linkedin_member_id":"1"}"#,
            r#"{"li_at":"x","user_agent":"ua","linkedin_member_id":"1","user_id":"someone"}"#,
        ] {
            assert!(
                serde_json::from_str::<CookieSyncBody>(json).is_err(),
                "{json}"
            );
        }
    }

    #[test]
    fn an_empty_li_a_means_none() {
        let json =
            format!(r#"{{"li_at":"x","li_a":"","user_agent":"{UA}","linkedin_member_id":"42"}}"#);
        assert!(body(&json).expect("valid").cookies.li_a.is_none());
    }
}
