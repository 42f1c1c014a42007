//! Which URLs may carry what we send or where we send users: https, or plain http to this
//! machine only (the local stack, its simulator and the tests listen on loopback).

use url::{Host, Url};

/// `https`, or `http` to a loopback host (`127.0.0.0/8`, `::1`, `localhost`).
pub fn is_https_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

/// The URL's host is this machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    #[test]
    fn https_anywhere_and_http_on_loopback_only() {
        for good in [
            "https://account.unipile.com/pqb",
            "http://127.0.0.1:8787/hosted/abc",
            "http://127.9.9.9/x",
            "http://[::1]:9000/",
            "http://localhost:3000/",
            "http://LOCALHOST/",
        ] {
            assert!(is_https_or_loopback(&url(good)), "{good}");
        }
        for bad in [
            "http://account.unipile.com/pqb",
            "http://10.0.0.1/",
            "http://localhost.evil.example/",
            "http://127.0.0.1.nip.io/",
            "ftp://127.0.0.1/",
            "javascript:alert(1)",
            "data:text/html,hi",
        ] {
            assert!(!is_https_or_loopback(&url(bad)), "{bad}");
        }
    }
}
