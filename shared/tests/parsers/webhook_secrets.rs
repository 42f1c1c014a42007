//! The webhook's shared-secret header: only the exact secret, in the configured header (any
//! case of its name), is admitted; the secret never prints.

use lambda_http::{Body, Request};
use proptest::prelude::*;
use unipile_connect::http::{DEFAULT_WEBHOOK_HEADER, WebhookSecret};

const SECRET: &str = "s3cret-webhook-value-42";

fn delivery(header: &str, value: &[u8]) -> Option<Request> {
    http::Request::builder()
        .method("POST")
        .uri("/unipile/webhook")
        .header(header, value)
        .body(Body::Empty)
        .ok()
}

proptest! {
    #[test]
    fn only_the_exact_secret_is_admitted(value in prop::collection::vec(any::<u8>(), 0..64)) {
        let secret = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(SECRET)).expect("valid");
        // Values HTTP cannot carry never reach the function.
        if let Some(request) = delivery(DEFAULT_WEBHOOK_HEADER, &value) {
            prop_assert_eq!(secret.admits(&request), value == SECRET.as_bytes());
        }
    }

    #[test]
    fn a_near_miss_of_the_secret_is_refused(cut in 0..SECRET.len(), extra in "[ -~]{1,4}") {
        let secret = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(SECRET)).expect("valid");
        for near in [SECRET[..cut].to_owned(), format!("{SECRET}{extra}"), SECRET.to_uppercase()] {
            if let Some(request) = delivery(DEFAULT_WEBHOOK_HEADER, near.as_bytes()) {
                prop_assert!(!secret.admits(&request), "{near:?}");
            }
        }
    }

    #[test]
    fn the_header_name_is_matched_in_any_case_and_no_other_name_counts(
        upper in prop::collection::vec(any::<bool>(), DEFAULT_WEBHOOK_HEADER.len()),
        other in "[A-Za-z-]{1,20}",
    ) {
        let secret = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(SECRET)).expect("valid");
        let spelled: String = DEFAULT_WEBHOOK_HEADER
            .chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let request = delivery(&spelled, SECRET.as_bytes()).expect("a request");
        prop_assert!(secret.admits(&request));
        if !other.eq_ignore_ascii_case(DEFAULT_WEBHOOK_HEADER) {
            let request = delivery(&other, SECRET.as_bytes()).expect("a request");
            prop_assert!(!secret.admits(&request));
        }
        let printed = format!("{secret:?}");
        prop_assert!(!printed.contains(SECRET));
    }

    #[test]
    fn without_a_configured_secret_nothing_is_admitted(value in "[ -~]{0,32}") {
        for configured in [None, Some("")] {
            let secret = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, configured).expect("valid");
            let request = delivery(DEFAULT_WEBHOOK_HEADER, value.as_bytes()).expect("a request");
            prop_assert!(!secret.admits(&request));
        }
    }
}
