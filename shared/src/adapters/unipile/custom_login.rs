//! Custom authentication over HTTP (custom-auth contract §1–§8): the provider's body on
//! `POST /api/v1/accounts[/{id}]`, a checkpoint's answer, a resend. Each is sent once and only
//! with the time a login takes left: a repeated start could make a second account, and a
//! repeated one-time code is refused the second time.

use super::client::{HttpUnipile, read};
use crate::deadline;
use crate::domain::checkpoint::CheckpointCode;
use crate::domain::custom_login::{LoginMethod, LoginTarget};
use crate::domain::login_attempt::{ContractOption, LoginCheckpoint};
use crate::domain::unipile_error::UnipileError;
use crate::domain::{AccountId, Provider};
use crate::ports::{COOKIE_LOGIN_TIME, CustomLogin, LoginOutcome};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// `AccountCreated` / `AccountReconnected` / `Checkpoint`, read leniently: Unipile owns it.
#[derive(Debug, Deserialize)]
struct LoginAnswer {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    checkpoint: Option<CheckpointAnswer>,
}

#[derive(Debug, Deserialize)]
struct CheckpointAnswer {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    qrcode: Option<String>,
    /// Where the WhatsApp pairing code is is not confirmed (contract §3): `code` or
    /// `pairing_code`, whichever comes.
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    pairing_code: Option<String>,
    #[serde(default)]
    contract_options: Vec<ContractAnswer>,
}

#[derive(Debug, Deserialize)]
struct ContractAnswer {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    name: Option<String>,
}

/// The body Unipile takes for `login` (custom-auth contract §2–§8). Only what the contract
/// confirms for the provider is sent.
fn login_body(login: &CustomLogin) -> Value {
    let mut body = Map::new();
    body.insert("provider".into(), json!(login.provider.as_str()));
    let mut put = |field: &str, value: &str| {
        body.insert(field.into(), Value::String(value.to_owned()));
    };
    match &login.method {
        LoginMethod::QrCode => {}
        LoginMethod::PairingCode(phone) => put("pairing_phone_number", phone.expose()),
        LoginMethod::Credentials(credentials) => {
            put("username", credentials.username.expose_secret());
            put("password", credentials.password.expose_secret());
            if let Some(email) = &credentials.email {
                put("email", email.expose_secret());
            }
            if let Some(contract) = &credentials.recruiter_contract_id {
                put("recruiter_contract_id", contract);
            }
            // The browser's user agent keeps the session from looking foreign (contract
            // §2, §5); the IPv4 address places LinkedIn's proxy near the user (§12).
            if matches!(login.provider, Provider::Linkedin | Provider::Instagram)
                && let Some(agent) = &login.hints.user_agent
            {
                put("user_agent", agent);
            }
            if login.provider == Provider::Linkedin
                && let Some(ip) = login.hints.ip
            {
                put("ip", &ip.to_string());
            }
        }
        LoginMethod::Mailbox(mailbox) => {
            put("imap_user", &mailbox.imap_user);
            put("imap_password", mailbox.imap_password.expose_secret());
            put("imap_host", &mailbox.imap_host);
            put("smtp_user", &mailbox.smtp_user);
            put("smtp_password", mailbox.smtp_password.expose_secret());
            put("smtp_host", &mailbox.smtp_host);
            if let Some(encryption) = mailbox.imap_encryption {
                put("imap_encryption", encryption.as_str());
            }
            body.insert("imap_port".into(), json!(mailbox.imap_port));
            body.insert("smtp_port".into(), json!(mailbox.smtp_port));
        }
        LoginMethod::MailboxPasswords {
            imap_password,
            smtp_password,
        } => {
            put("imap_password", imap_password.expose_secret());
            put("smtp_password", smtp_password.expose_secret());
        }
    }
    Value::Object(body)
}

fn checkpoint_of(answer: CheckpointAnswer) -> LoginCheckpoint {
    let pairing_code = answer
        .pairing_code
        .or(answer.code)
        .filter(|c| !c.is_empty());
    LoginCheckpoint {
        kind: answer.kind.map(Into::into),
        source: answer.source.filter(|s| !s.is_empty()),
        qrcode: answer.qrcode.filter(|q| !q.is_empty()),
        pairing_code,
        contract_options: answer
            .contract_options
            .into_iter()
            .filter_map(|option| {
                let id = match option.id? {
                    Value::String(id) => id,
                    Value::Number(id) => id.to_string(),
                    _ => return None,
                };
                Some(ContractOption {
                    name: option.name.unwrap_or_else(|| id.clone()),
                    id,
                })
            })
            .collect(),
    }
}

/// Unipile's answer to a login or a checkpoint's answer, dispatched on `object`.
async fn login_outcome(
    response: reqwest::Response,
    known: Option<&AccountId>,
) -> Result<LoginOutcome, UnipileError> {
    let answer: LoginAnswer = read(response).await?;
    let account_id = answer
        .account_id
        .map(AccountId::parse)
        .transpose()
        .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))?
        .or_else(|| known.cloned());
    match (answer.object.as_deref(), account_id) {
        (Some("AccountCreated" | "AccountReconnected"), Some(id)) => {
            Ok(LoginOutcome::Connected(id))
        }
        (Some("Checkpoint"), Some(account_id)) => Ok(LoginOutcome::Checkpoint {
            account_id,
            checkpoint: answer.checkpoint.map(checkpoint_of).unwrap_or_default(),
        }),
        (object, _) => Err(UnipileError::UnexpectedResponse(format!(
            "a login answered object {object:?} without an account id"
        ))),
    }
}

