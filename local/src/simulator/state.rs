use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// A request the simulator received on its API, kept so tests can check our requests field
/// by field against the contract.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub api_key_sent: bool,
    pub body: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SimAccount {
    pub id: String,
    #[serde(rename = "type")]
    pub account_type: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub status: String,
    /// What `connection_params.im.id` shows: for LinkedIn, the member's profile id
    /// (`ACoAA…`); none when the simulator does not know whose account it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin_profile_id: Option<String>,
}

/// Makes the next `times` calls to `route` (`hosted_link`, `get_account`, `list_accounts`,
/// `delete_account`, `restart_account`, `create_webhook`, `list_webhooks`, `delete_webhook`,
/// `connect_account` (a cookie login, or a native login or reconnect), `reconnect_account`
/// (a cookie reconnect), `solve_checkpoint`, `resend_checkpoint`, or `*`) fail with `status`
/// and Unipile error `type`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fault {
    pub route: String,
    pub status: u16,
    #[serde(rename = "type")]
    pub error_type: String,
    pub times: u32,
}

/// A hosted-auth link as Unipile would hold it.
#[derive(Debug, Clone)]
pub(super) struct SimLink {
    pub kind: String,
    pub providers: Vec<String>,
    pub reconnect_account: Option<String>,
    pub name: String,
    pub notify_url: Option<String>,
    pub success_redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
    pub expires_on: DateTime<Utc>,
    pub used: bool,
}

/// One `notify_url` delivery and how our side answered it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotifyDelivery {
    pub url: String,
    pub body: serde_json::Value,
    pub status: Option<u16>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct SimState {
    pub accounts: BTreeMap<String, SimAccount>,
    pub links: HashMap<String, SimLink>,
    pub requests: Vec<RecordedRequest>,
    pub faults: Vec<Fault>,
    pub notifications: Vec<NotifyDelivery>,
    pub webhooks: Vec<super::records::SimWebhook>,
    pub cookie_outcomes: std::collections::VecDeque<String>,
    /// The scripted answers of the next native credential logins.
    pub login_outcomes: std::collections::VecDeque<String>,
    /// Logins waiting at a checkpoint, by account id.
    pub checkpoints: HashMap<String, super::records::SimCheckpoint>,
    /// Where hosted-auth links point instead of this simulator's own page (a test of what
    /// we accept from Unipile).
    pub hosted_link_base: Option<String>,
    /// Whose LinkedIn session each `li_at` is: the profile id accounts logged in with it show.
    pub linkedin_members: HashMap<String, String>,
}

/// The simulator; cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct Simulator {
    pub(super) state: Arc<Mutex<SimState>>,
    pub(super) api_key: Arc<str>,
    pub(super) http: reqwest::Client,
}

impl Simulator {
    pub fn new(api_key: &str) -> Self {
        Self {
            state: Arc::default(),
            api_key: Arc::from(api_key),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn accounts(&self) -> Vec<SimAccount> {
        self.lock().accounts.values().cloned().collect()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub fn notifications(&self) -> Vec<NotifyDelivery> {
        self.lock().notifications.clone()
    }

    pub fn add_fault(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// The LinkedIn session `li_at` is the member `profile_id`'s (`ACoAA…`): accounts a cookie
    /// login with it creates show that `connection_params.im.id`.
    pub fn add_linkedin_member(&self, li_at: &str, profile_id: &str) {
        self.lock()
            .linkedin_members
            .insert(li_at.to_owned(), profile_id.to_owned());
    }

    /// Hands out hosted-auth links under `base` (e.g. `http://account.example`) rather than
    /// under this simulator's own page.
    pub fn set_hosted_link_base(&self, base: &str) {
        self.lock().hosted_link_base = Some(base.trim_end_matches('/').to_owned());
    }

    /// Disarms every fault, fired or not.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Adds an account as if someone had connected it earlier.
    pub fn add_account(&self, account_type: &str, name: &str) -> SimAccount {
        let account = SimAccount {
            id: new_id(),
            account_type: account_type.to_owned(),
            name: name.to_owned(),
            created_at: Utc::now(),
            status: "OK".to_owned(),
            linkedin_profile_id: None,
        };
        self.lock()
            .accounts
            .insert(account.id.clone(), account.clone());
        account
    }

    /// The fault to answer with, if one is armed for `route`.
    pub(super) fn take_fault(&self, route: &str) -> Option<Fault> {
        let mut state = self.lock();
        let fault = state
            .faults
            .iter_mut()
            .find(|f| f.times > 0 && (f.route == route || f.route == "*"))?;
        fault.times -= 1;
        Some(fault.clone())
    }
}

/// Unipile ids look like `e54m8LR22bA7G5qsAc8w`: 20 characters of [A-Za-z0-9_-].
pub(super) fn new_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut bytes = [0u8; 20];
    if getrandom::fill(&mut bytes).is_err() {
        // Only uniqueness matters in a simulator: fall back to the clock.
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        return format!("sim{nanos:017}");
    }
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}
