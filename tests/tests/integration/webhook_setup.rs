//! webhook-setup against the Unipile simulator: the CloudFormation custom resource (its
//! answers PUT to a ResponseURL server of the test's own) and the CLI.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;
use harness::world::{API_KEY, WEBHOOK_SECRET, start_simulator};
use local_stack::simulator::{Fault, Simulator};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use webhook_setup::WebhookSetup;

const STATUS_URL: &str = "https://status.lambda-url.eu-west-1.on.aws/";
const NEW_STATUS_URL: &str = "https://status-v2.lambda-url.eu-west-1.on.aws/";

/// One PUT received on the ResponseURL.
#[derive(Debug, Clone)]
struct Answer {
    content_type: Option<String>,
    body: Value,
}

#[derive(Default)]
struct ResponseUrlState {
    answers: Vec<Answer>,
    /// PUTs to refuse (500) before accepting.
    refuse: u32,
}

/// CloudFormation's side: a presigned-URL stand-in that records every answer.
struct ResponseUrl {
    url: String,
    state: Arc<Mutex<ResponseUrlState>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ResponseUrl {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(state): State<Arc<Mutex<ResponseUrlState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    if state.refuse > 0 {
        state.refuse -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    state.answers.push(Answer {
        content_type: headers
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("(not text)").to_owned()),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    StatusCode::OK
}

impl ResponseUrl {
    async fn start() -> Self {
        let state = Arc::new(Mutex::new(ResponseUrlState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!(
            "http://{}/cfn/response?X-Amz-Signature=presigned",
            listener.local_addr().expect("bound address")
        );
        let router = Router::new()
            .route("/cfn/response", put(receive))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, state, server }
    }

    fn answers(&self) -> Vec<Answer> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .answers
            .clone()
    }

    fn refuse_next(&self, times: u32) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).refuse = times;
    }
}

/// The simulator, the function wired from its environment as its `main` wires it, and a
/// ResponseURL.
struct Stack {
    simulator: Simulator,
    simulator_url: String,
    setup: WebhookSetup,
    response_url: ResponseUrl,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The function's environment as the template gives it, its own status webhook at
/// `STATUS_URL`.
fn function_env(simulator_url: &str) -> HashMap<String, String> {
    HashMap::from([
        ("STATUS_WEBHOOK_URL".to_owned(), STATUS_URL.to_owned()),
        ("UNIPILE_DSN".to_owned(), simulator_url.to_owned()),
        ("UNIPILE_API_KEY".to_owned(), API_KEY.to_owned()),
        (
            "UNIPILE_WEBHOOK_SECRET".to_owned(),
            WEBHOOK_SECRET.to_owned(),
        ),
        ("UNIPILE_RETRY_BASE_MS".to_owned(), "1".to_owned()),
        ("UNIPILE_TIMEOUT_SECONDS".to_owned(), "5".to_owned()),
    ])
}

impl Stack {
    async fn start() -> Self {
        harness::logs::captured();
        let (simulator, simulator_url, server) = start_simulator().await;
        let setup = WebhookSetup::from_env(function_env(&simulator_url))
            .await
            .expect("cold start");
        Self {
            simulator,
            simulator_url,
            setup,
            response_url: ResponseUrl::start().await,
            server,
        }
    }

    fn event(&self, request_type: &str, physical: Option<&str>, request_url: &str) -> Value {
        let mut event = json!({
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:webhook-setup",
            "ResponseURL": self.response_url.url,
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/unipile-connect/1",
            "RequestId": format!("request-{}", self.response_url.answers().len() + 1),
            "LogicalResourceId": "StatusWebhookRegistration",
            "ResourceType": "Custom::UnipileWebhook",
            "ResourceProperties": {
                "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:webhook-setup",
                "RequestUrl": request_url,
                "Name": "unipile-connect status",
            },
        });
        if let Some(physical) = physical {
            event["PhysicalResourceId"] = json!(physical);
        }
        event
    }

