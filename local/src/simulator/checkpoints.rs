//! Checkpoints (contract §4c, `unipile-custom-auth.md` §2): a cookie login scripted
//! `checkpoint:<TYPE>` or a native credential login stops at one, and
//! `POST /api/v1/accounts/checkpoint` answers it as Unipile does, possibly with the next
//! checkpoint. An approval in the LinkedIn app is the user's, outside any API: the
//! simulator's `POST /_sim/checkpoints/{account_id}/approve` stands for it.

use super::answers::{envelope, post_json, strict_fields};
use super::completion::{Completion, finish};
use super::records::{DEFAULT_CODE, SimCheckpoint};
use super::state::Simulator;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

const SOLVE_FIELDS: &[&str] = &["provider", "account_id", "code"];
const SOLVE_PROVIDERS: &[&str] = &["LINKEDIN", "INSTAGRAM", "TWITTER", "MESSENGER"];

/// A solve's fields: provider, account id, code.
type Solution = (String, String, String);

fn check_body(body: &Value) -> Result<Solution, String> {
    let values = strict_fields(
        body,
        SOLVE_FIELDS,
        SOLVE_PROVIDERS,
        &["provider", "account_id", "code"],
    )?;
    let [provider, account_id, code] =
        <[String; 3]>::try_from(values).map_err(|_| "three fields")?;
    Ok((provider, account_id, code))
}

/// R-solve's phone for `PHONE_REGISTER`: the dialling code in brackets, then the national
/// number, `(+33)0612345678`.
fn is_registered_phone(code: &str) -> bool {
    let Some((dialling, national)) = code
        .strip_prefix("(+")
        .and_then(|rest| rest.split_once(')'))
    else {
        return false;
    };
    let digits = |text: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
    };
    digits(dialling, 1..=4) && digits(national, 4..=14)
}

fn invalid_solution() -> Response {
    envelope(
        401,
        "errors/invalid_checkpoint_solution",
        "Invalid checkpoint solution",
    )
}

