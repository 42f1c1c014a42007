//! The `/_sim` side of a waiting login: what tests read of it (`GET /_sim/checkpoints/{id}`:
//! the QR text to compare with a decoded screenshot, the code that solves it, its resends),
//! the user's phone scanning a QR or typing a pairing code (`POST .../scan`), and the clock
//! moving on (`POST .../age`) so that expiry and resend delays need no real waiting.

use super::completion::finish;
use super::records::{DeliveryAttempt, SimCheckpoint};
use super::state::Simulator;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A waiting login as tests see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointView {
    pub account_id: String,
    /// The account's provider (`WHATSAPP`, `LINKEDIN`, …).
    pub provider: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qrcode: Option<String>,
    /// The pairing code to type in WhatsApp, or the code that solves the checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub resends: u32,
}

/// Why a scan did not complete a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanRefusal {
    /// No QR or pairing code waits for that account.
    NoneWaiting,
    /// One did, but its five minutes are over.
    Expired,
}

fn view(account_id: &str, provider: &str, waiting: &SimCheckpoint) -> CheckpointView {
    let code = match waiting.kind.as_str() {
        "2FA" | "OTP" | "PAIRING_CODE" => Some(waiting.code.clone()),
        "CONTRACT_CHOOSER" => waiting
            .contract_options
            .first()
            .map(|(id, _)| id.clone())
            .or_else(|| Some(waiting.code.clone())),
        _ => None,
    };
    CheckpointView {
        account_id: account_id.to_owned(),
        provider: provider.to_owned(),
        kind: waiting.kind.clone(),
        qrcode: waiting.qrcode.clone(),
        code,
        expires_at: waiting.expires_at,
        resends: waiting.resends,
    }
}

impl Simulator {
    /// The login waiting at a checkpoint on `account_id`, expired or not.
    pub fn checkpoint(&self, account_id: &str) -> Option<CheckpointView> {
        let state = self.lock();
        let waiting = state.checkpoints.get(account_id)?;
        let provider = state
            .accounts
            .get(account_id)
            .map(|a| a.account_type.clone())
            .unwrap_or_default();
        Some(view(account_id, &provider, waiting))
    }

    /// Every login still waiting (unexpired), oldest account first.
    pub fn checkpoints(&self) -> Vec<CheckpointView> {
        let state = self.lock();
        state
            .accounts
            .values()
            .filter_map(|account| {
                let waiting = state.checkpoints.get(&account.id)?;
                (!waiting.expired()).then(|| view(&account.id, &account.account_type, waiting))
            })
            .collect()
    }

    /// The user's phone scans the QR (or enters the pairing code) of `account_id`: the login
    /// completes and the `account_status` webhooks are told, which this awaits.
    pub async fn scan(&self, account_id: &str) -> Result<Vec<DeliveryAttempt>, ScanRefusal> {
        let completion = {
            let mut state = self.lock();
            let waiting = state
                .checkpoints
                .get(account_id)
                .filter(|w| matches!(w.kind.as_str(), "QRCODE" | "PAIRING_CODE"))
                .ok_or(ScanRefusal::NoneWaiting)?;
            if waiting.expired() {
                return Err(ScanRefusal::Expired);
            }
            let (reconnect, custom) = (waiting.reconnect, waiting.custom);
            finish(&mut state, account_id, reconnect, custom)
        };
        Ok(match completion {
            Some(completion) => self.announce(completion).await,
            None => Vec::new(),
        })
    }

    /// Moves the checkpoint of `account_id` `by` into the past, as if that much time had gone
    /// by: its window and its resend delay run down. `false` when none waits.
    pub fn age_checkpoint(&self, account_id: &str, by: Duration) -> bool {
        match self.lock().checkpoints.get_mut(account_id) {
            Some(waiting) => {
                waiting.expires_at -= by;
                waiting.sent_at -= by;
                true
            }
            None => false,
        }
    }
}

/// `GET /_sim/checkpoints/{account_id}`.
pub(super) async fn show(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    match sim.checkpoint(&id) {
        Some(view) => Json(view).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("no checkpoint waits for account {id}"),
        )
            .into_response(),
    }
}

