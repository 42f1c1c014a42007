//! What a native credential login (LinkedIn, Instagram, Messenger, X, mail) answers: the
//! next outcome of the script set through `POST /_sim/login-outcomes`, or, with none
//! scripted, what the provider usually does. Kept apart from the routes so that the outcome
//! vocabulary, which tests elsewhere script against, reads in one place.

use super::login_bodies::LoginBody;
use super::qr_codes;
use super::records::{DEFAULT_CODE, SimCheckpoint};
use super::state::{SimState, Simulator};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The outcomes a login script may name.
pub const OUTCOMES: &[&str] = &[
    "success",
    "lost",
    "checkpoint:<TYPE>",
    "checkpoint:<TYPE>:<CODE>",
    "checkpoint:2FA:<CODE>:<SMS|APP>",
    "invalid_credentials",
    "checkpoint_error",
    "captcha_not_supported",
    "account_restricted",
    "wrong_account",
    "in_progress",
    "provider_error",
    "network_down",
    "timeout",
    "invalid_imap_configuration",
    "invalid_credentials_but_valid_account_imap",
];

/// The checkpoint types a credential login may stop at (SDK-1.8).
pub const CHECKPOINT_TYPES: &[&str] = &[
    "2FA",
    "OTP",
    "IN_APP_VALIDATION",
    "PHONE_REGISTER",
    "CAPTCHA",
    "CONTRACT_CHOOSER",
];

impl Simulator {
    /// Queues the answers of the next credential logins (LinkedIn, Instagram, Messenger, X,
    /// mail), see [`OUTCOMES`].
    pub fn script_login_outcomes(&self, outcomes: impl IntoIterator<Item = String>) {
        self.lock().login_outcomes.extend(outcomes);
    }
}

/// How a credential login ends for now.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outcome {
    /// The account is connected; with `answer_lost`, Unipile's answer never arrives (504).
    Connected { answer_lost: bool },
    /// The login stops at this checkpoint.
    Checkpoint(Box<SimCheckpoint>),
    /// Unipile's error envelope.
    Refused {
        status: u16,
        kind: &'static str,
        title: String,
    },
}

fn refused(status: u16, kind: &'static str, title: &str) -> Outcome {
    Outcome::Refused {
        status,
        kind,
        title: title.to_owned(),
    }
}

/// What a provider does with no script: a password with `wrong` in it is refused; otherwise
/// LinkedIn and Messenger send an SMS code, Instagram asks its authenticator app, and X and
/// mail let the user in.
fn unscripted(login: &LoginBody) -> String {
    if login
        .password
        .as_deref()
        .is_some_and(|p| p.contains("wrong"))
    {
        return "invalid_credentials".into();
    }
    match login.provider.as_str() {
        "LINKEDIN" | "MESSENGER" => format!("checkpoint:2FA:{DEFAULT_CODE}:SMS"),
        "INSTAGRAM" => format!("checkpoint:2FA:{DEFAULT_CODE}:APP"),
        _ => "success".into(),
    }
}

/// The checkpoint a script's `<TYPE>[:<CODE>[:<SOURCE>]]` names, or why it cannot be one.
fn scripted_checkpoint(spec: &str, reconnect: bool) -> Result<SimCheckpoint, String> {
    let mut parts = spec.splitn(3, ':');
    let kind = parts.next().unwrap_or_default();
    if !CHECKPOINT_TYPES.contains(&kind) {
        return Err(format!("unknown scripted checkpoint {kind}"));
    }
    let code = parts.next().unwrap_or(DEFAULT_CODE);
    let mut checkpoint = SimCheckpoint::new(kind, code, reconnect);
    checkpoint.custom = true;
    match (kind, parts.next()) {
        ("2FA", source) => {
            let source = source.unwrap_or("SMS");
            if !["SMS", "APP"].contains(&source) {
                return Err(format!("unknown 2FA source {source}"));
            }
            checkpoint.source = Some(source.to_owned());
        }
        (_, Some(extra)) => return Err(format!("{kind} takes no {extra}")),
        ("CAPTCHA", None) => checkpoint.public_key = Some(qr_codes::captcha_public_key()),
        // A scripted code names the first contract; either one solves the checkpoint.
        ("CONTRACT_CHOOSER", None) => {
            checkpoint.contract_options = vec![
                (code.to_owned(), "Recruiter Lite (simulated)".to_owned()),
                (
                    "900000002".to_owned(),
                    "Recruiter Corporate (simulated)".to_owned(),
                ),
            ];
        }
        _ => {}
    }
    Ok(checkpoint)
}

