//! Secrets never reach a log line, whatever the level.

use harness::requests::{api, notify};
use harness::world::{API_KEY, STATE_KEY, WEBHOOK_SECRET, World};
use local_stack::simulator::Fault;

#[tokio::test]
async fn given_every_log_level_captured_when_the_whole_flow_runs_then_no_key_or_token_is_logged() {
    let world = World::new().await;

    let link = world
        .request_link("u1", r#"{"type":"create","providers":"*"}"#)
        .await;
    assert_eq!(link.status(), 200);
    let sent = world
        .simulator
        .requests()
        .pop()
        .and_then(|r| r.body)
        .expect("link body");
    let notify_url = sent["notify_url"].as_str().expect("notify_url").to_owned();
    let state = notify_url.split("state=").nth(1).expect("state").to_owned();

    let account = world.simulator.add_account("LINKEDIN", "Jane");
    let body = format!(
        r#"{{"status":"CREATION_SUCCESS","account_id":"{}","name":"u1"}}"#,
        account.id
    );
    let recorded = connect_callback::handler(&world.connect_callback, notify(&notify_url, &body))
        .await
        .expect("handled");
    assert_eq!(recorded.status(), 200);
    let forged = connect_callback::handler(
        &world.connect_callback,
        notify(&format!("{notify_url}x"), &body),
    )
    .await
    .expect("handled");
    assert_eq!(forged.status(), 401);

    world.simulator.add_fault(Fault {
        route: "*".into(),
        status: 500,
        error_type: "errors/unexpected_error".into(),
        times: 3,
    });
    let failed = accounts::handler(
        &world.accounts,
        api("DELETE", &format!("/accounts/{}", account.id), "u1", None),
    )
    .await
    .expect("handled");
    assert_eq!(failed.status(), 502);

    world.simulator.set_status(&account.id, "CREDENTIALS");
    for secret in [WEBHOOK_SECRET, "a-wrong-secret"] {
        let webhook = http::Request::builder()
            .method("POST")
            .uri("/unipile/webhook")
            .header("Unipile-Auth", secret)
            .body(lambda_http::Body::from(format!(
                r#"{{"AccountStatus":{{"account_id":"{}","account_type":"LINKEDIN","message":"CREDENTIALS"}}}}"#,
                account.id
            )))
            .expect("request");
        status_webhook::handler(&world.status_webhook, webhook)
            .await
            .expect("handled");
    }

    let text = harness::logs::captured().text();
    assert!(
        text.contains("hosted-auth link issued") && text.contains("account connected"),
        "logs were captured"
    );
    assert!(text.contains("account status changed") && text.contains("webhook refused"));
    for secret in [
        API_KEY,
        STATE_KEY,
        WEBHOOK_SECRET,
        "a-wrong-secret",
        state.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret reached the logs");
    }
}