/// `POST /_sim/checkpoints/{account_id}/scan`: [`Simulator::scan`], answering the webhook
/// deliveries.
pub(super) async fn scan(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    match sim.scan(&id).await {
        Ok(deliveries) => Json(json!({"deliveries": deliveries})).into_response(),
        Err(ScanRefusal::NoneWaiting) => (
            StatusCode::NOT_FOUND,
            format!("no QR code or pairing code waits for account {id}"),
        )
            .into_response(),
        Err(ScanRefusal::Expired) => (
            StatusCode::GONE,
            format!("the QR code of account {id} has expired"),
        )
            .into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Age {
    seconds: i64,
}

/// `POST /_sim/checkpoints/{account_id}/age {"seconds":301}`: [`Simulator::age_checkpoint`].
pub(super) async fn age(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    Json(age): Json<Age>,
) -> Response {
    let Some(by) = Duration::try_seconds(age.seconds) else {
        return (StatusCode::BAD_REQUEST, "seconds is out of range").into_response();
    };
    if sim.age_checkpoint(&id, by) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            format!("no checkpoint waits for account {id}"),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::serve;
    use super::*;
    use serde_json::Value;

    #[tokio::test]
    async fn an_expired_qr_cannot_be_scanned() {
        let served = serve().await;
        let hook = served.account_status_receiver().await;
        let (_, answer) = served
            .post("/api/v1/accounts", json!({"provider": "TELEGRAM"}))
            .await;
        let id = answer["account_id"].as_str().expect("id");
        let view = served.sim.checkpoint(id).expect("waiting");
        let window = view.expires_at - Utc::now();
        assert!(window > Duration::seconds(295) && window <= Duration::minutes(5));
        assert!(served.sim.age_checkpoint(id, Duration::minutes(5)));
        let (status, _) = served
            .post(&format!("/_sim/checkpoints/{id}/scan"), Value::Null)
            .await;
        assert_eq!(status, 410);
        assert_eq!(served.sim.scan(id).await, Err(ScanRefusal::Expired));
        assert!(hook.received().is_empty());
        assert!(served.sim.checkpoints().is_empty());
        assert_eq!(served.sim.accounts()[0].status, "CONNECTING");
    }

    #[tokio::test]
    async fn a_code_checkpoint_is_not_scanned() {
        let served = serve().await;
        let body = json!({"provider": "LINKEDIN", "username": "a@b.c", "password": "pw"});
        let (_, answer) = served.post("/api/v1/accounts", body).await;
        let id = answer["account_id"].as_str().expect("id");
        assert_eq!(served.sim.scan(id).await, Err(ScanRefusal::NoneWaiting));
        let (status, view) = served.get(&format!("/_sim/checkpoints/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(view["type"], "2FA");
        assert_eq!(view["code"], "123456");
        assert_eq!(view["provider"], "LINKEDIN");
        assert_eq!(view["resends"], 0);
        assert!(view.get("qrcode").is_none());
    }

    #[tokio::test]
    async fn the_phone_page_scans_and_comes_back() {
        let served = serve().await;
        let hook = served.account_status_receiver().await;
        let (_, answer) = served
            .post("/api/v1/accounts", json!({"provider": "WHATSAPP"}))
            .await;
        let id = answer["account_id"].as_str().expect("id");
        let (status, page) = served.get("/_sim/phone").await;
        assert_eq!(status, 200);
        let page = page.as_str().expect("html");
        assert!(page.contains("The simulated phone"));
        assert!(page.contains(&format!("/_sim/phone/{id}/scan")));
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let pressed = no_redirects
            .post(format!("{}/_sim/phone/{id}/scan", served.base))
            .send()
            .await
            .expect("answered");
        assert_eq!(pressed.status().as_u16(), 303);
        assert_eq!(pressed.headers()["location"], "/_sim/phone");
        assert_eq!(hook.received()[0]["AccountStatus"]["account_id"], id);
        let (_, page) = served.get("/_sim/phone").await;
        assert!(!page.as_str().expect("html").contains(id));
    }
}
