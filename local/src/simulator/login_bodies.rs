//! The bodies of a native (custom-auth) login, `POST /api/v1/accounts[/{id}]` without an
//! `access_token`, checked field by field against `unipile-custom-auth.md` (§2–§9, the
//! SDK-1.8 schemas): every provider's required fields, its optional ones and nothing else.
//! A body this accepts is one the real API accepts, which is the point of the simulator.

use serde_json::{Map, Value};

/// What the login needs from a checked body.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LoginBody {
    pub provider: String,
    /// The display name a new account gets.
    pub name: String,
    /// The password whose contents decide an unscripted login (`wrong` → refused); none for
    /// the QR providers.
    pub password: Option<String>,
    /// WhatsApp's pairing-code login, digits only.
    pub pairing_phone_number: Option<String>,
}

const WHATSAPP: &[&str] = &["provider", "pairing_phone_number", "disabled_features"];
const TELEGRAM: &[&str] = &["provider", "disabled_features"];
const LINKEDIN: &[&str] = &[
    "provider",
    "username",
    "password",
    "user_agent",
    "recruiter_contract_id",
    "proxy",
    "country",
    "ip",
    "disabled_features",
    "sync_limit",
];
const INSTAGRAM: &[&str] = &[
    "provider",
    "username",
    "password",
    "user_agent",
    "sync_limit",
    "disabled_features",
];
const MESSENGER: &[&str] = &[
    "provider",
    "username",
    "password",
    "sync_limit",
    "disabled_features",
];
const TWITTER: &[&str] = &[
    "provider",
    "username",
    "password",
    "email",
    "disabled_features",
];
const MAIL: &[&str] = &[
    "provider",
    "imap_user",
    "smtp_user",
    "imap_password",
    "smtp_password",
    "imap_host",
    "imap_port",
    "smtp_host",
    "smtp_port",
    "imap_encryption",
    "sync_limit",
    "disabled_features",
];
/// A MAIL reconnect may send the passwords alone (SDK-1.8 `AccountReconnectImapMailBodySchema`).
const MAIL_PASSWORDS: &[&str] = &["provider", "imap_password", "smtp_password"];

type Object = Map<String, Value>;

fn only(object: &Object, allowed: &[&str]) -> Result<(), String> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(format!("unknown field {unknown}")),
        None => Ok(()),
    }
}

fn text<'a>(object: &'a Object, field: &str) -> Result<&'a str, String> {
    object
        .get(field)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or(format!("{field} is required"))
}

/// An optional string: absent, or a string (not `null`, not a number).
fn optional_text<'a>(object: &'a Object, field: &str) -> Result<Option<&'a str>, String> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(v)) => Ok(Some(v)),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

/// `\S+@\S+`: what Unipile takes for an e-mail address.
fn is_email(text: &str) -> bool {
    text.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && !domain.is_empty() && !text.chars().any(char::is_whitespace)
    })
}

/// SDK-1.8's LinkedIn `username`: `/(^\S+@\S+$)|(^\+?(\d|\s)+$)/`, an e-mail or a phone.
fn is_linkedin_username(text: &str) -> bool {
    let phone = text.strip_prefix('+').unwrap_or(text);
    is_email(text)
        || (!phone.is_empty()
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_whitespace()))
}

fn check_disabled_features(object: &Object) -> Result<(), String> {
    match object.get("disabled_features") {
        None => Ok(()),
        Some(Value::Array(list)) if list.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err("disabled_features must be a list of strings".into()),
    }
}

/// `sync_limit` of the messaging providers: `{chats?, messages?}`, each an ISO date-time or a
/// number ≥ 0.
fn check_messaging_sync_limit(object: &Object) -> Result<(), String> {
    let Some(limit) = object.get("sync_limit") else {
        return Ok(());
    };
    let limit = limit
        .as_object()
        .ok_or("sync_limit must be {chats?, messages?}")?;
    only(limit, &["chats", "messages"]).map_err(|e| format!("sync_limit: {e}"))?;
    for (field, value) in limit {
        let ok = match value {
            Value::Number(n) => n.as_f64().is_some_and(|n| n >= 0.0),
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "sync_limit.{field} must be an ISO date-time or a number >= 0"
            ));
        }
    }
    Ok(())
}

