//! The redirect policy: a URL passes only when a browser following it lands on an allowed
//! origin (scheme, host and port as the browser reads them), whatever tricks it is written
//! with: userinfo, backslashes, mixed case, IDN look-alikes, trailing dots, ports,
//! `javascript:` and `data:`.

use proptest::prelude::*;
use unipile_connect::domain::RedirectPolicy;

const ALLOWED: &str = "https://app.example.com, http://localhost:3000";

fn policy() -> RedirectPolicy {
    RedirectPolicy::parse(ALLOWED).expect("origins")
}

/// How a host is written, and whether a browser reads it as the allowed host it names.
const HOSTS: &[(&str, Option<&str>)] = &[
    ("app.example.com", Some("app.example.com")),
    ("APP.Example.COM", Some("app.example.com")),
    ("app.example.com.", None),
    ("app.example.com..", None),
    ("app.example.com.evil.io", None),
    ("evil.io", None),
    ("app-example.com", None),
    ("app.example.co", None),
    ("xn--pp-example-7hd.com", None),
    ("аpp.example.com", None),
    ("app.exаmple.com", None),
    ("localhost", Some("localhost")),
    ("LOCALHOST", Some("localhost")),
    ("localhost.", None),
    ("127.0.0.1", None),
    ("[::1]", None),
    ("0x7f.1", None),
];

const SCHEMES: &[(&str, Option<&str>)] = &[
    ("https://", Some("https")),
    ("HTTPS://", Some("https")),
    ("hTTps://", Some("https")),
    ("https:\\\\", Some("https")),
    ("https:/", Some("https")),
    ("https:", Some("https")),
    ("http://", Some("http")),
    ("HTTP://", Some("http")),
    ("javascript://", None),
    ("data://", None),
    ("ftp://", None),
    ("//", None),
    ("", None),
];

const USERINFO: &[&str] = &[
    "",
    "user@",
    "user:pass@",
    "app.example.com@",
    "app.example.com/@",
    "evil.io\\@",
];

/// Port as written, and the port it means for the scheme (`None`: the scheme's default).
const PORTS: &[(&str, Option<u16>)] = &[
    ("", None),
    (":443", Some(443)),
    (":80", Some(80)),
    (":3000", Some(3000)),
    (":8443", Some(8443)),
    (":0443", Some(443)),
];

/// Where a browser following a URL made of these parts lands: (scheme, host, port), when
/// the parts make an http(s) URL.
fn lands_on(
    scheme: &str,
    userinfo: &str,
    host: Option<&str>,
    port: Option<u16>,
) -> Option<(String, String, u16)> {
    let default = if scheme == "https" { 443 } else { 80 };
    // A `/` or `\` in what looks like userinfo ends the authority there for http(s): the
    // host is what precedes it, and what follows (`@`, the host, the port) is path.
    if let Some(end) = userinfo.find(['/', '\\']) {
        let early = &userinfo[..end];
        let (_, means) = HOSTS.iter().find(|(written, _)| *written == early)?;
        return Some((scheme.to_owned(), (*means)?.to_owned(), default));
    }
    Some((scheme.to_owned(), host?.to_owned(), port.unwrap_or(default)))
}

fn allowed(landing: &(String, String, u16)) -> bool {
    let (scheme, host, port) = landing;
    (scheme == "https" && host == "app.example.com" && *port == 443)
        || (scheme == "http" && host == "localhost" && *port == 3000)
}

/// A URL written with tricks, as a string.
pub fn hostile_url() -> impl Strategy<Value = String> {
    (
        prop::sample::select(SCHEMES),
        prop::sample::select(USERINFO),
        prop::sample::select(HOSTS),
        prop::sample::select(PORTS),
        "(/[a-z.@%\\\\]{0,8}){0,3}",
    )
        .prop_map(|((scheme, _), userinfo, (host, _), (port, _), path)| {
            format!("{scheme}{userinfo}{host}{port}{path}")
        })
}

proptest! {
    #[test]
    fn a_url_passes_only_when_the_browser_lands_on_an_allowed_origin(
        (scheme, scheme_means) in prop::sample::select(SCHEMES),
        userinfo in prop::sample::select(USERINFO),
        (host, host_means) in prop::sample::select(HOSTS),
        (port, port_means) in prop::sample::select(PORTS),
        path in "(/[a-z.@%]{0,8}){0,3}",
    ) {
        let url = format!("{scheme}{userinfo}{host}{port}{path}");
        let landing = scheme_means.and_then(|s| lands_on(s, userinfo, host_means, port_means));
        let expected = landing.as_ref().is_some_and(allowed);
        let checked = policy().check("success_redirect_url", &url);
        prop_assert_eq!(checked.is_ok(), expected, "{} -> {:?} (lands on {:?})", url, checked, landing);
        if let Ok(accepted) = checked {
            let origin = accepted.origin().ascii_serialization();
            prop_assert!(origin == "https://app.example.com" || origin == "http://localhost:3000");
        }
    }

    #[test]
    fn no_text_makes_the_policy_panic_and_refusals_do_not_quote_the_url(text in crate::hostile_text()) {
        if let Err(error) = policy().check("failure_redirect_url", &text) {
            let shown = error.to_string();
            prop_assert!(text.len() < 4 || !shown.contains(&text), "{shown}");
        }
    }
}
