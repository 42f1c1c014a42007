//! A LinkedIn verification (Unipile's "checkpoint", contract §4c) that stopped a cookie login,
//! and the user's answer to it.

use super::{IdError, LinkedinMemberId};
use crate::open_string_enum;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

open_string_enum!(
    /// What LinkedIn asks for (`checkpoint.type`).
    CheckpointKind {
        /// A code from an authenticator app (or SMS, `source`).
        TwoFactor => "2FA",
        /// A one-time code LinkedIn sent.
        Otp => "OTP",
        /// An approval in the LinkedIn mobile app: no code to send.
        InAppValidation => "IN_APP_VALIDATION",
        PhoneRegister => "PHONE_REGISTER",
        Captcha => "CAPTCHA",
        QrCode => "QRCODE",
        ContractChooser => "CONTRACT_CHOOSER",
    }
);

impl CheckpointKind {
    /// The user answers with a code they type (or a phone number, a contract id): everything
    /// but an approval in the app, which is awaited instead.
    pub fn takes_code(&self) -> bool {
        !matches!(self, Self::InAppValidation)
    }
}

/// How long Unipile keeps a login waiting at a checkpoint: about 5 minutes (contract §4c,
/// [S]). Past it the login is over and the next sync starts a new one.
pub const CHECKPOINT_WINDOW: Duration = Duration::minutes(5);

/// A checkpoint a cookie login is waiting at, and until when it can be solved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingCheckpoint {
    pub kind: CheckpointKind,
    pub expires_at: DateTime<Utc>,
}

impl WaitingCheckpoint {
    /// The checkpoint Unipile answered with at `answered_at`.
    pub fn opened(kind: CheckpointKind, answered_at: DateTime<Utc>) -> Self {
        Self {
            kind,
            expires_at: answered_at + CHECKPOINT_WINDOW,
        }
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// What the user typed for a checkpoint: a code, `TRY_ANOTHER_WAY` (switches the method), a
/// phone number written `(+33)0612345678`, or a contract id. Never logged: a live one-time code
/// is a credential for a few minutes.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckpointCode(String);

impl std::fmt::Debug for CheckpointCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckpointCode(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointCodeError {
    #[error("code is empty")]
    Empty,
    #[error("code is longer than {MAX_CODE_LEN} characters")]
    TooLong,
    #[error(
        "code may hold only letters, digits, spaces and + ( ) - _ (a code, a phone number such as (+33)0612345678, or TRY_ANOTHER_WAY)"
    )]
    BadCharacter,
}

const MAX_CODE_LEN: usize = 64;

impl CheckpointCode {
    /// Switches the checkpoint to another method (contract §4c).
    pub const TRY_ANOTHER_WAY: &'static str = "TRY_ANOTHER_WAY";

    pub fn parse(raw: &str) -> Result<Self, CheckpointCodeError> {
        let code = raw.trim();
        if code.is_empty() {
            return Err(CheckpointCodeError::Empty);
        }
        if code.chars().count() > MAX_CODE_LEN {
            return Err(CheckpointCodeError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || " +()-_".contains(c);
        if !code.chars().all(allowed) {
            return Err(CheckpointCodeError::BadCharacter);
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as Unipile takes it: only for the request body.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn switches_method(&self) -> bool {
        self.0 == Self::TRY_ANOTHER_WAY
    }
}

/// `POST /extension/checkpoint`. Our schema: unknown fields are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointBody {
    pub linkedin_member_id: String,
    #[serde(default)]
    pub code: Option<String>,
}

impl std::fmt::Debug for CheckpointBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointBody")
            .field("linkedin_member_id", &self.linkedin_member_id)
            .finish_non_exhaustive()
    }
}

/// What the user sends for a checkpoint: the code they typed, or nothing (they approve the
/// sign-in in the LinkedIn app, and the extension asks whether that happened).
#[derive(Debug, Clone)]
pub enum CheckpointAnswer {
    Code(CheckpointCode),
    AwaitApproval,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointRequestError {
    #[error("`linkedin_member_id`: {0}")]
    BadMemberId(IdError),
    #[error("`code`: {0}")]
    BadCode(CheckpointCodeError),
}

impl CheckpointAnswer {
    /// The member whose login waits, and the answer; an absent or empty `code` awaits an
    /// approval in the app.
    pub fn parse(body: CheckpointBody) -> Result<(LinkedinMemberId, Self), CheckpointRequestError> {
        let member = LinkedinMemberId::parse(body.linkedin_member_id)
            .map_err(CheckpointRequestError::BadMemberId)?;
        let answer = match body.code.filter(|c| !c.trim().is_empty()) {
            Some(code) => {
                Self::Code(CheckpointCode::parse(&code).map_err(CheckpointRequestError::BadCode)?)
            }
            None => Self::AwaitApproval,
        };
        Ok((member, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn codes_phone_numbers_and_the_switch_are_accepted_trimmed() {
        for (raw, kept) in [
            (" 123456 ", "123456"),
            ("(+33)0612345678", "(+33)0612345678"),
            ("TRY_ANOTHER_WAY", "TRY_ANOTHER_WAY"),
            ("contract-42", "contract-42"),
        ] {
            assert_eq!(CheckpointCode::parse(raw).expect(raw).expose(), kept);
        }
        assert!(
            CheckpointCode::parse("TRY_ANOTHER_WAY")
                .expect("switch")
                .switches_method()
        );
    }

    #[test]
    fn empty_long_and_odd_codes_are_refused_without_echoing_them() {
        assert_eq!(CheckpointCode::parse("  "), Err(CheckpointCodeError::Empty));
        assert_eq!(
            CheckpointCode::parse(&"1".repeat(65)),
            Err(CheckpointCodeError::TooLong)
        );
        for odd in ["12\n34", "<script>", "12;34", "١٢٣"] {
            let error = CheckpointCode::parse(odd).expect_err(odd);
            assert_eq!(error, CheckpointCodeError::BadCharacter);
            assert!(!error.to_string().contains(odd));
        }
        let code = CheckpointCode::parse("987654").expect("code");
        assert!(!format!("{code:?}").contains("987654"));
    }

    #[test]
    fn a_checkpoint_expires_five_minutes_after_unipile_answered() {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("date");
        let waiting = WaitingCheckpoint::opened(CheckpointKind::from("2FA"), at);
        assert_eq!(waiting.kind, CheckpointKind::TwoFactor);
        assert!(!waiting.is_expired(at + Duration::minutes(4)));
        assert!(waiting.is_expired(at + Duration::minutes(5)));
    }

    #[test]
    fn only_an_approval_in_the_app_takes_no_code() {
        assert!(!CheckpointKind::InAppValidation.takes_code());
        for kind in ["2FA", "OTP", "PHONE_REGISTER", "SOMETHING_NEW"] {
            assert!(CheckpointKind::from(kind).takes_code(), "{kind}");
        }
    }
}
