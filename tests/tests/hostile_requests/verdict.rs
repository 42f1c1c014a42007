//! What every answer to a hostile request must be, and the tally of what was seen.

use crate::contract::{Contract, routed_path};
use crate::requests::Case;
use harness::raw_http::RawResponse;
use serde_json::Value;
use std::collections::BTreeMap;

/// Shorter than this, a "secret" (an empty header, `Bearer`) would be found in any text.
const SECRET_MIN_LEN: usize = 12;

/// The problems with `answer` to `case`; none when it is what the contract promises.
pub fn judge(
    contract: &Contract,
    case: &Case,
    answer: &Result<RawResponse, String>,
    secrets: &[String],
) -> Vec<String> {
    let response = match answer {
        Ok(response) => response,
        Err(error) => return vec![format!("no answer: {error}")],
    };
    let mut problems = Vec::new();
    let status = response.status;
    if status >= 500 {
        problems.push(format!("a server error ({status}) for a client's request"));
    }
    let path = case.request.target.split('?').next().unwrap_or_default();
    match routed_path(contract, path) {
        None => {
            // The router's own answer to a path no route takes.
            if status != 404 || !response.body.is_empty() {
                problems.push(format!("an unrouted path answered {status}"));
            }
        }
        Some(route) => {
            if !contract.documents(route, status) {
                problems.push(format!("{status} is not documented for {route}"));
            }
            if (400..500).contains(&status) {
                problems.extend(problem_shape(case, response));
            }
        }
    }
    let body = String::from_utf8_lossy(&response.body);
    for secret in secrets.iter().chain(&case.secrets) {
        if secret.len() >= SECRET_MIN_LEN && body.contains(secret.as_str()) {
            problems.push("the answer quotes a secret the request carried".to_owned());
        }
    }
    problems
}

/// A refusal from one of our handlers is an RFC 9457 problem of ours.
fn problem_shape(case: &Case, response: &RawResponse) -> Vec<String> {
    let status = response.status;
    if response.header("content-type") != Some("application/problem+json") {
        return vec![format!(
            "{status} with content type {:?}, not application/problem+json",
            response.header("content-type")
        )];
    }
    if case.request.method == "HEAD" {
        return Vec::new();
    }
    let Ok(problem) = serde_json::from_slice::<Value>(&response.body) else {
        return vec![format!("{status} with a problem body that is not JSON")];
    };
    let fits = problem["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("urn:unipile-connect:problem:"))
        && problem["title"].as_str().is_some_and(|t| !t.is_empty())
        && problem["status"] == status
        && problem["detail"].is_string();
    if fits {
        Vec::new()
    } else {
        vec![format!(
            "{status} with a problem that does not fit: {problem}"
        )]
    }
}

/// What was sent and answered, per documented path.
#[derive(Default)]
pub struct Tally {
    pub statuses: BTreeMap<String, BTreeMap<u16, usize>>,
    /// Valid-looking requests that were taken (2xx), per path.
    pub valid_taken: BTreeMap<String, usize>,
    pub valid_sent: BTreeMap<String, usize>,
    /// Refused requests sent again alone, to count the store's items around them.
    pub replayed: usize,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn record(&mut self, case: &Case, status: Option<u16>) {
        let path = &case.operation_path;
        if let Some(status) = status {
            *self
                .statuses
                .entry(path.clone())
                .or_default()
                .entry(status)
                .or_default() += 1;
        }
        if case.looks_valid {
            *self.valid_sent.entry(path.clone()).or_default() += 1;
            if status.is_some_and(|s| (200..300).contains(&s)) {
                *self.valid_taken.entry(path.clone()).or_default() += 1;
            }
        }
    }

    pub fn fail(&mut self, case: &Case, problems: &[String]) {
        let body = String::from_utf8_lossy(&case.request.body);
        let shown: String = body.chars().take(300).collect();
        self.failures.push(format!(
            "{} {} (for {}): {}\n    body ({} bytes): {shown}",
            case.request.method,
            truncated(&case.request.target, 200),
            case.operation_path,
            problems.join("; "),
            case.request.body.len(),
        ));
    }

    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        for (path, statuses) in &self.statuses {
            let sent: usize = statuses.values().sum();
            let seen: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
            lines.push(format!(
                "  {path:<36} {sent:>6} requests; valid-looking taken {}/{}; {}",
                self.valid_taken.get(path).unwrap_or(&0),
                self.valid_sent.get(path).unwrap_or(&0),
                seen.join(" ")
            ));
        }
        lines.join("\n")
    }
}

fn truncated(text: &str, max: usize) -> String {
    if text.len() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}… ({} bytes)", text.len())
    }
}
