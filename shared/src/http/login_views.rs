//! What the custom-auth routes answer: the step the sign-in is at, in the words the page
//! needs, with a QR code the page can show at once (an SVG drawn here by the `qrcode` crate,
//! as a data URL for an `<img>`: no script of ours runs in it).

use crate::domain::login_attempt::{ContractOption, LoginCheckpoint};
use crate::flows::custom_login::{LoginStep, LoginWait};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct LoginStepView {
    pub status: &'static str,
    pub account_id: String,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointStepView>,
}

#[derive(Debug, Serialize)]
pub struct CheckpointStepView {
    /// Unipile's word (`QRCODE`, `2FA`, `OTP`, `IN_APP_VALIDATION`, `PHONE_REGISTER`...).
    #[serde(rename = "type")]
    pub kind: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qrcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qrcode_svg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairing_code: Option<String>,
    /// `2FA`: `SMS` or `APP`, when Unipile says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub can_resend: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contract_options: Vec<ContractOption>,
}

#[derive(Debug, Serialize)]
pub struct LoginWaitView {
    pub status: &'static str,
    pub account_id: String,
}

impl LoginWaitView {
    pub fn new(wait: LoginWait, account_id: &crate::domain::AccountId) -> Self {
        Self {
            status: wait.as_str(),
            account_id: account_id.to_string(),
        }
    }
}

/// `POST /accounts/connect/resend`'s answer: the code is on its way; the sign-in still ends
/// when it did.
#[derive(Debug, Serialize)]
pub struct CodeSentView {
    pub status: &'static str,
    pub account_id: String,
    pub expires_at: String,
}

impl CodeSentView {
    pub fn new(account_id: &crate::domain::AccountId, expires_at: DateTime<Utc>) -> Self {
        Self {
            status: "code_sent",
            account_id: account_id.to_string(),
            expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

/// The HTTP status a step answers with: 201 connected, 202 waiting at a checkpoint.
pub fn step_status(step: &LoginStep) -> u16 {
    match step {
        LoginStep::Connected { .. } => 201,
        LoginStep::Checkpoint { .. } => 202,
    }
}

impl From<&LoginStep> for LoginStepView {
    fn from(step: &LoginStep) -> Self {
        match step {
            LoginStep::Connected {
                account_id,
                provider,
            } => Self {
                status: "connected",
                account_id: account_id.to_string(),
                provider: provider.to_string(),
                checkpoint: None,
            },
            LoginStep::Checkpoint {
                account_id,
                provider,
                checkpoint,
                expires_at,
                can_resend,
            } => Self {
                status: "checkpoint",
                account_id: account_id.to_string(),
                provider: provider.to_string(),
                checkpoint: Some(checkpoint_view(checkpoint, *expires_at, *can_resend)),
            },
        }
    }
}

fn checkpoint_view(
    checkpoint: &LoginCheckpoint,
    expires_at: DateTime<Utc>,
    can_resend: bool,
) -> CheckpointStepView {
    CheckpointStepView {
        kind: checkpoint.kind().to_string(),
        expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        qrcode_svg: checkpoint.qrcode.as_deref().and_then(qr_data_url),
        qrcode: checkpoint.qrcode.clone(),
        pairing_code: checkpoint.pairing_code.clone(),
        source: checkpoint.source.clone(),
        can_resend,
        contract_options: checkpoint.contract_options.clone(),
    }
}

/// The QR code of `text` as an SVG data URL, with a quiet zone; `None` when the text is too
/// long for any QR code (the page then draws it itself, or shows the text).
pub fn qr_data_url(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Some(format!("data:image/svg+xml;base64,{}", B64.encode(svg)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;
    use crate::domain::Provider;

    #[test]
    fn a_qr_checkpoint_carries_its_text_and_an_svg_the_page_shows_at_once() {
        let step = LoginStep::Checkpoint {
            account_id: AccountId::parse("acc_1").expect("id"),
            provider: Provider::Whatsapp,
            checkpoint: LoginCheckpoint {
                kind: Some("QRCODE".into()),
                qrcode: Some("2@abc,def,ghi".into()),
                ..LoginCheckpoint::default()
            },
            expires_at: DateTime::parse_from_rfc3339("2026-12-07T12:01:00Z")
                .expect("date")
                .with_timezone(&Utc),
            can_resend: false,
        };
        let json = serde_json::to_value(LoginStepView::from(&step)).expect("json");
        assert_eq!(json["status"], "checkpoint");
        assert_eq!(json["checkpoint"]["type"], "QRCODE");
        assert_eq!(json["checkpoint"]["qrcode"], "2@abc,def,ghi");
        assert_eq!(json["checkpoint"]["expires_at"], "2026-12-07T12:01:00Z");
        let url = json["checkpoint"]["qrcode_svg"].as_str().expect("svg");
        let svg = B64
            .decode(url.trim_start_matches("data:image/svg+xml;base64,"))
            .expect("base64");
        assert!(String::from_utf8_lossy(&svg).contains("<svg"));
        assert_eq!(step_status(&step), 202);
    }
}
