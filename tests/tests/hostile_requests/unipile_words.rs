//! Unipile's own words never reach an end user: whatever Unipile answers to a call a user's
//! request makes (every error status it documents), the answer we give carries our words,
//! the status and Unipile's error type, never Unipile's title or detail.

use super::{UA, call, connect_with_cookie, start_stack, user_request};
use crate::credentials::mint;
use local_stack::simulator::Fault;
use serde_json::json;

/// The title the simulator gives every failure it is told to make.
const UNIPILE_WORDS: &str = "Simulated failure";

#[tokio::test]
async fn unipiles_error_text_never_reaches_a_user() {
    let stack = start_stack().await;
    let token = mint(&stack.base_url, "sub=words-user&email=words@example.com").await;
    let account = connect_with_cookie(&stack, &token, "AQEDAR-words-user-0001", "3131").await;
    let simulator = stack.simulator.as_ref().expect("the simulator");
    let failures = [
        (400, "errors/invalid_parameters"),
        (401, "errors/missing_credentials"),
        (403, "errors/insufficient_permissions"),
        (422, "errors/invalid_credentials"),
        (429, "errors/too_many_requests"),
        (500, "errors/unexpected_error"),
        (503, "errors/service_unavailable"),
        // Last: to a deletion it means the account is gone already, which is taken.
        (404, "errors/resource_not_found"),
    ];
    let mut member = 5000;
    let mut checked = 0;
    let mut problems = Vec::new();
    for (status, error_type) in failures {
        member += 1;
        let calls = [
            user_request(
                "POST",
                "/accounts/link",
                Some(&token),
                Some(json!({"type": "create", "providers": "*"})),
            ),
            user_request(
                "POST",
                "/accounts/link",
                Some(&token),
                Some(json!({"type": "reconnect", "reconnect_account": account})),
            ),
            user_request(
                "POST",
                "/extension/cookies",
                Some(&token),
                Some(
                    json!({"li_at": format!("AQEDAR-words-{member}"), "user_agent": UA, "linkedin_member_id": member.to_string()}),
                ),
            ),
            user_request(
                "DELETE",
                &format!("/accounts/{account}"),
                Some(&token),
                None,
            ),
        ];
        for request in calls {
            let route = format!("{} {}", request.method, request.target);
            // Every Unipile call this request makes fails, however many it retries.
            simulator.add_fault(Fault {
                route: "*".into(),
                status,
                error_type: error_type.into(),
                times: 10,
            });
            let answer = call(&stack, request).await;
            simulator.clear_faults();
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            checked += 1;
            let gone_already = status == 404 && route.starts_with("DELETE");
            if answer.status < 400 && !gone_already {
                problems.push(format!(
                    "{route} with Unipile answering {status}: taken ({})",
                    answer.status
                ));
            }
            if text.contains(UNIPILE_WORDS) {
                problems.push(format!(
                    "{route} with Unipile answering {status}: Unipile's words shown: {text}"
                ));
            }
        }
    }
    println!("Unipile's words: {checked} failed calls answered, none quoting Unipile");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