    /// Invokes the function with `event` and returns the answer CloudFormation received.
    async fn invoke(&self, event: Value) -> Value {
        self.invoke_with(&self.setup, event).await
    }

    /// Invokes `setup` (the function with another environment) with `event`.
    async fn invoke_with(&self, setup: &WebhookSetup, event: Value) -> Value {
        let before = self.response_url.answers().len();
        webhook_setup::handler(setup, event)
            .await
            .expect("answered");
        let answers = self.response_url.answers();
        assert_eq!(answers.len(), before + 1, "exactly one answer per request");
        let answer = answers.last().expect("an answer").clone();
        assert_eq!(
            answer.content_type.as_deref(),
            Some(""),
            "presigned URLs want an empty content type"
        );
        answer.body
    }

    async fn create(&self, request_url: &str) -> Value {
        self.invoke(self.event("Create", None, request_url)).await
    }

    async fn delete(&self, physical: &str) -> Value {
        self.invoke(self.event("Delete", Some(physical), STATUS_URL))
            .await
    }

    fn fail_unipile(&self, route: &str, times: u32) {
        self.simulator.add_fault(Fault {
            route: route.into(),
            status: 503,
            error_type: "errors/service_unavailable".into(),
            times,
        });
    }
}

fn physical_id(answer: &Value) -> &str {
    answer["PhysicalResourceId"]
        .as_str()
        .expect("PhysicalResourceId")
}

#[tokio::test]
async fn given_a_stack_create_then_delete_then_one_webhook_is_registered_then_none() {
    let stack = Stack::start().await;

    let created = stack.create(STATUS_URL).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let webhooks = stack.simulator.webhooks();
    assert_eq!(webhooks.len(), 1);
    let webhook = &webhooks[0];
    assert_eq!(physical_id(&created), webhook.id);
    assert_eq!(created["Data"]["WebhookId"], webhook.id.as_str());
    assert_eq!(
        created["StackId"],
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/unipile-connect/1"
    );
    assert_eq!(created["RequestId"], "request-1");
    assert_eq!(created["LogicalResourceId"], "StatusWebhookRegistration");
    assert_eq!(webhook.source, "account_status");
    assert_eq!(webhook.request_url, STATUS_URL);
    assert_eq!(webhook.name.as_deref(), Some("unipile-connect status"));
    assert_eq!(
        webhook.headers,
        vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Unipile-Auth".to_owned(), WEBHOOK_SECRET.to_owned()),
        ]
    );
    let sent = stack
        .simulator
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .and_then(|r| r.body)
        .expect("the create body");
    assert_eq!(sent["format"], "json");
    assert_eq!(sent["enabled"], true);
    assert!(
        sent.get("account_ids").is_none(),
        "every account, present and future"
    );

    let deleted = stack.delete(physical_id(&created)).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(physical_id(&deleted), physical_id(&created));
    assert!(stack.simulator.webhooks().is_empty());