impl HttpUnipile {
    async fn send_once(
        &self,
        what: &'static str,
        segments: &[&str],
        body: &Value,
    ) -> Result<reqwest::Response, UnipileError> {
        if !deadline::allows(COOKIE_LOGIN_TIME) {
            tracing::warn!(call = what, "not sent: too little time left");
            return Err(UnipileError::OutOfTime(what));
        }
        self.request(Method::POST, segments)
            .timeout(COOKIE_LOGIN_TIME.max(self.timeout()))
            .json(body)
            .send()
            .await
            .map_err(|e| UnipileError::Transport(e.without_url().to_string()))
    }

    pub(super) async fn custom_start(
        &self,
        target: &LoginTarget,
        login: &CustomLogin,
    ) -> Result<LoginOutcome, UnipileError> {
        let body = login_body(login);
        let (segments, known) = match target {
            LoginTarget::Create => (vec!["accounts"], None),
            LoginTarget::Reconnect(id) => (vec!["accounts", id.as_str()], Some(id)),
        };
        let response = self.send_once("start_login", &segments, &body).await?;
        login_outcome(response, known).await
    }

    pub(super) async fn custom_solve(
        &self,
        provider: &Provider,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<LoginOutcome, UnipileError> {
        let body = json!({
            "provider": provider.as_str(),
            "account_id": account_id.as_str(),
            "code": code.expose(),
        });
        let response = self
            .send_once("solve_login_checkpoint", &["accounts", "checkpoint"], &body)
            .await?;
        login_outcome(response, Some(account_id)).await
    }

    pub(super) async fn custom_resend(
        &self,
        provider: &Provider,
        account_id: &AccountId,
    ) -> Result<(), UnipileError> {
        let body = json!({"provider": provider.as_str(), "account_id": account_id.as_str()});
        let response = self
            .send_once(
                "resend_login_checkpoint",
                &["accounts", "checkpoint", "resend"],
                &body,
            )
            .await?;
        read::<Value>(response).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::custom_login::{ConnectBody, LoginHints, LoginRequest};

    fn login(json: Value) -> CustomLogin {
        let body: ConnectBody = serde_json::from_value(json).expect("body");
        let request = LoginRequest::parse(body).expect("valid");
        CustomLogin {
            provider: request.provider,
            method: request.method,
            hints: LoginHints {
                user_agent: Some("Mozilla/5.0 test".into()),
                ip: Some("203.0.113.7".parse().expect("ip")),
            },
        }
    }

    #[test]
    fn bodies_carry_unipile_s_own_field_names() {
        assert_eq!(
            login_body(&login(
                json!({"provider": "WHATSAPP", "phone_number": "+33 6 12 34 56 78"})
            )),
            json!({"provider": "WHATSAPP", "pairing_phone_number": "33612345678"})
        );
        assert_eq!(
            login_body(&login(
                json!({"provider": "LINKEDIN", "username": "a@b.co", "password": "pw"})
            )),
            json!({"provider": "LINKEDIN", "username": "a@b.co", "password": "pw",
                   "user_agent": "Mozilla/5.0 test", "ip": "203.0.113.7"})
        );
        assert_eq!(
            login_body(&login(
                json!({"provider": "MESSENGER", "username": "a", "password": "pw"})
            )),
            json!({"provider": "MESSENGER", "username": "a", "password": "pw"})
        );
        assert_eq!(
            login_body(&login(
                json!({"provider": "MAIL", "imap_user": "a@b.co", "imap_password": "pw",
                "imap_host": "imap.b.co", "imap_port": 993, "smtp_host": "smtp.b.co", "smtp_port": 465})
            )),
            json!({"provider": "MAIL", "imap_user": "a@b.co", "imap_password": "pw", "imap_host": "imap.b.co",
                   "imap_port": 993, "smtp_user": "a@b.co", "smtp_password": "pw", "smtp_host": "smtp.b.co",
                   "smtp_port": 465})
        );
    }

    #[test]
    fn a_pairing_code_is_read_from_either_field_and_contracts_keep_their_ids() {
        let read = |json: Value| checkpoint_of(serde_json::from_value(json).expect("checkpoint"));
        assert_eq!(
            read(json!({"type": "PAIRING", "code": "ABCD-1234"}))
                .pairing_code
                .as_deref(),
            Some("ABCD-1234")
        );
        assert_eq!(
            read(json!({"type": "X", "pairing_code": "WXYZ"}))
                .pairing_code
                .as_deref(),
            Some("WXYZ")
        );
        let chooser = read(
            json!({"type": "CONTRACT_CHOOSER", "contract_options": [{"id": 42, "name": "Team"}, {"name": "no id"}]}),
        );
        assert_eq!(
            chooser.contract_options,
            vec![ContractOption {
                id: "42".into(),
                name: "Team".into()
            }]
        );
    }
}
