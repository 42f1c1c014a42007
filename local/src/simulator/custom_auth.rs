//! Native (custom-auth) logins, `unipile-custom-auth.md`: `POST /api/v1/accounts` and
//! `POST /api/v1/accounts/{id}` without an `access_token` (with one they stay the cookie login
//! of `cookie_auth`). WhatsApp and Telegram always answer a QR (or pairing-code) checkpoint
//! that the simulated phone completes; credential logins answer as `login_outcomes` says.

use super::answers::{envelope, post_json};
use super::completion::{Completion, finish};
use super::cookie_auth;
use super::login_bodies::{self, LoginBody};
use super::login_outcomes::{self, Outcome};
use super::qr_codes;
use super::records::SimCheckpoint;
use super::state::{SimAccount, SimState, Simulator, new_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

/// A body carrying `access_token` is LinkedIn's cookie login, and so is anything that is not a
/// JSON object: that path already answers it as it always has.
fn is_cookie_login(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|json| json.as_object().map(|o| o.contains_key("access_token")))
        .unwrap_or(true)
}

/// The account the login is about, created for a new login (`CONNECTING` until it ends).
fn account_for(state: &mut SimState, login: &LoginBody, reconnect: Option<&str>) -> String {
    if let Some(id) = reconnect {
        return id.to_owned();
    }
    let id = new_id();
    state.accounts.insert(
        id.clone(),
        SimAccount {
            id: id.clone(),
            account_type: login.provider.clone(),
            name: login.name.clone(),
            created_at: Utc::now(),
            status: "CONNECTING".into(),
            linkedin_profile_id: None,
        },
    );
    id
}

/// Opens `checkpoint` on the account (made if new) and answers Unipile's 202 `Checkpoint`.
fn wait_at(
    state: &mut SimState,
    login: &LoginBody,
    reconnect: Option<&str>,
    checkpoint: SimCheckpoint,
) -> Response {
    let account_id = account_for(state, login, reconnect);
    if let Some(account) = state.accounts.get_mut(&account_id) {
        account.status = "CONNECTING".into();
    }
    let body =
        json!({"object": "Checkpoint", "account_id": account_id, "checkpoint": checkpoint.wire()});
    state.checkpoints.insert(account_id, checkpoint);
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// WhatsApp and Telegram: a fresh QR (or WhatsApp pairing code) on every start.
fn open_qr(state: &mut SimState, login: &LoginBody, reconnect: Option<&str>) -> Response {
    let mut checkpoint = match (&*login.provider, &login.pairing_phone_number) {
        ("WHATSAPP", Some(_)) => SimCheckpoint::new(
            "PAIRING_CODE",
            &qr_codes::pairing_code(),
            reconnect.is_some(),
        ),
        (provider, _) => {
            let mut checkpoint = SimCheckpoint::new("QRCODE", "", reconnect.is_some());
            checkpoint.qrcode = Some(if provider == "TELEGRAM" {
                qr_codes::telegram_qr()
            } else {
                qr_codes::whatsapp_qr()
            });
            checkpoint
        }
    };
    checkpoint.custom = true;
    wait_at(state, login, reconnect, checkpoint)
}

/// A credential login answered as its outcome says; the completion to announce, if it ended.
fn credential_login(
    state: &mut SimState,
    login: &LoginBody,
    reconnect: Option<&str>,
) -> (Response, Option<Completion>) {
    match login_outcomes::next(state, login, reconnect.is_some()) {
        Outcome::Connected { answer_lost } => {
            let account_id = account_for(state, login, reconnect);
            let completion = finish(state, &account_id, reconnect.is_some(), true);
            let answer = match (answer_lost, reconnect) {
                (true, _) => envelope(504, "errors/request_timeout", "Request timed out"),
                (false, Some(_)) => created("AccountReconnected", &account_id),
                (false, None) => created("AccountCreated", &account_id),
            };
            (answer, completion)
        }
        Outcome::Checkpoint(checkpoint) => (wait_at(state, login, reconnect, *checkpoint), None),
        Outcome::Refused {
            status,
            kind,
            title,
        } => (envelope(status, kind, &title), None),
    }
}

fn created(object: &str, account_id: &str) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({"object": object, "account_id": account_id})),
    )
        .into_response()
}

