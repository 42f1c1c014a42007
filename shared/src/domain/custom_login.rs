//! Custom authentication (`POST /accounts/connect`): what the user's page sends for each
//! provider Unipile lets a team sign in without its hosted page (custom-auth contract §1–§8),
//! parsed into what Unipile takes. Passwords, codes and phone numbers are credentials: they
//! are held as secrets, never printed by `Debug`, never quoted in an error.

use super::{AccountId, IdError, Provider};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `POST /accounts/connect`. Our schema: unknown fields are refused; which fields apply
/// depends on `provider`, and one that does not apply is refused too.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    pub provider: String,
    #[serde(default)]
    pub reconnect_account: Option<String>,
    /// "New code": the account id of the QR-code (or pairing-code) attempt to start again.
    #[serde(default)]
    pub renew: Option<String>,
    #[serde(default)]
    pub phone_number: Option<SecretString>,
    #[serde(default)]
    pub username: Option<SecretString>,
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub email: Option<SecretString>,
    #[serde(default)]
    pub recruiter_contract_id: Option<String>,
    #[serde(default)]
    pub imap_user: Option<String>,
    #[serde(default)]
    pub imap_password: Option<SecretString>,
    #[serde(default)]
    pub imap_host: Option<String>,
    #[serde(default)]
    pub imap_port: Option<u32>,
    #[serde(default)]
    pub imap_encryption: Option<String>,
    #[serde(default)]
    pub smtp_user: Option<String>,
    #[serde(default)]
    pub smtp_password: Option<SecretString>,
    #[serde(default)]
    pub smtp_host: Option<String>,
    #[serde(default)]
    pub smtp_port: Option<u32>,
}

impl std::fmt::Debug for ConnectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectBody")
            .field("provider", &self.provider)
            .field("reconnect_account", &self.reconnect_account)
            .finish_non_exhaustive()
    }
}

/// A phone number as WhatsApp's pairing takes it: E.164 digits only, country code first.
#[derive(Clone)]
pub struct PhoneNumber(SecretString);

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneNumber(..)")
    }
}

impl PhoneNumber {
    /// Any common writing: `+33 6 12 34 56 78`, `0033-612-345-678`, `(+1) 415.555.0100`. The
    /// `+`, spaces, dashes, dots and brackets are dropped, a leading international `00` too;
    /// what is left must be 8 to 15 digits not starting with 0 (a country code never does).
    pub fn parse(raw: &str) -> Result<Self, LoginRequestError> {
        let trimmed = raw.trim();
        let international = trimmed.starts_with('+');
        let mut digits = String::with_capacity(trimmed.len());
        for c in trimmed.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '+' | ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(LoginRequestError::BadPhoneNumber),
            }
        }
        let digits = match digits.strip_prefix("00") {
            Some(rest) if !international => rest.to_owned(),
            _ => digits,
        };
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(LoginRequestError::BadPhoneNumber);
        }
        Ok(Self(SecretString::from(digits)))
    }

    /// The digits, for the request body only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A username and password, and what some providers take besides.
#[derive(Clone)]
pub struct Credentials {
    pub username: SecretString,
    pub password: SecretString,
    /// X may ask for the account's email as a login challenge (contract §7).
    pub email: Option<SecretString>,
    /// LinkedIn Recruiter: avoids the contract chooser (contract §2).
    pub recruiter_contract_id: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(..)")
    }
}

/// How the mailbox's IMAP connection is encrypted, in the words Unipile's example uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailEncryption {
    Ssl,
    Tls,
    Starttls,
}

impl MailEncryption {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ssl => "SSL",
            Self::Tls => "TLS",
            Self::Starttls => "STARTTLS",
        }
    }
}

/// An IMAP mailbox and its SMTP server, with Unipile's own field names (contract §8).
#[derive(Clone)]
pub struct Mailbox {
    pub imap_user: String,
    pub imap_password: SecretString,
    pub imap_host: String,
    pub imap_port: u16,
    pub imap_encryption: Option<MailEncryption>,
    pub smtp_user: String,
    pub smtp_password: SecretString,
    pub smtp_host: String,
    pub smtp_port: u16,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox")
            .field("imap_host", &self.imap_host)
            .field("smtp_host", &self.smtp_host)
            .finish_non_exhaustive()
    }
}

/// What the provider is signed in with.
#[derive(Debug, Clone)]
pub enum LoginMethod {
    /// WhatsApp or Telegram: a QR code the user scans with the phone.
    QrCode,
    /// WhatsApp: a code the user types on the phone, for this number.
    PairingCode(PhoneNumber),
    /// LinkedIn, Instagram, Messenger, X.
    Credentials(Credentials),
    /// An IMAP mailbox.
    Mailbox(Box<Mailbox>),
    /// An IMAP mailbox reconnected: its passwords only (contract §8).
    MailboxPasswords {
        imap_password: SecretString,
        smtp_password: SecretString,
    },
}