fn checkpoint_answer(account_id: &str, waiting: &SimCheckpoint) -> Response {
    let body =
        json!({"object": "Checkpoint", "account_id": account_id, "checkpoint": waiting.wire()});
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// Whether `code` gets past `waiting` (a checkpoint that takes a typed answer).
fn solves(waiting: &SimCheckpoint, code: &str) -> bool {
    match waiting.kind.as_str() {
        // An approval in the app, a scan or a pairing have no code to give here.
        "IN_APP_VALIDATION" | "QRCODE" | "PAIRING_CODE" => false,
        "CONTRACT_CHOOSER" if !waiting.contract_options.is_empty() => {
            waiting.contract_options.iter().any(|(id, _)| id == code)
        }
        _ => code == waiting.code,
    }
}

fn solve(
    sim: &Simulator,
    (provider, account_id, code): &Solution,
) -> (Response, Option<Completion>) {
    let mut state = sim.lock();
    let Some(account) = state.accounts.get(account_id) else {
        return (
            envelope(404, "errors/resource_not_found", "Account not found"),
            None,
        );
    };
    if &account.account_type != provider {
        let reason = format!(
            "provider {provider} does not match the account's type {}",
            account.account_type
        );
        return (envelope(400, "errors/invalid_parameters", &reason), None);
    }
    let Some(waiting) = state.checkpoints.get(account_id).cloned() else {
        let answer = envelope(
            500,
            "errors/authentication_intent_error",
            "No authentication in progress for this account",
        );
        return (answer, None);
    };
    if waiting.expired() {
        state.checkpoints.remove(account_id);
        let answer = envelope(
            500,
            "errors/authentication_intent_error",
            "The authentication intent expired",
        );
        return (answer, None);
    }
    // The next checkpoint of the same intent: the window does not restart. A phone just
    // registered gets the usual SMS code; the OTP fallback keeps the code a script named.
    let mut chain = |kind: &str, source: Option<&str>| {
        let next = SimCheckpoint {
            kind: kind.to_owned(),
            code: if kind == "OTP" {
                waiting.code.clone()
            } else {
                DEFAULT_CODE.to_owned()
            },
            source: source.map(str::to_owned),
            sent_at: Utc::now(),
            resends: 0,
            ..waiting.clone()
        };
        let answer = checkpoint_answer(account_id, &next);
        state.checkpoints.insert(account_id.to_owned(), next);
        (answer, None)
    };
    if code == "TRY_ANOTHER_WAY" {
        return chain("OTP", None);
    }
    match waiting.kind.as_str() {
        "CAPTCHA" => {
            let answer = envelope(
                401,
                "errors/captcha_not_supported",
                "Captchas cannot be solved through the API",
            );
            return (answer, None);
        }
        "PHONE_REGISTER" if is_registered_phone(code) => return chain("2FA", Some("SMS")),
        "PHONE_REGISTER" => return (invalid_solution(), None),
        _ if !solves(&waiting, code) => return (invalid_solution(), None),
        _ => {}
    }
    let completion = finish(&mut state, account_id, waiting.reconnect, waiting.custom);
    // A cookie reconnect answered 200 before native logins existed; it stays so.
    let (status, object) = match (waiting.reconnect, waiting.custom) {
        (true, true) => (StatusCode::CREATED, "AccountReconnected"),
        (true, false) => (StatusCode::OK, "AccountReconnected"),
        (false, _) => (StatusCode::CREATED, "AccountCreated"),
    };
    let answer = (
        status,
        Json(json!({"object": object, "account_id": account_id})),
    )
        .into_response();
    (answer, completion)
}

pub(super) async fn solve_checkpoint(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = "/api/v1/accounts/checkpoint".to_owned();
    post_json(
        &sim,
        "solve_checkpoint",
        path,
        &headers,
        &body,
        |json| match check_body(json) {
            Ok(solution) => {
                let (answer, completion) = solve(&sim, &solution);
                sim.announce_later(completion);
                answer
            }
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

impl Simulator {
    /// The user approves the sign-in in their LinkedIn app: the login waiting at an
    /// `IN_APP_VALIDATION` checkpoint completes. `false` when none waits for `account_id`
    /// (or its window has passed). A native login's webhook is sent in the background.
    pub fn approve_in_app(&self, account_id: &str) -> bool {
        match self.take_approval(account_id) {
            Some(completion) => {
                self.announce_later(completion);
                true
            }
            None => false,
        }
    }

    /// Completes a waiting, unexpired `IN_APP_VALIDATION`: `None` when there is none, else
    /// the webhook to send (none for a cookie login).
    pub(super) fn take_approval(&self, account_id: &str) -> Option<Option<Completion>> {
        let mut state = self.lock();
        let waiting = state.checkpoints.get(account_id)?;
        if waiting.kind != "IN_APP_VALIDATION" || waiting.expired() {
            return None;
        }
        let (reconnect, custom) = (waiting.reconnect, waiting.custom);
        Some(finish(&mut state, account_id, reconnect, custom))
    }
}

/// `POST /_sim/checkpoints/{account_id}/approve`: [`Simulator::approve_in_app`], answering
/// once a native login's webhook has been sent.
pub(super) async fn approve(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    match sim.take_approval(&id) {
        Some(completion) => {
            if let Some(completion) = completion {
                sim.announce(completion).await;
            }
            StatusCode::NO_CONTENT.into_response()
        }
        None => (
            StatusCode::CONFLICT,
            format!("no IN_APP_VALIDATION checkpoint waits for account {id}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solutions_with_invented_or_missing_fields_are_refused() {
        let ok = json!({"provider": "LINKEDIN", "account_id": "a1", "code": "123456"});
        assert_eq!(
            check_body(&ok),
            Ok(("LINKEDIN".to_owned(), "a1".to_owned(), "123456".to_owned()))
        );
        let invented =
            json!({"provider": "LINKEDIN", "account_id": "a1", "code": "1", "type": "2FA"});
        assert!(
            check_body(&invented)
                .expect_err("invented")
                .contains("type")
        );
        let missing = json!({"provider": "LINKEDIN", "account_id": "a1"});
        assert!(check_body(&missing).expect_err("missing").contains("code"));
        let provider = json!({"provider": "WHATSAPP", "account_id": "a1", "code": "1"});
        assert!(check_body(&provider).is_err());
    }

    #[test]
    fn a_script_names_the_type_and_may_name_the_code() {
        let plain = SimCheckpoint::scripted("2FA", false);
        assert_eq!(
            (plain.kind.as_str(), plain.code.as_str()),
            ("2FA", DEFAULT_CODE)
        );
        let coded = SimCheckpoint::scripted("OTP:424242", true);
        assert_eq!(
            (coded.kind.as_str(), coded.code.as_str()),
            ("OTP", "424242")
        );
        assert!(coded.reconnect);
    }

    #[test]
    fn a_registered_phone_is_written_with_its_dialling_code_in_brackets() {
        assert!(is_registered_phone("(+33)0612345678"));
        assert!(is_registered_phone("(+1)5551234567"));
        for wrong in [
            "+33612345678",
            "(33)0612345678",
            "(+33) 0612345678",
            "(+)0612345678",
            "(+33)",
            "(+33)06-12",
        ] {
            assert!(!is_registered_phone(wrong), "{wrong}");
        }
    }

    mod over_http {
        use super::super::super::test_support::{Served, serve};
        use super::*;

        /// A LinkedIn credential login stopped at the scripted `checkpoint`: its account id.
        async fn waiting_at(served: &Served, checkpoint: &str) -> String {
            served
                .sim
                .script_login_outcomes([format!("checkpoint:{checkpoint}")]);
            let body =
                json!({"provider": "LINKEDIN", "username": "+33 612345678", "password": "pw"});
            let (status, answer) = served.post("/api/v1/accounts", body).await;
            assert_eq!(status, 202, "{answer}");
            answer["account_id"].as_str().expect("id").to_owned()
        }

        async fn solve(served: &Served, provider: &str, id: &str, code: &str) -> (u16, Value) {
            let body = json!({"provider": provider, "account_id": id, "code": code});
            served.post("/api/v1/accounts/checkpoint", body).await
        }

        #[tokio::test]
        async fn the_right_code_connects_the_account_and_tells_the_webhook() {
            let served = serve().await;
            let hook = served.account_status_receiver().await;
            let body = json!({"provider": "INSTAGRAM", "username": "ada", "password": "pw"});
            let (_, answer) = served.post("/api/v1/accounts", body).await;
            let id = answer["account_id"].as_str().expect("id");
            let (status, refused) = solve(&served, "LINKEDIN", id, DEFAULT_CODE).await;
            assert_eq!(
                (status, refused["type"].as_str()),
                (400, Some("errors/invalid_parameters"))
            );
            let (status, refused) = solve(&served, "INSTAGRAM", id, "000000").await;
            assert_eq!(
                (status, refused["type"].as_str()),
                (401, Some("errors/invalid_checkpoint_solution"))
            );
            assert!(hook.received().is_empty());
            let (status, solved) = solve(&served, "INSTAGRAM", id, DEFAULT_CODE).await;
            assert_eq!(status, 201);
            assert_eq!(
                solved,
                json!({"object": "AccountCreated", "account_id": id})
            );
            assert_eq!(served.sim.accounts()[0].status, "OK");
            assert_eq!(
                hook.wait_for(1).await,
                [
                    json!({"AccountStatus": {"account_id": id, "account_type": "INSTAGRAM",
                    "message": "CREATION_SUCCESS"}})
                ]
            );
            let (status, _) = solve(&served, "INSTAGRAM", "unknown", DEFAULT_CODE).await;
            assert_eq!(status, 404);
        }

        #[tokio::test]
        async fn a_native_reconnect_solved_answers_201_reconnected() {
            let served = serve().await;
            let hook = served.account_status_receiver().await;
            let account = served.sim.add_account("MESSENGER", "ada");
            let body = json!({"provider": "MESSENGER", "username": "ada", "password": "pw"});
            let (status, answer) = served
                .post(&format!("/api/v1/accounts/{}", account.id), body)
                .await;
            assert_eq!(
                (status, answer["account_id"].as_str()),
                (202, Some(account.id.as_str()))
            );
            assert_eq!(served.sim.accounts()[0].status, "CONNECTING");
            let (status, solved) = solve(&served, "MESSENGER", &account.id, DEFAULT_CODE).await;
            assert_eq!(status, 201);
            assert_eq!(solved["object"], "AccountReconnected");
            assert_eq!(
                hook.wait_for(1).await[0]["AccountStatus"]["message"],
                "RECONNECTED"
            );
        }

        #[tokio::test]
        async fn a_phone_register_takes_a_bracketed_phone_then_asks_an_sms_code() {
            let served = serve().await;
            let id = waiting_at(&served, "PHONE_REGISTER").await;
            let (status, refused) = solve(&served, "LINKEDIN", &id, "+33612345678").await;
            assert_eq!(
                (status, refused["type"].as_str()),
                (401, Some("errors/invalid_checkpoint_solution"))
            );
            let (status, next) = solve(&served, "LINKEDIN", &id, "(+33)0612345678").await;
            assert_eq!(status, 202);
            assert_eq!(
                next,
                json!({"object": "Checkpoint", "account_id": id,
                    "checkpoint": {"type": "2FA", "source": "SMS"}})
            );
            let (status, solved) = solve(&served, "LINKEDIN", &id, DEFAULT_CODE).await;
            assert_eq!(
                (status, solved["object"].as_str()),
                (201, Some("AccountCreated"))
            );
        }

        #[tokio::test]
        async fn a_captcha_cannot_be_solved_through_the_api() {
            let served = serve().await;
            served
                .sim
                .script_login_outcomes(["checkpoint:CAPTCHA".to_owned()]);
            let body = json!({"provider": "LINKEDIN", "username": "a@b.c", "password": "pw"});
            let (_, answer) = served.post("/api/v1/accounts", body).await;
            let key = answer["checkpoint"]["public_key"]
                .as_str()
                .expect("public_key");
            assert_eq!(key.len(), 36);
            let id = answer["account_id"].as_str().expect("id");
            for code in [DEFAULT_CODE, key] {
                let (status, refused) = solve(&served, "LINKEDIN", id, code).await;
                assert_eq!(
                    (status, refused["type"].as_str()),
                    (401, Some("errors/captcha_not_supported"))
                );
            }
            assert_eq!(served.sim.accounts()[0].status, "CONNECTING");
        }

        #[tokio::test]
        async fn a_contract_chooser_takes_one_of_its_option_ids() {
            let served = serve().await;
            served
                .sim
                .script_login_outcomes(["checkpoint:CONTRACT_CHOOSER:111".to_owned()]);
            let body = json!({"provider": "LINKEDIN", "username": "a@b.c", "password": "pw"});
            let (_, answer) = served.post("/api/v1/accounts", body).await;
            let options = &answer["checkpoint"]["contract_options"];
            assert_eq!(
                options[0],
                json!({"id": "111", "name": "Recruiter Lite (simulated)"})
            );
            let id = answer["account_id"].as_str().expect("id");
            assert_eq!(solve(&served, "LINKEDIN", id, "222").await.0, 401);
            let second = options[1]["id"].as_str().expect("second option");
            assert_eq!(solve(&served, "LINKEDIN", id, second).await.0, 201);
        }

        #[tokio::test]
        async fn a_code_after_the_five_minutes_meets_a_dead_intent() {
            let served = serve().await;
            let id = waiting_at(&served, "OTP:777777").await;
            let (status, _) = served
                .post(
                    &format!("/_sim/checkpoints/{id}/age"),
                    json!({"seconds": 301}),
                )
                .await;
            assert_eq!(status, 204);
            let (status, refused) = solve(&served, "LINKEDIN", &id, "777777").await;
            assert_eq!(
                (status, refused["type"].as_str()),
                (500, Some("errors/authentication_intent_error"))
            );
            assert_ne!(served.sim.accounts()[0].status, "OK");
        }

        #[tokio::test]
        async fn an_in_app_validation_approved_on_the_phone_tells_the_webhook() {
            let served = serve().await;
            let hook = served.account_status_receiver().await;
            let id = waiting_at(&served, "IN_APP_VALIDATION").await;
            assert_eq!(solve(&served, "LINKEDIN", &id, DEFAULT_CODE).await.0, 401);
            let (status, _) = served
                .post(&format!("/_sim/checkpoints/{id}/approve"), json!({}))
                .await;
            assert_eq!(status, 204);
            assert_eq!(
                hook.received()[0]["AccountStatus"]["message"],
                "CREATION_SUCCESS"
            );
            assert_eq!(served.sim.accounts()[0].status, "OK");
        }

        #[tokio::test]
        async fn try_another_way_turns_an_in_app_validation_into_an_otp() {
            let served = serve().await;
            let id = waiting_at(&served, "IN_APP_VALIDATION:555555").await;
            let (status, next) = solve(&served, "LINKEDIN", &id, "TRY_ANOTHER_WAY").await;
            assert_eq!(
                (status, next["checkpoint"].clone()),
                (202, json!({"type": "OTP"}))
            );
            assert_eq!(solve(&served, "LINKEDIN", &id, "555555").await.0, 201);
        }
    }
}
