//! The local stack answers only requests addressed to this machine by name: `127.0.0.1`,
//! `localhost` or `[::1]`, on its own port. A web page elsewhere could otherwise point a DNS
//! name of its own at 127.0.0.1 (DNS rebinding) and, being same-origin with the stack under
//! that name, read what it answers: a minted token from `/_local/token` first of all.

use crate::bridge::from_lambda;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use unipile_connect::http::Problem;

/// The `Host` values the stack answers to, for the port it listens on.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    pub fn for_port(port: u16) -> Self {
        Self(
            ["127.0.0.1", "localhost", "[::1]"]
                .iter()
                .map(|host| format!("{host}:{port}"))
                .collect(),
        )
    }

    fn allows(&self, host: &str) -> bool {
        self.0
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }
}

pub async fn refuse_foreign_hosts(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        // HTTP/2 and absolute-form requests name the host in the URI.
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if allowed.allows(&host) => next.run(request).await,
        _ => from_lambda(
            Problem::new(
                403,
                "host-not-allowed",
                "Not this machine's address",
                "the local stack answers only requests to 127.0.0.1, localhost or [::1] on its \
                 own port (a foreign Host could be a DNS-rebinding page)",
            )
            .into_response(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machines_names_on_this_port_are_allowed() {
        let allowed = AllowedHosts::for_port(8787);
        for host in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LOCALHOST:8787",
            "[::1]:8787",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in [
            "evil.example.com:8787",
            "127.0.0.1",
            "127.0.0.1:8788",
            "localhost",
            "127.0.0.1.nip.io:8787",
            "localhost.evil.com:8787",
            "",
        ] {
            assert!(!allowed.allows(host), "{host}");
        }
    }
}