/// The outcome a script names (see [`OUTCOMES`]) for a login, a reconnect with `reconnect`.
fn parse(outcome: &str, reconnect: bool) -> Outcome {
    match outcome {
        "success" => Outcome::Connected { answer_lost: false },
        // The account is made, then the answer never arrives: a gateway's 504.
        "lost" => Outcome::Connected { answer_lost: true },
        checkpoint if checkpoint.starts_with("checkpoint:") => {
            let spec = checkpoint.trim_start_matches("checkpoint:");
            match scripted_checkpoint(spec, reconnect) {
                Ok(checkpoint) => Outcome::Checkpoint(Box::new(checkpoint)),
                Err(reason) => refused(500, "errors/unexpected_error", &reason),
            }
        }
        "invalid_credentials" => refused(
            401,
            "errors/invalid_credentials",
            "Please check your username and password",
        ),
        "checkpoint_error" => refused(
            401,
            "errors/checkpoint_error",
            "The checkpoint does not appear to be resolvable",
        ),
        "captcha_not_supported" => refused(
            401,
            "errors/captcha_not_supported",
            "The provider asked for a captcha",
        ),
        "account_restricted" => refused(
            403,
            "errors/account_restricted",
            "The account is restricted by the provider",
        ),
        "wrong_account" => refused(
            401,
            "errors/wrong_account",
            "The provided credentials do not match the correct account",
        ),
        "in_progress" => refused(
            425,
            "errors/auth_in_progress",
            "Authentication in progress: cannot start a new intent while another is still in progress",
        ),
        "provider_error" => refused(
            500,
            "errors/provider_error",
            "The provider answered with an error",
        ),
        "network_down" => refused(503, "errors/network_down", "Network down"),
        "timeout" => refused(504, "errors/request_timeout", "Request timed out"),
        "invalid_imap_configuration" => refused(
            401,
            "errors/invalid_imap_configuration",
            "The IMAP configuration is invalid",
        ),
        "invalid_credentials_but_valid_account_imap" => refused(
            401,
            "errors/invalid_credentials_but_valid_account_imap",
            "The IMAP server refused the credentials",
        ),
        other => refused(
            500,
            "errors/unexpected_error",
            &format!("unknown scripted outcome {other}"),
        ),
    }
}

/// The next credential login's outcome: the script's next, or the provider's usual one.
pub(super) fn next(state: &mut SimState, login: &LoginBody, reconnect: bool) -> Outcome {
    let outcome = state
        .login_outcomes
        .pop_front()
        .unwrap_or_else(|| unscripted(login));
    parse(&outcome, reconnect)
}

#[derive(Deserialize)]
pub(super) struct Script {
    outcomes: Vec<String>,
}

