//! The team's webhook endpoint as the tests play it: `tests/webhook_receiver.py`, which checks
//! every delivery with the Standard Webhooks reference implementation for Python, so that our
//! signatures are proven by code that is not ours.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct WebhookReceiver {
    /// Where deliveries go (any path but `/_received` and `/_control`).
    pub url: String,
    base: String,
    child: Child,
}

/// One delivery as the receiver saw it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub signatures: usize,
    /// Every secret the receiver was given verified it.
    pub verified: bool,
    pub answered: u16,
    pub event: Value,
}

impl WebhookReceiver {
    /// Starts a receiver that verifies with each of `secrets` (space-separated).
    pub fn start(secrets: &str) -> Self {
        let python = crate::moto::venv_python().unwrap_or_else(|e| panic!("{e}"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("webhook_receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .env("RECEIVER_SECRETS", secrets)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the webhook receiver starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the receiver says where it listens");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the receiver said {line:?}"));
        let base = format!("http://127.0.0.1:{port}");
        Self {
            url: format!("{base}/hooks/unipile-connect"),
            base,
            child,
        }
    }

    pub async fn received(&self) -> Vec<Received> {
        reqwest::get(format!("{}/_received", self.base))
            .await
            .expect("the receiver answers")
            .json()
            .await
            .expect("its list")
    }

    /// `{"refuse_first": N}` or `{"refuse_all": bool}` (see the script).
    pub async fn control(&self, control: Value) {
        reqwest::Client::new()
            .post(format!("{}/_control", self.base))
            .json(&control)
            .send()
            .await
            .expect("the receiver answers")
            .error_for_status()
            .expect("control accepted");
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
