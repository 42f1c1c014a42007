//! For the simulator's own tests: the router served on a free local port, calls to it with
//! the API key, and a webhook receiver that records what the simulator delivers.

use super::state::Simulator;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "test-key";

/// A simulator listening on `base`.
pub(super) struct Served {
    pub sim: Simulator,
    pub base: String,
    http: reqwest::Client,
}

async fn listen(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

/// A text answer as JSON when it is JSON, else as a JSON string.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json)
}

pub(super) async fn serve() -> Served {
    let sim = Simulator::new(KEY);
    let base = listen(sim.router()).await;
    Served {
        sim,
        base,
        http: reqwest::Client::new(),
    }
}

impl Served {
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("X-API-KEY", KEY)
            .json(&body)
            .send()
            .await
            .expect("the simulator answers");
        answer(response).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("X-API-KEY", KEY)
            .send()
            .await
            .expect("the simulator answers");
        answer(response).await
    }

    /// Registers a receiver as the `account_status` webhook.
    pub async fn account_status_receiver(&self) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let router = Router::new()
            .route("/hook", post(record))
            .with_state(received.clone());
        let url = format!("{}/hook", listen(router).await);
        self.sim.register_webhook("account_status", &url, &[]);
        Receiver { received }
    }
}

async fn record(State(received): State<Arc<Mutex<Vec<Value>>>>, Json(body): Json<Value>) {
    received.lock().expect("lock").push(body);
}

/// What a webhook received.
pub(super) struct Receiver {
    received: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits (up to five seconds) for `count` deliveries, then gives what arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            if self.received().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}
