//! `POST /api/v1/accounts/checkpoint/resend` (W1): the user asks for the code (or the app
//! notification) again. Unipile refuses a resend too soon after the last one with
//! `422 errors/cannot_resend_yet`; the simulator counts resends so tests can see them.

use super::answers::{envelope, post_json, strict_fields};
use super::state::Simulator;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

const RESEND_FIELDS: &[&str] = &["account_id", "provider"];
/// X has no resend (W1), nor do the QR providers.
const RESEND_PROVIDERS: &[&str] = &["LINKEDIN", "INSTAGRAM", "MESSENGER"];
/// The checkpoints that sent something to send again.
const RESENDABLE: &[&str] = &["2FA", "OTP", "IN_APP_VALIDATION"];
/// How long after a code is sent another may be asked for.
pub(super) const RESEND_DELAY: Duration = Duration::seconds(30);

fn check_body(body: &Value) -> Result<(String, String), String> {
    let values = strict_fields(
        body,
        RESEND_FIELDS,
        RESEND_PROVIDERS,
        &["provider", "account_id"],
    )?;
    let [provider, account_id] = <[String; 2]>::try_from(values).map_err(|_| "two fields")?;
    Ok((provider, account_id))
}

fn resend(sim: &Simulator, provider: &str, account_id: &str) -> Response {
    let mut state = sim.lock();
    let Some(account) = state.accounts.get(account_id) else {
        return envelope(404, "errors/resource_not_found", "Account not found");
    };
    if account.account_type != provider {
        let reason = format!(
            "provider {provider} does not match the account's type {}",
            account.account_type
        );
        return envelope(400, "errors/invalid_parameters", &reason);
    }
    let waiting = state
        .checkpoints
        .get_mut(account_id)
        .filter(|w| RESENDABLE.contains(&w.kind.as_str()));
    let Some(waiting) = waiting else {
        return envelope(
            400,
            "errors/invalid_parameters",
            "No checkpoint waiting for a code on this account",
        );
    };
    if waiting.expired() {
        return envelope(
            500,
            "errors/authentication_intent_error",
            "The authentication intent expired",
        );
    }
    let now = Utc::now();
    if now < waiting.sent_at + RESEND_DELAY {
        return envelope(
            422,
            "errors/cannot_resend_yet",
            "The code was sent too recently to send it again",
        );
    }
    // A resend does not extend the intent's window (custom-auth doc §2).
    waiting.sent_at = now;
    waiting.resends += 1;
    Json(json!({"object": "CheckpointResend", "account_id": account_id, "success": true}))
        .into_response()
}

pub(super) async fn resend_checkpoint(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = "/api/v1/accounts/checkpoint/resend".to_owned();
    post_json(
        &sim,
        "resend_checkpoint",
        path,
        &headers,
        &body,
        |json| match check_body(json) {
            Ok((provider, account_id)) => resend(&sim, &provider, &account_id),
            Err(reason) => envelope(400, "errors/invalid_parameters", &reason),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_name_an_account_and_a_provider_that_can_resend() {
        let ok = json!({"account_id": "a1", "provider": "INSTAGRAM"});
        assert_eq!(
            check_body(&ok),
            Ok(("INSTAGRAM".to_owned(), "a1".to_owned()))
        );
        for refused in [
            json!({"account_id": "a1", "provider": "TWITTER"}),
            json!({"account_id": "a1", "provider": "WHATSAPP"}),
            json!({"account_id": "a1"}),
            json!({"provider": "LINKEDIN"}),
            json!({"account_id": "a1", "provider": "LINKEDIN", "code": "1"}),
        ] {
            assert!(check_body(&refused).is_err(), "{refused}");
        }
    }

    mod over_http {
        use super::super::super::test_support::serve;
        use super::*;

        #[tokio::test]
        async fn a_resend_waits_thirty_seconds_after_the_last_code() {
            let served = serve().await;
            let body = json!({"provider": "LINKEDIN", "username": "a@b.c", "password": "pw"});
            let (_, answer) = served.post("/api/v1/accounts", body).await;
            let id = answer["account_id"].as_str().expect("id");
            let resend = json!({"account_id": id, "provider": "LINKEDIN"});
            let path = "/api/v1/accounts/checkpoint/resend";
            let (status, early) = served.post(path, resend.clone()).await;
            assert_eq!(
                (status, early["type"].as_str()),
                (422, Some("errors/cannot_resend_yet"))
            );
            served.sim.age_checkpoint(id, Duration::seconds(31));
            let (status, sent) = served.post(path, resend.clone()).await;
            assert_eq!(status, 200);
            assert_eq!(
                sent,
                json!({"object": "CheckpointResend", "account_id": id, "success": true})
            );
            assert_eq!(served.sim.checkpoint(id).expect("waiting").resends, 1);
            // The resend restarted the delay.
            assert_eq!(served.post(path, resend.clone()).await.0, 422);
            let (_, view) = served.get(&format!("/_sim/checkpoints/{id}")).await;
            assert_eq!(view["resends"], 1);
            let wrong_provider = json!({"account_id": id, "provider": "INSTAGRAM"});
            assert_eq!(served.post(path, wrong_provider).await.0, 400);
            let unknown = json!({"account_id": "nope", "provider": "LINKEDIN"});
            assert_eq!(served.post(path, unknown).await.0, 404);
        }

        #[tokio::test]
        async fn nothing_to_resend_without_a_code_checkpoint() {
            let served = serve().await;
            let account = served.sim.add_account("INSTAGRAM", "ada");
            let resend = json!({"account_id": account.id, "provider": "INSTAGRAM"});
            let (status, refused) = served
                .post("/api/v1/accounts/checkpoint/resend", resend)
                .await;
            assert_eq!(
                (status, refused["type"].as_str()),
                (400, Some("errors/invalid_parameters"))
            );
        }
    }
}
