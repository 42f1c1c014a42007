//! Another user's account through every route that names one: each answers as for an account
//! that does not exist (nothing tells Ann that Bob's exists), and nothing of Bob's changes,
//! in the store or at Unipile.

use super::{UA, call, connect_with_cookie, start_stack, user_request as request};
use crate::credentials::mint;
use harness::raw_http::RawRequest;
use local_stack::stack::LocalStack;
use serde_json::{Value, json};
use unipile_connect::domain::{AccountId, LinkPurpose, UserId};

const BOB: &str = "security-bob";
const ANN: &str = "security-ann";

/// What the stack holds of Bob, and what Unipile holds: both must stay as they were.
fn bobs_world(stack: &LocalStack) -> (Vec<String>, String) {
    let items = stack
        .store_contents()
        .expect("the store is in memory")
        .into_iter()
        .filter(|line| line.contains(BOB))
        .collect();
    let simulator = stack.simulator.as_ref().expect("the simulator");
    let mut accounts = simulator.accounts();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    (items, format!("{accounts:?}"))
}

fn notify(state: &str) -> String {
    format!(
        "/unipile/notify?state={}",
        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
    )
}

#[tokio::test]
async fn another_users_account_is_not_found_through_every_route_and_nothing_of_theirs_changes() {
    let stack = start_stack().await;
    let base = &stack.base_url;
    let ann = mint(base, &format!("sub={ANN}&email=ann@example.com")).await;
    let bob = mint(base, &format!("sub={BOB}&email=bob@example.com")).await;
    let bobs_account = connect_with_cookie(&stack, &bob, "AQEDAR-security-bob-0042", "4242").await;
    let state_key = unipile_connect::http::StateKey::new(super::STATE_KEY.to_vec()).expect("key");
    let ann_state = |purpose: LinkPurpose| {
        state_key
            .sign(
                &UserId::parse(ANN).expect("user"),
                &purpose,
                chrono::Utc::now() + chrono::Duration::minutes(30),
            )
            .expect("signed")
    };
    let bobs_id = AccountId::parse(bobs_account.clone()).expect("id");
    let created = ann_state(LinkPurpose::Create);
    let reconnect = ann_state(LinkPurpose::Reconnect {
        account_id: bobs_id,
    });
    let callback = |name: &str| json!({"status": "CREATION_SUCCESS", "account_id": bobs_account, "name": name});
    // Bob waits at a custom sign-in's QR code: his attempt is as much his as his accounts.
    let started = call(
        &stack,
        request(
            "POST",
            "/accounts/connect",
            Some(&bob),
            Some(json!({"provider": "WHATSAPP"})),
        ),
    )
    .await;
    assert_eq!(
        started.status,
        202,
        "{}",
        String::from_utf8_lossy(&started.body)
    );
    let started: Value = serde_json::from_slice(&started.body).expect("JSON");
    let bobs_sign_in = started["account_id"].as_str().expect("id").to_owned();
    let routes: Vec<(&str, RawRequest, u16)> = vec![
        (
            "DELETE /accounts/{id}",
            request(
                "DELETE",
                &format!("/accounts/{bobs_account}"),
                Some(&ann),
                None,
            ),
            404,
        ),
        (
            "POST /accounts/link (reconnect)",
            request(
                "POST",
                "/accounts/link",
                Some(&ann),
                Some(json!({"type": "reconnect", "reconnect_account": bobs_account})),
            ),
            404,
        ),
        (
            "GET /accounts/connect/{account_id} (Bob's sign-in)",
            request(
                "GET",
                &format!("/accounts/connect/{bobs_sign_in}"),
                Some(&ann),
                None,
            ),
            404,
        ),
        (
            "POST /accounts/connect/checkpoint (Bob's sign-in)",
            request(
                "POST",
                "/accounts/connect/checkpoint",
                Some(&ann),
                Some(json!({"account_id": bobs_sign_in, "code": "123456"})),
            ),
            404,
        ),
        (
            "POST /accounts/connect/resend (Bob's sign-in)",
            request(
                "POST",
                "/accounts/connect/resend",
                Some(&ann),
                Some(json!({"account_id": bobs_sign_in})),
            ),
            404,
        ),
        (
            "POST /accounts/connect (renew Bob's QR code)",
            request(
                "POST",
                "/accounts/connect",
                Some(&ann),
                Some(json!({"provider": "WHATSAPP", "renew": bobs_sign_in})),
            ),
            400,
        ),
        (
            "POST /accounts/connect (reconnect Bob's account here)",
            request(
                "POST",
                "/accounts/connect",
                Some(&ann),
                Some(
                    json!({"provider": "LINKEDIN", "reconnect_account": bobs_account,
                    "username": "ann@example.com", "password": "never-logged-ann"}),
                ),
            ),
            404,
        ),
        (
            "PUT /extension/identities/{member_id} (pause)",
            request(
                "PUT",
                "/extension/identities/4242",
                Some(&ann),
                Some(json!({"paused": true})),
            ),
            404,
        ),
        (
            "PUT /extension/identities/{member_id} (resume)",
            request(
                "PUT",
                "/extension/identities/4242",
                Some(&ann),
                Some(json!({"paused": false})),
            ),
            404,
        ),
        (
            "POST /unipile/notify (Ann's create link naming Bob's account)",
            request("POST", &notify(&created), None, Some(callback(ANN))),
            404,
        ),
        (
            "POST /unipile/notify (Ann's reconnect link for Bob's account)",
            request("POST", &notify(&reconnect), None, Some(callback(ANN))),
            404,
        ),
    ];
    let mut failures = Vec::new();
    for (route, request, expected) in routes {
        let before = bobs_world(&stack);
        let answer = call(&stack, request).await;
        let after = bobs_world(&stack);
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        if answer.status != expected {
            failures.push(format!(
                "{route}: answered {} (expected {expected}): {text}",
                answer.status
            ));
        }
        if text.contains(BOB) {
            failures.push(format!("{route}: the answer names Bob: {text}"));
        }
        if before != after {
            failures.push(format!("{route}: changed Bob's items or accounts"));
        }
    }

    // Ann's own lists and her own deletion do not reach Bob's.
    let before = bobs_world(&stack);
    for target in ["/accounts", "/extension/identities"] {
        let answer = call(&stack, request("GET", target, Some(&ann), None)).await;
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        if answer.status != 200 || text.contains(&bobs_account) || text.contains("4242") {
            failures.push(format!("GET {target}: {} {text}", answer.status));
        }
    }
    let wiped = call(
        &stack,
        request("DELETE", "/extension/cookies", Some(&ann), None),
    )
    .await;
    if wiped.status != 200 {
        failures.push(format!("DELETE /extension/cookies: {}", wiped.status));
    }
    // Ann syncing from a browser signed in to Bob's LinkedIn connects an account of her own:
    // Bob's record and account stay his.
    let synced = call(
        &stack,
        request(
            "POST",
            "/extension/cookies",
            Some(&ann),
            Some(json!({"li_at": "AQEDAR-security-ann-0041", "user_agent": UA, "linkedin_member_id": "4242"})),
        ),
    )
    .await;
    if synced.status >= 500 {
        failures.push(format!("POST /extension/cookies: {}", synced.status));
    }
    let (items_after, _) = bobs_world(&stack);
    if items_after != before.0 {
        failures.push("Ann's lists, deletion or sync changed Bob's items".to_owned());
    }
    let bobs_list = call(&stack, request("GET", "/accounts", Some(&bob), None)).await;
    let bobs_list: Value = serde_json::from_slice(&bobs_list.body).expect("JSON");
    let still_his = bobs_list["accounts"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["account_id"] == bobs_account.as_str()));
    if !still_his {
        failures.push(format!("Bob's list lost his account: {bobs_list}"));
    }
    println!("another user's account: 11 routes refused, 2 lists, 1 deletion and 1 sync checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
