//! `POST /accounts/link` bodies, read as the handler reads them: no bytes make the parser
//! panic, and an accepted request only ever sends the browser back to an allowed origin, over
//! http(s), whatever tricks the URL holds (userinfo, backslashes, case, IDN, trailing dots).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use unipile_domain::{LinkKind, LinkRequest, LinkRequestBody, ProviderSelection, RedirectPolicy};

const ALLOWED: &str = "https://app.example.com,http://localhost:3000";

static POLICY: LazyLock<RedirectPolicy> =
    LazyLock::new(|| RedirectPolicy::parse(ALLOWED).expect("the fuzz policy parses"));

/// The allowed origins as a browser compares them: scheme, host and port.
fn allowed(url: &url::Url) -> bool {
    let origin = url.origin().ascii_serialization();
    ALLOWED.split(',').any(|o| o == origin)
}

fuzz_target!(|body: &[u8]| {
    let Ok(body) = serde_json::from_slice::<LinkRequestBody>(body) else {
        return;
    };
    let Ok(request) = LinkRequest::parse(body, &POLICY) else {
        return;
    };
    for url in [&request.success_redirect_url, &request.failure_redirect_url]
        .into_iter()
        .flatten()
    {
        assert!(matches!(url.scheme(), "http" | "https"));
        assert!(allowed(url), "{url} is off the allow-list");
    }
    if let LinkKind::Create {
        providers: ProviderSelection::Only(list),
    } = &request.kind
    {
        assert!(!list.is_empty());
        assert!(list.iter().all(|p| p.offered_by_hosted_auth()));
    }
});