    let again = stack.delete(physical_id(&created)).await;
    assert_eq!(
        again["Status"], "SUCCESS",
        "Unipile's 404 means already gone"
    );
}

#[tokio::test]
async fn given_a_second_create_then_the_webhook_is_not_registered_twice() {
    let stack = Stack::start().await;
    let first = stack.create(STATUS_URL).await;
    let second = stack.create(STATUS_URL).await;
    assert_eq!(second["Status"], "SUCCESS");
    assert_eq!(physical_id(&second), physical_id(&first));
    assert_eq!(stack.simulator.webhooks().len(), 1);
    let creates = stack
        .simulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(creates, 1);
}

#[tokio::test]
async fn given_a_webhook_with_another_secret_then_ours_is_registered_beside_it() {
    let stack = Stack::start().await;
    let stale = stack.simulator.register_webhook(
        "account_status",
        STATUS_URL,
        &[("Unipile-Auth", "a-rotated-out-secret")],
    );
    let created = stack.create(STATUS_URL).await;
    assert_eq!(created["Status"], "SUCCESS");
    assert_ne!(physical_id(&created), stale.id);
    assert_eq!(stack.simulator.webhooks().len(), 2);
}

#[tokio::test]
async fn given_an_update_to_a_new_url_then_the_new_webhook_stays_and_the_old_ones_delete_removes_it()
 {
    let stack = Stack::start().await;
    let created = stack.create(STATUS_URL).await;
    let old_id = physical_id(&created).to_owned();

    // CloudFormation updates the function's environment (its own URL) before the resource.
    let mut env = function_env(&stack.simulator_url);
    env.insert("STATUS_WEBHOOK_URL".to_owned(), NEW_STATUS_URL.to_owned());
    let moved = WebhookSetup::from_env(env).await.expect("cold start");
    let mut update = stack.event("Update", Some(&old_id), NEW_STATUS_URL);
    update["OldResourceProperties"] = json!({"ServiceToken": "arn", "RequestUrl": STATUS_URL});
    let updated = stack.invoke_with(&moved, update).await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    let new_id = physical_id(&updated).to_owned();
    assert_ne!(
        new_id, old_id,
        "a new id: CloudFormation will delete the old one"
    );
    assert_eq!(
        stack.simulator.webhooks().len(),
        2,
        "the update itself deletes nothing (a rollback needs the old one)"
    );

    // CloudFormation's clean-up after the update succeeded.
    let cleanup = stack.delete(&old_id).await;
    assert_eq!(cleanup["Status"], "SUCCESS");
    let left = stack.simulator.webhooks();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, new_id);
    assert_eq!(left[0].request_url, NEW_STATUS_URL);
}

