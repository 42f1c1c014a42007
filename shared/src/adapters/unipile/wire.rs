//! Unipile's JSON, field for field as the contract gives it. Requests are built exactly;
//! responses are read leniently (unknown fields ignored, `object` spellings tolerated).

use crate::domain::ProviderSelection;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
pub(super) struct HostedLinkBody<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub providers: Option<&'a ProviderSelection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconnect_account: Option<&'a str>,
    pub api_url: String,
    #[serde(rename = "expiresOn")]
    pub expires_on: String,
    pub name: &'a str,
    pub notify_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_redirect_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_redirect_url: Option<&'a str>,
}

/// `{"object":"HostedAuthURL"|"HostedAuthUrl","url":"..."}`: only `url` is read.
#[derive(Debug, Deserialize)]
pub(super) struct HostedLinkResponse {
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct AccountResponse {
    #[serde(default)]
    pub object: Option<String>,
    pub id: String,
    #[serde(rename = "type")]
    pub account_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub sources: Vec<SourceResponse>,
    /// RFC 3339 (contract §6); read leniently: an unreadable one is treated as unknown.
    #[serde(default)]
    pub created_at: Option<String>,
    /// `connection_params.im.id`: for LinkedIn, the member's profile id (`ACoAA…`). Read
    /// leniently, as any JSON: the contract does not confirm it for every account.
    #[serde(default)]
    pub connection_params: Option<serde_json::Value>,
}

/// `{"object":"AccountList","items":[Account],"cursor":string|null}` (contract §6). `items`
/// is required: a list we cannot read must not pass for an empty one.
#[derive(Debug, Deserialize)]
pub(super) struct AccountListResponse {
    pub items: Vec<serde_json::Value>,
    #[serde(default)]
    pub cursor: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SourceResponse {
    #[serde(default)]
    pub status: Option<String>,
}

/// The common error envelope `{"title","detail"?,"type","status"}`.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorEnvelope {
    #[serde(rename = "type", default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// An answer that is only its `object`, such as `{"object":"AccountRestarted"}`.
#[derive(Debug, Deserialize)]
pub(super) struct ObjectOnly {
    #[serde(default)]
    pub object: Option<String>,
}

/// `POST /api/v1/accounts[/{id}]` with LinkedIn cookies (contract §4a, §4b).
#[derive(Serialize)]
pub(super) struct LinkedinCookieBody<'a> {
    pub provider: &'static str,
    pub access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premium_token: Option<&'a str>,
    pub user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// `POST /api/v1/accounts/checkpoint` (contract §4c).
#[derive(Serialize)]
pub(super) struct CheckpointSolutionBody<'a> {
    pub provider: &'static str,
    pub account_id: &'a str,
    pub code: &'a str,
}

/// `AccountCreated` / `AccountReconnected` / `Checkpoint` (contract §4c).
#[derive(Debug, Deserialize)]
pub(super) struct CookieAuthResponse {
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub checkpoint: Option<CheckpointBody>,
}

#[derive(Debug, Deserialize)]
pub(super) struct CheckpointBody {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}