/// Starts (or, with `reconnect`, restarts) a native login.
fn start(sim: &Simulator, login: &LoginBody, reconnect: Option<&str>) -> Response {
    let (answer, completion) = {
        let mut state = sim.lock();
        if let Some(id) = reconnect {
            match state.accounts.get(id) {
                None => return envelope(404, "errors/resource_not_found", "Account not found"),
                Some(account) if account.account_type != login.provider => {
                    let reason = format!(
                        "provider {} does not match the account's type {}",
                        login.provider, account.account_type
                    );
                    return envelope(400, "errors/invalid_parameters", &reason);
                }
                Some(_) => {}
            }
        }
        if matches!(login.provider.as_str(), "WHATSAPP" | "TELEGRAM") {
            (open_qr(&mut state, login, reconnect), None)
        } else {
            credential_login(&mut state, login, reconnect)
        }
    };
    sim.announce_later(completion);
    answer
}

pub(super) async fn connect(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if is_cookie_login(&body) {
        return cookie_auth::connect(State(sim), headers, body).await;
    }
    let path = "/api/v1/accounts".to_owned();
    post_json(
        &sim,
        "connect_account",
        path,
        &headers,
        &body,
        |json| match login_bodies::parse(json, false) {
            Ok(login) => start(&sim, &login, None),
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

pub(super) async fn reconnect(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if is_cookie_login(&body) {
        return cookie_auth::reconnect(State(sim), Path(id), headers, body).await;
    }
    let path = format!("/api/v1/accounts/{id}");
    post_json(
        &sim,
        "connect_account",
        path,
        &headers,
        &body,
        |json| match login_bodies::parse(json, true) {
            Ok(login) => start(&sim, &login, Some(&id)),
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::records::DEFAULT_CODE;
    use super::super::test_support::serve;
    use super::*;

    fn linkedin() -> Value {
        json!({"provider": "LINKEDIN", "username": "ada@example.com", "password": "secret"})
    }

    fn mail() -> Value {
        json!({"provider": "MAIL", "imap_user": "ada@example.com", "smtp_user": "ada@example.com",
            "imap_password": "pw", "smtp_password": "pw", "imap_host": "imap.example.com",
            "imap_port": 993, "smtp_host": "smtp.example.com", "smtp_port": 465})
    }

    #[tokio::test]
    async fn unscripted_logins_answer_as_each_provider_usually_does() {
        let served = serve().await;
        let cases = [
            (linkedin(), 202, json!({"type": "2FA", "source": "SMS"})),
            (
                json!({"provider": "INSTAGRAM", "username": "ada", "password": "pw"}),
                202,
                json!({"type": "2FA", "source": "APP"}),
            ),
            (
                json!({"provider": "MESSENGER", "username": "ada", "password": "pw"}),
                202,
                json!({"type": "2FA", "source": "SMS"}),
            ),
            (
                json!({"provider": "TWITTER", "username": "ada", "password": "pw"}),
                201,
                Value::Null,
            ),
            (mail(), 201, Value::Null),
        ];
        for (body, status, checkpoint) in cases {
            let (got, answer) = served.post("/api/v1/accounts", body.clone()).await;
            assert_eq!(got, status, "{body} → {answer}");
            let account_id = answer["account_id"].as_str().expect("account_id");
            let account = served.sim.accounts();
            let account = account.iter().find(|a| a.id == account_id).expect("made");
            assert_eq!(account.account_type, body["provider"]);
            if status == 202 {
                assert_eq!(answer["object"], "Checkpoint");
                assert_eq!(answer["checkpoint"], checkpoint);
                assert_eq!(account.status, "CONNECTING");
                let view = served.sim.checkpoint(account_id).expect("waiting");
                assert_eq!(view.code.as_deref(), Some(DEFAULT_CODE));
            } else {
                assert_eq!(answer["object"], "AccountCreated");
                assert_eq!(account.status, "OK");
            }
        }
        let names: Vec<String> = served.sim.accounts().into_iter().map(|a| a.name).collect();
        for name in ["LinkedIn member (simulated)", "ada", "ada@example.com"] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
    }

    #[tokio::test]
    async fn a_wrong_password_is_refused_and_makes_no_account() {
        let served = serve().await;
        let mut body = linkedin();
        body["password"] = json!("my-wrong-password");
        let mut mail = mail();
        mail["imap_password"] = json!("wrong");
        for body in [body, mail] {
            let (status, answer) = served.post("/api/v1/accounts", body).await;
            assert_eq!(
                (status, answer["type"].as_str()),
                (401, Some("errors/invalid_credentials"))
            );
        }
        assert!(served.sim.accounts().is_empty());
    }

    #[tokio::test]
    async fn bodies_with_invented_or_missing_fields_are_refused_over_http() {
        let served = serve().await;
        let mut invented = linkedin();
        invented["name"] = json!("Ada");
        let missing = json!({"provider": "INSTAGRAM", "username": "ada"});
        let oauth = json!({"provider": "GOOGLE_OAUTH", "refresh_token": "r"});
        for (body, reason) in [
            (invented, "unknown field name"),
            (missing, "password is required"),
            (
                oauth,
                "the simulator does not take GOOGLE_OAUTH token logins",
            ),
        ] {
            let (status, answer) = served.post("/api/v1/accounts", body).await;
            assert_eq!(status, 400);
            assert_eq!(answer["type"], "errors/invalid_parameters");
            assert_eq!(answer["title"], reason);
        }
        assert!(served.sim.accounts().is_empty());
    }

    #[tokio::test]
    async fn a_body_with_an_access_token_stays_the_cookie_login() {
        let served = serve().await;
        let cookie = json!({"provider": "LINKEDIN", "access_token": "AQEDAR", "user_agent": "UA"});
        let (status, created) = served.post("/api/v1/accounts", cookie.clone()).await;
        assert_eq!(
            (status, created["object"].as_str()),
            (201, Some("AccountCreated"))
        );
        let id = created["account_id"].as_str().expect("id");
        let (status, again) = served.post(&format!("/api/v1/accounts/{id}"), cookie).await;
        // The cookie reconnect's 200, unchanged.
        assert_eq!(
            (status, again["object"].as_str()),
            (200, Some("AccountReconnected"))
        );
        // The cookie script is the cookie login's; the native one is left alone.
        served.sim.script_login_outcomes(["timeout".to_owned()]);
        let cookie = json!({"provider": "LINKEDIN", "access_token": "AQEDAR", "user_agent": "UA"});
        assert_eq!(served.post("/api/v1/accounts", cookie).await.0, 201);
        assert_eq!(served.sim.lock().login_outcomes.len(), 1);
    }

    #[tokio::test]
    async fn scripted_outcomes_are_answered_in_order_then_the_default_returns() {
        let served = serve().await;
        let (status, _) = served
            .post(
                "/_sim/login-outcomes",
                json!({"outcomes": ["invalid_credentials", "in_progress", "checkpoint:OTP:777777",
                    "checkpoint:2FA:424242:APP", "account_restricted", "lost", "checkpoint:BOGUS"]}),
            )
            .await;
        assert_eq!(status, 204);
        let mut answers = Vec::new();
        for _ in 0..8 {
            answers.push(served.post("/api/v1/accounts", linkedin()).await);
        }
        let summary: Vec<(u16, Value)> = answers
            .iter()
            .map(|(status, body)| {
                let what = match body["object"].as_str() {
                    Some("Checkpoint") => body["checkpoint"].clone(),
                    _ => body["type"].clone(),
                };
                (*status, what)
            })
            .collect();
        assert_eq!(
            summary,
            [
                (401, json!("errors/invalid_credentials")),
                (425, json!("errors/auth_in_progress")),
                (202, json!({"type": "OTP"})),
                (202, json!({"type": "2FA", "source": "APP"})),
                (403, json!("errors/account_restricted")),
                (504, json!("errors/request_timeout")),
                (500, json!("errors/unexpected_error")),
                (202, json!({"type": "2FA", "source": "SMS"})),
            ]
        );
        let otp = answers[2].1["account_id"].as_str().expect("id");
        assert_eq!(
            served.sim.checkpoint(otp).expect("otp").code.as_deref(),
            Some("777777")
        );
        let app = answers[3].1["account_id"].as_str().expect("id");
        assert_eq!(
            served.sim.checkpoint(app).expect("2fa").code.as_deref(),
            Some("424242")
        );
        // `lost` made the account, connected, though its answer never arrived.
        let accounts = served.sim.accounts();
        assert_eq!(accounts.iter().filter(|a| a.status == "OK").count(), 1);
        assert_eq!(accounts.len(), 4);
        // DELETE clears what is left.
        served.sim.script_login_outcomes(["timeout".to_owned()]);
        let cleared = reqwest::Client::new()
            .delete(format!("{}/_sim/login-outcomes", served.base))
            .send()
            .await
            .expect("cleared");
        assert_eq!(cleared.status(), 204);
        assert_eq!(served.post("/api/v1/accounts", linkedin()).await.0, 202);
    }

    #[tokio::test]
    async fn a_whatsapp_qr_is_new_on_every_start_and_the_scan_tells_the_webhook() {
        let served = serve().await;
        let hook = served.account_status_receiver().await;
        let start = json!({"provider": "WHATSAPP"});
        let (status, first) = served.post("/api/v1/accounts", start.clone()).await;
        assert_eq!(status, 202);
        assert_eq!(first["checkpoint"]["type"], "QRCODE");
        let qr = first["checkpoint"]["qrcode"].as_str().expect("qrcode");
        assert!(qr.starts_with("2@") && qr.split(',').count() == 4, "{qr}");
        let (_, second) = served.post("/api/v1/accounts", start).await;
        assert_ne!(second["account_id"], first["account_id"]);
        assert_ne!(
            second["checkpoint"]["qrcode"],
            first["checkpoint"]["qrcode"]
        );

        let id = first["account_id"].as_str().expect("id");
        let (status, account) = served.get(&format!("/api/v1/accounts/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(account["sources"][0]["status"], "CONNECTING");
        assert_eq!(account["name"], "WhatsApp (simulated)");
        let (status, view) = served.get(&format!("/_sim/checkpoints/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(view["qrcode"], qr);
        assert_eq!(view["type"], "QRCODE");

        let (status, scanned) = served
            .post(&format!("/_sim/checkpoints/{id}/scan"), json!({}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(scanned["deliveries"][0]["status"], 200);
        assert_eq!(
            hook.received(),
            [
                json!({"AccountStatus": {"account_id": id, "account_type": "WHATSAPP",
                "message": "CREATION_SUCCESS"}})
            ]
        );
        let (_, account) = served.get(&format!("/api/v1/accounts/{id}")).await;
        assert_eq!(account["sources"][0]["status"], "OK");
        assert_eq!(served.get(&format!("/_sim/checkpoints/{id}")).await.0, 404);
        // A second scan finds nothing waiting.
        let (status, _) = served
            .post(&format!("/_sim/checkpoints/{id}/scan"), json!({}))
            .await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn a_telegram_reconnect_issues_a_new_qr_on_the_same_account() {
        let served = serve().await;
        let hook = served.account_status_receiver().await;
        let account = served.sim.add_account("TELEGRAM", "Telegram (simulated)");
        let path = format!("/api/v1/accounts/{}", account.id);
        let (status, answer) = served.post(&path, json!({"provider": "TELEGRAM"})).await;
        assert_eq!(status, 202);
        assert_eq!(answer["account_id"], account.id.as_str());
        let qr = answer["checkpoint"]["qrcode"].as_str().expect("qrcode");
        assert!(qr.starts_with("tg://login?token="), "{qr}");
        let (_, again) = served.post(&path, json!({"provider": "TELEGRAM"})).await;
        assert_ne!(
            again["checkpoint"]["qrcode"],
            answer["checkpoint"]["qrcode"]
        );
        assert_eq!(
            served
                .sim
                .checkpoint(&account.id)
                .expect("waiting")
                .qrcode
                .as_deref(),
            again["checkpoint"]["qrcode"].as_str()
        );
        served.sim.scan(&account.id).await.expect("scanned");
        assert_eq!(
            hook.received()[0]["AccountStatus"]["message"],
            "RECONNECTED"
        );
    }

    #[tokio::test]
    async fn a_pairing_phone_number_gets_a_pairing_code() {
        let served = serve().await;
        let hook = served.account_status_receiver().await;
        let body = json!({"provider": "WHATSAPP", "pairing_phone_number": "33612345678"});
        let (status, answer) = served.post("/api/v1/accounts", body).await;
        assert_eq!(status, 202);
        let checkpoint = &answer["checkpoint"];
        assert_eq!(checkpoint["type"], "PAIRING_CODE");
        let code = checkpoint["code"].as_str().expect("code");
        assert_eq!((code.len(), &code[4..5]), (9, "-"));
        let id = answer["account_id"].as_str().expect("id");
        let view = served.sim.checkpoint(id).expect("waiting");
        assert_eq!(view.code.as_deref(), Some(code));
        assert_eq!(served.sim.accounts()[0].name, "WhatsApp (simulated)");
        // The user types it in WhatsApp: the phone "scans".
        served.sim.scan(id).await.expect("paired");
        assert_eq!(hook.received()[0]["AccountStatus"]["account_id"], id);
        let bad = json!({"provider": "WHATSAPP", "pairing_phone_number": "+33612345678"});
        assert_eq!(served.post("/api/v1/accounts", bad).await.0, 400);
    }

    #[tokio::test]
    async fn a_reconnect_must_name_a_known_account_of_the_same_provider() {
        let served = serve().await;
        let hook = served.account_status_receiver().await;
        let (status, answer) = served.post("/api/v1/accounts/nope", mail()).await;
        assert_eq!(
            (status, answer["type"].as_str()),
            (404, Some("errors/resource_not_found"))
        );
        let account = served.sim.add_account("MAIL", "ada@example.com");
        served.sim.set_status(&account.id, "CREDENTIALS");
        let path = format!("/api/v1/accounts/{}", account.id);
        let (status, answer) = served.post(&path, linkedin()).await;
        assert_eq!(
            (status, answer["type"].as_str()),
            (400, Some("errors/invalid_parameters"))
        );
        let passwords = json!({"provider": "MAIL", "imap_password": "new", "smtp_password": "new"});
        let (status, answer) = served.post(&path, passwords).await;
        assert_eq!(status, 201);
        assert_eq!(
            answer,
            json!({"object": "AccountReconnected", "account_id": account.id})
        );
        assert_eq!(served.sim.accounts()[0].status, "OK");
        let delivered = hook.wait_for(1).await;
        assert_eq!(
            delivered,
            [
                json!({"AccountStatus": {"account_id": account.id, "account_type": "MAIL",
                "message": "RECONNECTED"}})
            ]
        );
    }

    #[tokio::test]
    async fn an_armed_fault_answers_a_native_login_even_for_a_qr_provider() {
        let served = serve().await;
        served.sim.add_fault(crate::simulator::Fault {
            route: "connect_account".into(),
            status: 503,
            error_type: "errors/network_down".into(),
            times: 1,
        });
        let (status, answer) = served
            .post("/api/v1/accounts", json!({"provider": "WHATSAPP"}))
            .await;
        assert_eq!(
            (status, answer["type"].as_str()),
            (503, Some("errors/network_down"))
        );
        assert!(served.sim.accounts().is_empty());
        assert_eq!(
            served
                .post("/api/v1/accounts", json!({"provider": "WHATSAPP"}))
                .await
                .0,
            202
        );
    }

    #[tokio::test]
    async fn the_served_request_log_blanks_passwords_out() {
        let served = serve().await;
        served.post("/api/v1/accounts", linkedin()).await;
        served.post("/api/v1/accounts", mail()).await;
        let (status, log) = served.get("/_sim/requests").await;
        assert_eq!(status, 200);
        assert_eq!(log[0]["body"]["username"], "ada@example.com");
        assert_eq!(log[0]["body"]["password"], "[REDACTED]");
        assert_eq!(log[1]["body"]["imap_password"], "[REDACTED]");
        assert_eq!(log[1]["body"]["smtp_password"], "[REDACTED]");
        // In the process, tests still see what was sent.
        assert_eq!(
            served.sim.requests()[0].body.as_ref().expect("body")["password"],
            "secret"
        );
    }
}