impl LoginMethod {
    /// Completed on the phone (a scan, a typed pairing code), not by an answer of ours.
    pub fn waits_for_phone(&self) -> bool {
        matches!(self, Self::QrCode | Self::PairingCode(_))
    }
}

/// A new account, or one of the caller's reconnected with its same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginTarget {
    Create,
    Reconnect(AccountId),
}

/// What the browser sends besides the body, forwarded on LinkedIn logins (contract §12):
/// the user agent and the user's IPv4 address (Unipile places its proxy near it).
#[derive(Debug, Clone, Default)]
pub struct LoginHints {
    pub user_agent: Option<String>,
    pub ip: Option<std::net::Ipv4Addr>,
}

/// A parsed `POST /accounts/connect`.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub provider: Provider,
    pub method: LoginMethod,
    pub target: LoginTarget,
    /// "New code" for this waiting attempt: it starts again, and is not a second attempt.
    pub renew: Option<AccountId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginRequestError {
    #[error(
        "{0} accounts connect through Unipile's hosted page (their OAuth needs Unipile's own app): use POST /accounts/link"
    )]
    HostedOnly(String),
    #[error(
        "provider {0:?} cannot connect here; use one of WHATSAPP, TELEGRAM, LINKEDIN, INSTAGRAM, MESSENGER, TWITTER, MAIL"
    )]
    UnknownProvider(String),
    #[error("`{0}` is required for this provider")]
    Missing(&'static str),
    #[error("`{field}` does not apply to {provider}")]
    NotFor {
        field: &'static str,
        provider: String,
    },
    #[error(
        "`phone_number` is not a phone number: give it with its country code, such as +33 6 12 34 56 78"
    )]
    BadPhoneNumber,
    #[error("`{0}` must be a port number between 1 and 65535")]
    BadPort(&'static str),
    #[error("`{0}` must be a host name such as imap.example.com")]
    BadHost(&'static str),
    #[error("`{0}` must be an email address")]
    BadMailUser(&'static str),
    #[error("`imap_encryption` must be SSL, TLS or STARTTLS")]
    BadEncryption,
    #[error("`{0}` is empty or longer than {MAX_FIELD_LEN} characters")]
    BadLength(&'static str),
    #[error("`{0}`: {1}")]
    BadId(&'static str, IdError),
    #[error("`renew` and `reconnect_account` name different accounts")]
    RenewMismatch,
}

/// The longest value any field may hold: far above any real password or host name, and
/// short enough that nobody sends Unipile a megabyte through us.
pub const MAX_FIELD_LEN: usize = 512;

/// Providers the page may sign in here, as Unipile's custom authentication allows them.
pub const CUSTOM_AUTH_PROVIDERS: &[Provider] = &[
    Provider::Whatsapp,
    Provider::Telegram,
    Provider::Linkedin,
    Provider::Instagram,
    Provider::Messenger,
    Provider::Twitter,
    Provider::Mail,
];

fn secret(
    value: Option<SecretString>,
    field: &'static str,
) -> Result<SecretString, LoginRequestError> {
    let value = value.ok_or(LoginRequestError::Missing(field))?;
    let text = value.expose_secret();
    if text.is_empty() || text.chars().count() > MAX_FIELD_LEN {
        return Err(LoginRequestError::BadLength(field));
    }
    Ok(value)
}

fn text(value: Option<String>, field: &'static str) -> Result<String, LoginRequestError> {
    let value = value.ok_or(LoginRequestError::Missing(field))?;
    let value = value.trim().to_owned();
    if value.is_empty() || value.chars().count() > MAX_FIELD_LEN {
        return Err(LoginRequestError::BadLength(field));
    }
    Ok(value)
}

fn host(value: Option<String>, field: &'static str) -> Result<String, LoginRequestError> {
    let host = text(value, field)?.to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if host.len() > 253 || !host.contains('.') || !host.split('.').all(label_ok) {
        return Err(LoginRequestError::BadHost(field));
    }
    Ok(host)
}

fn port(value: Option<u32>, field: &'static str) -> Result<u16, LoginRequestError> {
    let port = value.ok_or(LoginRequestError::Missing(field))?;
    u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or(LoginRequestError::BadPort(field))
}

fn mail_user(value: String, field: &'static str) -> Result<String, LoginRequestError> {
    let looks_like_address = value
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !value.chars().any(char::is_whitespace);
    if looks_like_address {
        Ok(value)
    } else {
        Err(LoginRequestError::BadMailUser(field))
    }
}

fn encryption(value: Option<String>) -> Result<Option<MailEncryption>, LoginRequestError> {
    value
        .map(|v| match v.trim().to_ascii_uppercase().as_str() {
            "SSL" => Ok(MailEncryption::Ssl),
            "TLS" => Ok(MailEncryption::Tls),
            "STARTTLS" => Ok(MailEncryption::Starttls),
            _ => Err(LoginRequestError::BadEncryption),
        })
        .transpose()
}

impl LoginRequest {
    pub fn parse(body: ConnectBody) -> Result<Self, LoginRequestError> {
        let provider = Provider::from(body.provider.trim().to_ascii_uppercase());
        if matches!(
            provider,
            Provider::Google | Provider::GoogleOauth | Provider::Outlook
        ) {
            return Err(LoginRequestError::HostedOnly(provider.as_str().to_owned()));
        }
        if !CUSTOM_AUTH_PROVIDERS.contains(&provider) {
            return Err(LoginRequestError::UnknownProvider(body.provider));
        }
        let id = |raw: Option<String>, field| {
            raw.map(|r| AccountId::parse(r).map_err(|e| LoginRequestError::BadId(field, e)))
                .transpose()
        };
        let reconnect = id(body.reconnect_account.clone(), "reconnect_account")?;
        let renew = id(body.renew.clone(), "renew")?;
        if let (Some(reconnect), Some(renew)) = (&reconnect, &renew)
            && reconnect != renew
        {
            return Err(LoginRequestError::RenewMismatch);
        }
        let target = reconnect.map_or(LoginTarget::Create, LoginTarget::Reconnect);
        let method = Self::method(&provider, &target, body)?;
        if renew.is_some() && !method.waits_for_phone() {
            return Err(LoginRequestError::NotFor {
                field: "renew",
                provider: provider.as_str().to_owned(),
            });
        }
        Ok(Self {
            provider,
            method,
            target,
            renew,
        })
    }

    fn method(
        provider: &Provider,
        target: &LoginTarget,
        body: ConnectBody,
    ) -> Result<LoginMethod, LoginRequestError> {
        let ConnectBody {
            phone_number,
            username,
            password,
            email,
            recruiter_contract_id,
            imap_user,
            imap_password,
            imap_host,
            imap_port,
            imap_encryption,
            smtp_user,
            smtp_password,
            smtp_host,
            smtp_port,
            ..
        } = body;
        // Every field given, by name: what the provider does not take is refused by name.
        let given: [(&'static str, bool); 14] = [
            ("phone_number", phone_number.is_some()),
            ("username", username.is_some()),
            ("password", password.is_some()),
            ("email", email.is_some()),
            ("recruiter_contract_id", recruiter_contract_id.is_some()),
            ("imap_user", imap_user.is_some()),
            ("imap_password", imap_password.is_some()),
            ("imap_host", imap_host.is_some()),
            ("imap_port", imap_port.is_some()),
            ("imap_encryption", imap_encryption.is_some()),
            ("smtp_user", smtp_user.is_some()),
            ("smtp_password", smtp_password.is_some()),
            ("smtp_host", smtp_host.is_some()),
            ("smtp_port", smtp_port.is_some()),
        ];
        let mail_reconnect =
            *provider == Provider::Mail && matches!(target, LoginTarget::Reconnect(_));
        let takes: &[&str] = match provider {
            Provider::Whatsapp => &["phone_number"],
            Provider::Telegram => &[],
            Provider::Linkedin => &["username", "password", "recruiter_contract_id"],
            Provider::Twitter => &["username", "password", "email"],
            Provider::Instagram | Provider::Messenger => &["username", "password"],
            Provider::Mail if mail_reconnect => &["imap_password", "smtp_password"],
            _ => &[
                "imap_user",
                "imap_password",
                "imap_host",
                "imap_port",
                "imap_encryption",
                "smtp_user",
                "smtp_password",
                "smtp_host",
                "smtp_port",
            ],
        };
        if let Some((field, _)) = given.iter().find(|(f, g)| *g && !takes.contains(f)) {
            return Err(LoginRequestError::NotFor {
                field,
                provider: provider.as_str().to_owned(),
            });
        }
        Ok(match provider {
            Provider::Whatsapp => match phone_number {
                Some(raw) => LoginMethod::PairingCode(PhoneNumber::parse(raw.expose_secret())?),
                None => LoginMethod::QrCode,
            },
            Provider::Telegram => LoginMethod::QrCode,
            Provider::Mail if mail_reconnect => {
                let imap_password = secret(imap_password, "imap_password")?;
                let smtp_password = match smtp_password {
                    Some(p) => secret(Some(p), "smtp_password")?,
                    None => imap_password.clone(),
                };
                LoginMethod::MailboxPasswords {
                    imap_password,
                    smtp_password,
                }
            }
            Provider::Mail => {
                let imap_user = mail_user(text(imap_user, "imap_user")?, "imap_user")?;
                let imap_password = secret(imap_password, "imap_password")?;
                let smtp_user = match smtp_user {
                    Some(user) => mail_user(text(Some(user), "smtp_user")?, "smtp_user")?,
                    None => imap_user.clone(),
                };
                let smtp_password = match smtp_password {
                    Some(p) => secret(Some(p), "smtp_password")?,
                    None => imap_password.clone(),
                };
                LoginMethod::Mailbox(Box::new(Mailbox {
                    imap_host: host(imap_host, "imap_host")?,
                    imap_port: port(imap_port, "imap_port")?,
                    imap_encryption: encryption(imap_encryption)?,
                    smtp_host: host(smtp_host, "smtp_host")?,
                    smtp_port: port(smtp_port, "smtp_port")?,
                    imap_user,
                    imap_password,
                    smtp_user,
                    smtp_password,
                }))
            }
            _ => LoginMethod::Credentials(Credentials {
                username: secret(username, "username")?,
                password: secret(password, "password")?,
                email: email.map(|e| secret(Some(e), "email")).transpose()?,
                recruiter_contract_id: recruiter_contract_id
                    .map(|id| text(Some(id), "recruiter_contract_id"))
                    .transpose()?,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> ConnectBody {
        serde_json::from_value(json).expect("a body of our schema")
    }

    fn parse(json: serde_json::Value) -> Result<LoginRequest, LoginRequestError> {
        LoginRequest::parse(body(json))
    }

    #[test]
    fn phone_numbers_in_any_common_writing_become_e164_digits() {
        for raw in [
            "+33 6 12 34 56 78",
            "+33-612-345-678",
            "0033 612345678",
            "(+33) 6.12.34.56.78",
            "33612345678",
        ] {
            assert_eq!(PhoneNumber::parse(raw).expect(raw).expose(), "33612345678");
        }
        for bad in [
            "",
            "06 12 34 56 78",
            "+33 6 12 ab",
            "1234567",
            "+1234567890123456",
        ] {
            assert_eq!(
                PhoneNumber::parse(bad).map(|_| ()),
                Err(LoginRequestError::BadPhoneNumber),
                "{bad}"
            );
        }
        let phone = PhoneNumber::parse("+33 6 12 34 56 78").expect("phone");
        assert!(!format!("{phone:?}").contains("612"));
    }

    #[test]
    fn each_provider_takes_what_the_contract_says_and_nothing_else() {
        let qr = parse(serde_json::json!({"provider": "whatsapp"})).expect("qr");
        assert!(matches!(qr.method, LoginMethod::QrCode));
        assert_eq!(qr.provider, Provider::Whatsapp);
        let pairing =
            parse(serde_json::json!({"provider": "WHATSAPP", "phone_number": "+1 415 555 0100"}))
                .expect("pairing");
        assert!(matches!(pairing.method, LoginMethod::PairingCode(_)));
        let x = parse(serde_json::json!({"provider": "TWITTER", "username": "a", "password": "never-logged-pw", "email": "a@b.co"}))
            .expect("x");
        assert!(matches!(
            x.method,
            LoginMethod::Credentials(Credentials { email: Some(_), .. })
        ));
        let refused = parse(
            serde_json::json!({"provider": "INSTAGRAM", "username": "a", "password": "p", "email": "a@b.co"}),
        );
        assert_eq!(
            refused.map(|_| ()),
            Err(LoginRequestError::NotFor {
                field: "email",
                provider: "INSTAGRAM".into()
            })
        );
        assert_eq!(
            parse(serde_json::json!({"provider": "TELEGRAM", "phone_number": "+33612345678"}))
                .map(|_| ()),
            Err(LoginRequestError::NotFor {
                field: "phone_number",
                provider: "TELEGRAM".into()
            })
        );
        assert_eq!(
            parse(serde_json::json!({"provider": "LINKEDIN", "username": "a@b.co"})).map(|_| ()),
            Err(LoginRequestError::Missing("password"))
        );
    }

    #[test]
    fn google_and_outlook_point_to_the_hosted_page() {
        for provider in ["GOOGLE", "OUTLOOK", "GOOGLE_OAUTH"] {
            let error = parse(serde_json::json!({"provider": provider})).expect_err(provider);
            assert!(matches!(error, LoginRequestError::HostedOnly(_)));
            assert!(error.to_string().contains("/accounts/link"));
        }
        assert!(matches!(
            parse(serde_json::json!({"provider": "SLACK"})),
            Err(LoginRequestError::UnknownProvider(_))
        ));
    }

    #[test]
    fn a_mailbox_defaults_its_smtp_login_to_the_imap_one_and_checks_hosts_and_ports() {
        let request = parse(serde_json::json!({
            "provider": "MAIL", "imap_user": "ana@example.com", "imap_password": "never-logged-imap",
            "imap_host": "imap.example.com", "imap_port": 993, "smtp_host": "smtp.example.com",
            "smtp_port": 465, "imap_encryption": "ssl"
        }))
        .expect("mailbox");
        let LoginMethod::Mailbox(mailbox) = request.method else {
            panic!("a mailbox");
        };
        assert_eq!(mailbox.smtp_user, "ana@example.com");
        assert_eq!(mailbox.smtp_password.expose_secret(), "never-logged-imap");
        assert_eq!(mailbox.imap_encryption, Some(MailEncryption::Ssl));
        assert!(!format!("{mailbox:?}").contains("never-logged"));
        let base = serde_json::json!({
            "provider": "MAIL", "imap_user": "ana@example.com", "imap_password": "p",
            "imap_host": "imap.example.com", "imap_port": 993, "smtp_host": "smtp.example.com",
            "smtp_port": 465
        });
        let with = |field: &str, value: serde_json::Value| {
            let mut json = base.clone();
            json[field] = value;
            parse(json).map(|_| ())
        };
        assert_eq!(
            with("imap_port", 70000.into()),
            Err(LoginRequestError::BadPort("imap_port"))
        );
        assert_eq!(
            with("smtp_host", "smtp example".into()),
            Err(LoginRequestError::BadHost("smtp_host"))
        );
        assert_eq!(
            with("imap_user", "ana".into()),
            Err(LoginRequestError::BadMailUser("imap_user"))
        );
        assert_eq!(
            with("imap_encryption", "RC4".into()),
            Err(LoginRequestError::BadEncryption)
        );
    }

    #[test]
    fn a_mailbox_reconnect_takes_its_passwords_only() {
        let request = parse(serde_json::json!({
            "provider": "MAIL", "reconnect_account": "acc_1", "imap_password": "never-logged-2"
        }))
        .expect("reconnect");
        assert_eq!(
            request.target,
            LoginTarget::Reconnect(AccountId::parse("acc_1").expect("id"))
        );
        assert!(matches!(
            request.method,
            LoginMethod::MailboxPasswords { .. }
        ));
        assert!(matches!(
            parse(
                serde_json::json!({"provider": "MAIL", "reconnect_account": "acc_1", "imap_password": "p", "imap_host": "imap.example.com"})
            ),
            Err(LoginRequestError::NotFor {
                field: "imap_host",
                ..
            })
        ));
    }

    #[test]
    fn renew_is_for_codes_shown_on_the_phone_only() {
        let renew =
            parse(serde_json::json!({"provider": "TELEGRAM", "renew": "acc_9"})).expect("renew");
        assert_eq!(renew.renew, Some(AccountId::parse("acc_9").expect("id")));
        assert!(matches!(
            parse(
                serde_json::json!({"provider": "LINKEDIN", "username": "a", "password": "p", "renew": "acc_9"})
            ),
            Err(LoginRequestError::NotFor { field: "renew", .. })
        ));
        assert_eq!(
            parse(serde_json::json!({"provider": "TELEGRAM", "renew": "acc_9", "reconnect_account": "acc_8"}))
                .map(|_| ()),
            Err(LoginRequestError::RenewMismatch)
        );
    }

    #[test]
    fn errors_and_debug_never_quote_a_secret() {
        let raw = serde_json::json!({"provider": "LINKEDIN", "username": "never-logged-user", "password": "never-logged-pw"});
        let parsed = body(raw);
        assert!(!format!("{parsed:?}").contains("never-logged"));
        let request = LoginRequest::parse(parsed).expect("valid");
        assert!(!format!("{request:?}").contains("never-logged"));
        let long = "x".repeat(MAX_FIELD_LEN + 1);
        let error =
            parse(serde_json::json!({"provider": "LINKEDIN", "username": "u", "password": long}))
                .expect_err("too long");
        assert_eq!(error, LoginRequestError::BadLength("password"));
    }
}