/// `POST /_sim/login-outcomes {"outcomes":["checkpoint:OTP","success"]}`.
pub(super) async fn script(State(sim): State<Simulator>, Json(script): Json<Script>) -> Response {
    sim.script_login_outcomes(script.outcomes);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn clear_script(State(sim): State<Simulator>) -> Response {
    sim.lock().login_outcomes.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(provider: &str, password: &str) -> LoginBody {
        LoginBody {
            provider: provider.into(),
            name: "ada".into(),
            password: Some(password.into()),
            pairing_phone_number: None,
        }
    }

    fn checkpoint(outcome: &Outcome) -> (&str, &str, Option<&str>) {
        match outcome {
            Outcome::Checkpoint(c) => (&c.kind, &c.code, c.source.as_deref()),
            other => panic!("not a checkpoint: {other:?}"),
        }
    }

    #[test]
    fn without_a_script_each_provider_answers_as_it_usually_does() {
        let mut state = SimState::default();
        for (provider, source) in [
            ("LINKEDIN", "SMS"),
            ("INSTAGRAM", "APP"),
            ("MESSENGER", "SMS"),
        ] {
            let outcome = next(&mut state, &login(provider, "pw"), false);
            assert_eq!(checkpoint(&outcome), ("2FA", DEFAULT_CODE, Some(source)));
        }
        for provider in ["TWITTER", "MAIL"] {
            let outcome = next(&mut state, &login(provider, "pw"), false);
            assert_eq!(outcome, Outcome::Connected { answer_lost: false });
        }
        let outcome = next(&mut state, &login("MAIL", "a-wrong-one"), false);
        assert_eq!(
            outcome,
            refused(
                401,
                "errors/invalid_credentials",
                "Please check your username and password"
            )
        );
    }

    #[test]
    fn every_named_outcome_has_its_status_and_type() {
        let expected = [
            ("invalid_credentials", 401, "errors/invalid_credentials"),
            ("checkpoint_error", 401, "errors/checkpoint_error"),
            ("captcha_not_supported", 401, "errors/captcha_not_supported"),
            ("account_restricted", 403, "errors/account_restricted"),
            ("wrong_account", 401, "errors/wrong_account"),
            ("in_progress", 425, "errors/auth_in_progress"),
            ("provider_error", 500, "errors/provider_error"),
            ("network_down", 503, "errors/network_down"),
            ("timeout", 504, "errors/request_timeout"),
            (
                "invalid_imap_configuration",
                401,
                "errors/invalid_imap_configuration",
            ),
            (
                "invalid_credentials_but_valid_account_imap",
                401,
                "errors/invalid_credentials_but_valid_account_imap",
            ),
            ("no_such_outcome", 500, "errors/unexpected_error"),
            ("checkpoint:QRCODE", 500, "errors/unexpected_error"),
            ("checkpoint:2FA:1:EMAIL", 500, "errors/unexpected_error"),
            ("checkpoint:OTP:1:SMS", 500, "errors/unexpected_error"),
        ];
        for (outcome, status, kind) in expected {
            match parse(outcome, false) {
                Outcome::Refused {
                    status: s, kind: k, ..
                } => {
                    assert_eq!((s, k), (status, kind), "{outcome}")
                }
                other => panic!("{outcome}: {other:?}"),
            }
        }
        assert_eq!(
            parse("lost", true),
            Outcome::Connected { answer_lost: true }
        );
    }

    #[test]
    fn scripted_checkpoints_carry_what_their_type_needs() {
        assert_eq!(
            checkpoint(&parse("checkpoint:2FA:424242:APP", true)),
            ("2FA", "424242", Some("APP"))
        );
        assert_eq!(
            checkpoint(&parse("checkpoint:OTP", false)),
            ("OTP", DEFAULT_CODE, None)
        );
        let Outcome::Checkpoint(captcha) = parse("checkpoint:CAPTCHA", false) else {
            panic!("captcha");
        };
        assert_eq!(captcha.public_key.as_deref().map(str::len), Some(36));
        let Outcome::Checkpoint(chooser) = parse("checkpoint:CONTRACT_CHOOSER:111", true) else {
            panic!("chooser");
        };
        assert_eq!(chooser.contract_options[0].0, "111");
        assert_eq!(chooser.contract_options.len(), 2);
        assert!(chooser.reconnect && chooser.custom);
    }
}