#[tokio::test]
async fn given_unipile_failing_then_cloudformation_gets_a_failed_answer_with_a_clear_reason_and_no_secret()
 {
    let stack = Stack::start().await;
    stack.fail_unipile("*", 1000);

    let failed = stack.create(STATUS_URL).await;
    assert_eq!(failed["Status"], "FAILED");
    let reason = failed["Reason"].as_str().expect("a reason");
    assert!(
        reason.starts_with("could not register the account_status webhook: Unipile answered 503"),
        "{reason}"
    );
    assert_eq!(physical_id(&failed), "unregistered:request-1");
    assert!(failed.get("Data").is_none());
    assert!(stack.simulator.webhooks().is_empty());

    // The rollback deletes what the failed Create answered: nothing to do, even now.
    let rollback = stack.delete("unregistered:request-1").await;
    assert_eq!(rollback["Status"], "SUCCESS", "{rollback}");

    let delete = stack.delete("wh_registered_earlier").await;
    assert_eq!(delete["Status"], "FAILED");
    assert!(
        delete["Reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("could not delete the account_status webhook")),
        "{delete}"
    );

    let answers = serde_json::to_string(
        &stack
            .response_url
            .answers()
            .iter()
            .map(|a| a.body.clone())
            .collect::<Vec<_>>(),
    )
    .expect("JSON");
    let logs = harness::logs::captured().text();
    for secret in [WEBHOOK_SECRET, API_KEY, "presigned"] {
        assert!(!answers.contains(secret), "{secret} in an answer");
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
}

#[tokio::test]
async fn given_one_failed_create_then_it_is_tried_once_more_and_registered_once() {
    let stack = Stack::start().await;
    stack.fail_unipile("create_webhook", 1);
    let created = stack.create(STATUS_URL).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(stack.simulator.webhooks().len(), 1);
    let calls: Vec<String> = stack
        .simulator
        .requests()
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(
        calls,
        ["GET", "POST", "GET", "POST"],
        "looked again before the retry"
    );
}

#[tokio::test]
async fn given_malformed_requests_then_each_gets_a_failed_answer_naming_the_problem() {
    let stack = Stack::start().await;
    let mut no_url = stack.event("Create", None, STATUS_URL);
    no_url["ResourceProperties"] = json!({"ServiceToken": "arn", "Name": "x"});
    let failed = stack.invoke(no_url).await;
    assert_eq!(failed["Status"], "FAILED");
    assert!(
        failed["Reason"]
            .as_str()
            .is_some_and(|r| r.contains("RequestUrl is required")),
        "{failed}"
    );

    let odd = stack
        .invoke(stack.event("Rename", Some("wh_1"), STATUS_URL))
        .await;
    assert_eq!(odd["Status"], "FAILED");
    assert_eq!(physical_id(&odd), "wh_1");
    assert!(stack.simulator.webhooks().is_empty());

    // Without a ResponseURL there is no one to answer: the invocation fails instead.
    assert!(
        webhook_setup::handler(&stack.setup, json!({"RequestType": "Create"}))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn given_a_request_url_other_than_the_stacks_own_then_it_fails_and_unipile_is_never_asked() {
    let stack = Stack::start().await;
    let failed = stack.create(NEW_STATUS_URL).await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    assert_eq!(
        failed["Reason"],
        format!(
            "ResourceProperties.RequestUrl {NEW_STATUS_URL} is not this stack's status webhook \
             ({STATUS_URL}, webhook-setup's STATUS_WEBHOOK_URL): nothing was registered"
        )
    );
    assert_eq!(physical_id(&failed), "unregistered:request-1");
    assert!(stack.simulator.webhooks().is_empty());
    assert!(
        stack.simulator.requests().is_empty(),
        "Unipile was never asked"
    );
}

#[tokio::test]
async fn given_a_plain_http_request_url_then_it_fails_and_nothing_is_registered() {
    let stack = Stack::start().await;
    let failed = stack
        .create("http://status.lambda-url.eu-west-1.on.aws/")
        .await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    assert!(
        failed["Reason"]
            .as_str()
            .is_some_and(|r| r.contains("is not https")),
        "{failed}"
    );
    assert!(stack.simulator.requests().is_empty());
}

#[tokio::test]
async fn given_a_webhook_secret_under_32_characters_then_create_fails_without_showing_it() {
    let stack = Stack::start().await;
    let weak = "a-webhook-secret-never-logged";
    assert!(weak.len() < 32);
    let mut env = function_env(&stack.simulator_url);
    env.insert("UNIPILE_WEBHOOK_SECRET".to_owned(), weak.to_owned());
    let setup = WebhookSetup::from_env(env).await.expect("cold start");
    let failed = stack
        .invoke_with(&setup, stack.event("Create", None, STATUS_URL))
        .await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    let reason = failed["Reason"].as_str().expect("a reason");
    assert!(
        reason.starts_with("the webhook secret is shorter than 32 characters"),
        "{reason}"
    );
    assert!(stack.simulator.webhooks().is_empty());
    assert!(stack.simulator.requests().is_empty());
    let logs = harness::logs::captured().text();
    assert!(!failed.to_string().contains(weak), "{failed}");
    assert!(!logs.contains(weak), "the secret in the logs");
}

#[tokio::test]
async fn given_a_function_without_its_status_webhook_url_then_it_answers_failed() {
    let stack = Stack::start().await;
    let mut env = function_env(&stack.simulator_url);
    env.remove("STATUS_WEBHOOK_URL");
    let setup = WebhookSetup::from_env(env)
        .await
        .expect("a cold start that answers");
    let answer = stack
        .invoke_with(&setup, stack.event("Create", None, STATUS_URL))
        .await;
    assert_eq!(answer["Status"], "FAILED");
    assert_eq!(
        answer["Reason"],
        "webhook-setup is not configured: STATUS_WEBHOOK_URL is not set"
    );
    assert!(stack.simulator.webhooks().is_empty());
}

#[tokio::test]
async fn given_a_function_without_the_webhook_secret_then_it_still_answers_failed() {
    let stack = Stack::start().await;
    let mut env = function_env(&stack.simulator_url);
    env.remove("UNIPILE_WEBHOOK_SECRET");
    let setup = WebhookSetup::from_env(env)
        .await
        .expect("a cold start that answers");
    webhook_setup::handler(&setup, stack.event("Create", None, STATUS_URL))
        .await
        .expect("answered");
    let answer = stack.response_url.answers().pop().expect("an answer").body;
    assert_eq!(answer["Status"], "FAILED");
    assert_eq!(
        answer["Reason"],
        "webhook-setup is not configured: UNIPILE_WEBHOOK_SECRET is not set"
    );
    assert!(stack.simulator.webhooks().is_empty());

    webhook_setup::handler(
        &setup,
        stack.event("Delete", Some("unregistered:request-1"), STATUS_URL),
    )
    .await
    .expect("answered");
    let rollback = stack.response_url.answers().pop().expect("an answer").body;
    assert_eq!(
        rollback["Status"], "SUCCESS",
        "the failed Create's rollback is not blocked"
    );
}

#[tokio::test]
async fn given_the_response_url_refusing_then_the_answer_is_retried_and_then_the_invocation_fails()
{
    let stack = Stack::start().await;
    stack.response_url.refuse_next(2);
    let answered = stack.create(STATUS_URL).await;
    assert_eq!(answered["Status"], "SUCCESS", "the third try got through");

    stack.response_url.refuse_next(3);
    let outcome =
        webhook_setup::handler(&stack.setup, stack.event("Create", None, STATUS_URL)).await;
    let error = outcome.expect_err("never answered").to_string();
    assert!(error.contains("500"), "{error}");
    assert!(
        !error.contains("presigned"),
        "the URL is a credential: {error}"
    );
}

#[tokio::test]
async fn given_the_cli_then_register_list_and_delete_work_and_list_shows_no_secret() {
    harness::logs::captured();
    let (simulator, simulator_url, server) = start_simulator().await;
    let env = function_env(&simulator_url);
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env = env.clone();
        async move { webhook_setup::cli::execute(&args, env).await }
    };
    let other_app = simulator.register_webhook(
        "messaging",
        "https://other-app.example.com/hook",
        &[("X-Other-Auth", "another-apps-secret")],
    );

    let created = run(&["register", "--url", STATUS_URL]).await.expect("ran");
    let webhooks = simulator.webhooks();
    assert_eq!(webhooks.len(), 2);
    let ours = &webhooks[1];
    assert_eq!(
        created,
        format!("created webhook {} for {STATUS_URL}", ours.id)
    );
    let again = run(&["register", "--url", STATUS_URL, "--name", "x"])
        .await
        .expect("ran");
    assert!(again.starts_with("already registered"), "{again}");
    assert_eq!(simulator.webhooks().len(), 2);
    let refused = run(&[
        "register",
        "--url",
        "http://hooks.example.com/unipile/webhook",
    ])
    .await
    .expect_err("plain http");
    assert!(refused.to_string().contains("is not https"), "{refused}");
    assert_eq!(simulator.webhooks().len(), 2, "nothing registered");

    let listed = run(&["list"]).await.expect("ran");
    assert!(
        listed.contains(&format!(
            "{}\taccount_status\t{STATUS_URL}\tunipile-connect account status\tyes",
            ours.id
        )),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "{}\tmessaging\thttps://other-app.example.com/hook\t-\tno",
            other_app.id
        )),
        "{listed}"
    );
    for secret in [WEBHOOK_SECRET, "another-apps-secret", API_KEY] {
        assert!(!listed.contains(secret), "{secret} printed");
    }

    let deleted = run(&["delete", &ours.id]).await.expect("ran");
    assert_eq!(deleted, format!("deleted webhook {}", ours.id));
    let gone = run(&["delete", &ours.id]).await.expect("ran");
    assert_eq!(gone, format!("webhook {} was already gone", ours.id));
    assert_eq!(simulator.webhooks(), vec![other_app]);

    simulator.add_fault(Fault {
        route: "list_webhooks".into(),
        status: 503,
        error_type: "errors/service_unavailable".into(),
        times: 100,
    });
    let error = run(&["list"]).await.expect_err("Unipile is down");
    assert!(
        error
            .to_string()
            .starts_with("could not list the webhooks: Unipile answered 503"),
        "{error}"
    );
    server.abort();
}