fn check_proxy(object: &Object) -> Result<(), String> {
    let Some(proxy) = object.get("proxy") else {
        return Ok(());
    };
    let proxy = proxy
        .as_object()
        .ok_or("proxy must be {protocol?, host, port, username?, password?}")?;
    only(proxy, &["protocol", "host", "port", "username", "password"])
        .map_err(|e| format!("proxy: {e}"))?;
    let protocol = optional_text(proxy, "protocol")?;
    if protocol.is_some_and(|p| !["http", "https", "socks5"].contains(&p)) {
        return Err("proxy.protocol must be http, https or socks5".into());
    }
    text(proxy, "host").map_err(|e| format!("proxy.{e}"))?;
    port(proxy, "port").map_err(|e| format!("proxy.{e}"))?;
    optional_text(proxy, "username")?;
    optional_text(proxy, "password")?;
    Ok(())
}

/// A port: a JSON integer in 1..=65535 (a string does not do).
fn port(object: &Object, field: &str) -> Result<u16, String> {
    object
        .get(field)
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or(format!("{field} must be a port number (1-65535)"))
}

fn linkedin(object: &Object) -> Result<LoginBody, String> {
    only(object, LINKEDIN)?;
    let username = text(object, "username")?;
    if !is_linkedin_username(username) {
        return Err("username must be an e-mail address or a phone number".into());
    }
    let password = text(object, "password")?;
    optional_text(object, "user_agent")?;
    optional_text(object, "recruiter_contract_id")?;
    let country = optional_text(object, "country")?;
    if country.is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic())) {
        return Err("country must be an ISO 3166-1 alpha-2 code".into());
    }
    if let Some(ip) = optional_text(object, "ip")? {
        ip.parse::<std::net::Ipv4Addr>()
            .map_err(|_| "ip must be an IPv4 address")?;
    }
    check_proxy(object)?;
    check_messaging_sync_limit(object)?;
    Ok(LoginBody {
        provider: "LINKEDIN".into(),
        name: "LinkedIn member (simulated)".into(),
        password: Some(password.to_owned()),
        pairing_phone_number: None,
    })
}

/// INSTAGRAM, MESSENGER and TWITTER: a username and a password, named after the username.
fn username_login(object: &Object, provider: &str, allowed: &[&str]) -> Result<LoginBody, String> {
    only(object, allowed)?;
    let username = text(object, "username")?;
    let password = text(object, "password")?;
    optional_text(object, "user_agent")?;
    if optional_text(object, "email")?.is_some_and(|email| !is_email(email)) {
        return Err("email must be an e-mail address".into());
    }
    check_messaging_sync_limit(object)?;
    Ok(LoginBody {
        provider: provider.into(),
        name: username.to_owned(),
        password: Some(password.to_owned()),
        pairing_phone_number: None,
    })
}

fn mail(object: &Object, reconnect: bool) -> Result<LoginBody, String> {
    let passwords_only = reconnect && object.keys().all(|k| MAIL_PASSWORDS.contains(&k.as_str()));
    if passwords_only {
        let imap_password = text(object, "imap_password")?;
        text(object, "smtp_password")?;
        return Ok(LoginBody {
            provider: "MAIL".into(),
            name: String::new(),
            password: Some(imap_password.to_owned()),
            pairing_phone_number: None,
        });
    }
    only(object, MAIL)?;
    let imap_user = text(object, "imap_user")?;
    for user in ["imap_user", "smtp_user"] {
        if !is_email(text(object, user)?) {
            return Err(format!("{user} must be an e-mail address"));
        }
    }
    let imap_password = text(object, "imap_password")?;
    text(object, "smtp_password")?;
    text(object, "imap_host")?;
    text(object, "smtp_host")?;
    port(object, "imap_port")?;
    port(object, "smtp_port")?;
    if let Some(encryption) = optional_text(object, "imap_encryption")? {
        let known = ["SSL", "TLS", "STARTTLS", "DEFAULT"];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(encryption)) {
            return Err("imap_encryption must be SSL, TLS, STARTTLS or default".into());
        }
    }
    match object.get("sync_limit") {
        None => {}
        Some(Value::String(s)) if s == "NO_HISTORY_SYNC" => {}
        Some(_) => return Err("sync_limit must be NO_HISTORY_SYNC".into()),
    }
    Ok(LoginBody {
        provider: "MAIL".into(),
        name: imap_user.to_owned(),
        password: Some(imap_password.to_owned()),
        pairing_phone_number: None,
    })
}

fn whatsapp(object: &Object) -> Result<LoginBody, String> {
    only(object, WHATSAPP)?;
    let phone = match object.get("pairing_phone_number") {
        None => None,
        Some(Value::String(digits))
            if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(digits.clone())
        }
        Some(_) => {
            return Err("pairing_phone_number must be E.164 digits only (8 to 15, no +)".into());
        }
    };
    Ok(LoginBody {
        provider: "WHATSAPP".into(),
        // Not the number paired: the contract does not say how Unipile names the account, and
        // an answer free of the typed number lets the test run's log scan tell whether the
        // bundle itself ever wrote it anywhere.
        name: "WhatsApp (simulated)".into(),
        password: None,
        pairing_phone_number: phone,
    })
}

/// Checks a native-login body; `reconnect` allows MAIL's passwords-only form.
pub(super) fn parse(body: &Value, reconnect: bool) -> Result<LoginBody, String> {
    let object = body.as_object().ok_or("body must be a JSON object")?;
    let provider = object
        .get("provider")
        .and_then(Value::as_str)
        .ok_or("provider is required")?;
    let login = match provider {
        "WHATSAPP" => whatsapp(object),
        "TELEGRAM" => only(object, TELEGRAM).map(|()| LoginBody {
            provider: "TELEGRAM".into(),
            name: "Telegram (simulated)".into(),
            password: None,
            pairing_phone_number: None,
        }),
        "LINKEDIN" => linkedin(object),
        "INSTAGRAM" => username_login(object, provider, INSTAGRAM),
        "MESSENGER" => username_login(object, provider, MESSENGER),
        "TWITTER" => username_login(object, provider, TWITTER),
        "MAIL" => mail(object, reconnect),
        "GOOGLE_OAUTH" | "OUTLOOK" => Err(format!(
            "the simulator does not take {provider} token logins"
        )),
        other => Err(format!("unknown provider {other}")),
    }?;
    check_disabled_features(object)?;
    Ok(login)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full_bodies() -> Vec<Value> {
        vec![
            json!({"provider": "WHATSAPP", "disabled_features": ["linkedin_recruiter"]}),
            json!({"provider": "WHATSAPP", "pairing_phone_number": "33612345678"}),
            json!({"provider": "TELEGRAM", "disabled_features": []}),
            json!({"provider": "LINKEDIN", "username": "ada@example.com", "password": "pw",
                "user_agent": "Mozilla/5.0", "recruiter_contract_id": "123", "country": "FR",
                "ip": "203.0.113.7", "disabled_features": [],
                "proxy": {"protocol": "https", "host": "proxy.example", "port": 8443,
                    "username": "u", "password": "p"},
                "sync_limit": {"chats": 10, "messages": "2026-01-01T00:00:00.000Z"}}),
            json!({"provider": "LINKEDIN", "username": "+33 6 12 34 56 78", "password": "pw"}),
            json!({"provider": "INSTAGRAM", "username": "ada", "password": "pw",
                "user_agent": "Mozilla/5.0", "sync_limit": {"chats": 0}, "disabled_features": []}),
            json!({"provider": "MESSENGER", "username": "ada", "password": "pw",
                "sync_limit": {"messages": 5}}),
            json!({"provider": "TWITTER", "username": "ada", "password": "pw"}),
            json!({"provider": "TWITTER", "username": "ada", "password": "pw",
                "email": "ada@example.com", "disabled_features": []}),
            mail_body(),
        ]
    }

    fn mail_body() -> Value {
        json!({"provider": "MAIL", "imap_user": "ada@example.com", "smtp_user": "ada@example.com",
            "imap_password": "pw", "smtp_password": "pw", "imap_host": "imap.example.com",
            "imap_port": 993, "smtp_host": "smtp.example.com", "smtp_port": 465,
            "imap_encryption": "ssl", "sync_limit": "NO_HISTORY_SYNC", "disabled_features": []})
    }

    #[test]
    fn every_provider_body_is_accepted_and_an_invented_field_refused() {
        for body in full_bodies() {
            let provider = body["provider"].as_str().expect("provider").to_owned();
            let login = parse(&body, false).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(login.provider, provider);
            let mut invented = body.clone();
            invented["name"] = json!("Ada");
            assert_eq!(
                parse(&invented, false),
                Err("unknown field name".to_owned()),
                "{provider}"
            );
        }
    }

    #[test]
    fn a_missing_required_field_is_refused() {
        for (body, field) in [
            (
                json!({"provider": "LINKEDIN", "password": "pw"}),
                "username",
            ),
            (
                json!({"provider": "LINKEDIN", "username": "a@b.c"}),
                "password",
            ),
            (
                json!({"provider": "INSTAGRAM", "username": "ada"}),
                "password",
            ),
            (
                json!({"provider": "MESSENGER", "password": "pw"}),
                "username",
            ),
            (
                json!({"provider": "TWITTER", "username": "ada"}),
                "password",
            ),
            (json!({"username": "ada", "password": "pw"}), "provider"),
        ] {
            assert_eq!(parse(&body, false), Err(format!("{field} is required")));
        }
        for field in [
            "imap_user",
            "smtp_user",
            "imap_password",
            "smtp_password",
            "imap_host",
            "smtp_host",
        ] {
            let mut body = mail_body();
            body.as_object_mut().expect("object").remove(field);
            assert_eq!(parse(&body, false), Err(format!("{field} is required")));
        }
        for field in ["imap_port", "smtp_port"] {
            let mut body = mail_body();
            body.as_object_mut().expect("object").remove(field);
            assert!(parse(&body, false).expect_err(field).starts_with(field));
        }
    }

    #[test]
    fn values_out_of_shape_are_refused() {
        let refused = [
            json!({"provider": "WHATSAPP", "pairing_phone_number": "+33612345678"}),
            json!({"provider": "WHATSAPP", "pairing_phone_number": "1234567"}),
            json!({"provider": "WHATSAPP", "pairing_phone_number": "1234567890123456"}),
            json!({"provider": "WHATSAPP", "pairing_phone_number": 33612345678_u64}),
            json!({"provider": "LINKEDIN", "username": "ada lovelace", "password": "pw"}),
            json!({"provider": "LINKEDIN", "username": "a@b.c", "password": "pw", "country": "FRA"}),
            json!({"provider": "LINKEDIN", "username": "a@b.c", "password": "pw", "ip": "::1"}),
            json!({"provider": "LINKEDIN", "username": "a@b.c", "password": "pw",
                "proxy": {"host": "p.example", "port": "8080"}}),
            json!({"provider": "INSTAGRAM", "username": "ada", "password": "pw",
                "sync_limit": {"chats": -1}}),
            json!({"provider": "TWITTER", "username": "ada", "password": "pw", "email": "ada"}),
            json!({"provider": "TELEGRAM", "disabled_features": "all"}),
            json!({"provider": "GOOGLE_OAUTH", "access_token": "a", "refresh_token": "r"}),
            json!({"provider": "OUTLOOK"}),
            json!({"provider": "SLACK"}),
        ];
        for body in refused {
            assert!(parse(&body, false).is_err(), "{body}");
        }
        for (field, value) in [
            ("imap_port", json!("993")),
            ("smtp_port", json!(0)),
            ("imap_port", json!(65536)),
            ("imap_user", json!("ada")),
            ("imap_encryption", json!("SSLv3")),
            ("sync_limit", json!({"chats": 1})),
        ] {
            let mut body = mail_body();
            body[field] = value;
            assert!(parse(&body, false).is_err(), "{field}");
        }
        for encryption in ["SSL", "tls", "StartTLS", "default"] {
            let mut body = mail_body();
            body["imap_encryption"] = json!(encryption);
            assert!(parse(&body, false).is_ok(), "{encryption}");
        }
    }

    #[test]
    fn a_mail_reconnect_may_send_the_passwords_alone() {
        let passwords = json!({"provider": "MAIL", "imap_password": "a", "smtp_password": "b"});
        let login = parse(&passwords, true).expect("passwords only");
        assert_eq!(login.password.as_deref(), Some("a"));
        // On a create the full body is required.
        assert!(parse(&passwords, false).is_err());
        assert!(parse(&mail_body(), true).is_ok());
        let half = json!({"provider": "MAIL", "imap_password": "a"});
        assert_eq!(
            parse(&half, true),
            Err("smtp_password is required".to_owned())
        );
    }

    #[test]
    fn accounts_are_named_as_the_provider_shows_them() {
        let names: Vec<String> = full_bodies()
            .iter()
            .map(|b| parse(b, false).expect("accepted").name)
            .collect();
        assert_eq!(
            names,
            [
                "WhatsApp (simulated)",
                "WhatsApp (simulated)",
                "Telegram (simulated)",
                "LinkedIn member (simulated)",
                "LinkedIn member (simulated)",
                "ada",
                "ada",
                "ada",
                "ada",
                "ada@example.com",
            ]
        );
    }
}
