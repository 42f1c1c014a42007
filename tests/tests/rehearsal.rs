//! The deploy rehearsal: the stack exactly as `scripts/stack.sh build` leaves it (the release
//! bootstraps and the built template), each function run under a Lambda Runtime API with the
//! environment the template gives it, fed the events AWS sends: HTTP API payload 2.0 with JWT
//! claims, function URL events, the input of the schedules the functions create, and
//! CloudFormation's custom-resource requests. AWS is moto; Unipile is the simulator.
//!
//! Needs `scripts/stack.sh build` first (`scripts/test.sh` does it and sets
//! `REHEARSAL_REQUIRED=1`, so CI cannot skip it).

use base64::Engine;
use harness::rehearsal::{self, Deployment, Rehearsal, aws_json, aws_rest};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const API_KEY: &str = "sk_rehearsal_unipile_key_never_logged";
const STATE_KEY: &str = "rehearsal-state-signing-key-never-logged-0123";
const WEBHOOK_SECRET: &str = "rehearsal-webhook-secret-never-logged";
const MAIL_IDENTITY: &str = "rehearsal.example.com";
const MAIL_FROM: &str = "accounts@rehearsal.example.com";
const APP: &str = "https://app.rehearsal.example.com";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";
const COOKIE_MARK: &str = "rehearsal-cookie-never-logged";
/// The team's two webhook secrets, as during a rotation: every delivery is signed with both.
const EVENTS_SECRET: &str = "whsec_cmVoZWFyc2FsLW5ldmVyLWxvZ2dlZC1ldmVudHMta2V5";
const EVENTS_SECRET_NEXT: &str = "whsec_cmVoZWFyc2FsLW5ldmVyLWxvZ2dlZC1uZXh0LWtleS0w";

/// A token as the HTTP API's JWT authorizer would have accepted it (the rehearsal's API
/// trusts the signature, as API Gateway would have checked it).
fn jwt(claims: &Value) -> String {
    let encode = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.signature",
        encode(&json!({"alg": "RS256", "kid": "rehearsal"})),
        encode(claims)
    )
}

struct Walk {
    stack: Rehearsal,
    http: reqwest::Client,
    schedule_group: String,
    /// A queue subscribed to the stack's event bus, as a team's backend would be.
    events: harness::event_bus::EventBusTap,
}

impl Walk {
    /// Where a client sends `method path`: the HTTP API whose route serves it.
    fn url(&self, method: &str, path: &str) -> String {
        self.stack
            .api_url(method, path)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = self.url(method, path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A call to the HTTP API with no token at all.
    async fn anonymous(&self, method: &str, path: &str) -> (u16, String) {
        let url = self.url(method, path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .http
            .request(method, url)
            .send()
            .await
            .expect("the API answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Every file of web/ the build embedded, fetched as a browser does (GET and HEAD, no
    /// token), and the component's own URL: its file when web/ has it, else the function's
    /// 404 (not the authorizer's 401).
    async fn web_component_is_served_without_a_token(&self) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        let component = "unipile-accounts.js";
        let mut names: BTreeSet<String> = web_assets::embedded_files()
            .iter()
            .filter(|f| unipile_connect::web::content_type_of(f.name).is_some())
            .map(|f| f.name.to_owned())
            .collect();
        names.insert(component.to_owned());
        for name in names {
            let url = self.url("GET", &unipile_connect::web::asset_path(&name));
            let response = self.http.get(&url).send().await.expect("the API answers");
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let content_type = header("content-type");
            let cache_control = header("cache-control");
            let nosniff = header("x-content-type-options");
            let body = response.bytes().await.expect("body");
            let Ok(on_disk) = std::fs::read(root.join(&name)) else {
                assert_eq!(status, 404, "{name} is not in web/");
                assert_eq!(content_type.as_deref(), Some("application/problem+json"));
                continue;
            };
            assert_eq!(status, 200, "{name}");
            assert_eq!(
                content_type.as_deref(),
                unipile_connect::web::content_type_of(&name),
                "{name}"
            );
            let expected_cache = if unipile_connect::web::is_html(&name) {
                unipile_connect::web::HTML_CACHE_CONTROL
            } else {
                unipile_connect::web::IMMUTABLE_CACHE_CONTROL
            };
            assert_eq!(cache_control.as_deref(), Some(expected_cache), "{name}");
            assert_eq!(nosniff.as_deref(), Some("nosniff"), "{name}");
            assert!(body[..] == on_disk[..], "{name} is served as web/ holds it");

            let head = self.http.head(&url).send().await.expect("the API answers");
            assert_eq!(head.status().as_u16(), 200, "HEAD {name}");
            assert!(head.bytes().await.expect("body").is_empty(), "HEAD {name}");
        }
    }

    /// What Lambda's SQS poller does for `events-webhook` until its queue is empty: takes
    /// the visible messages, invokes the function with them, deletes the delivered ones; a
    /// failed one comes back once its back-off is over (here at once: nobody waits hours).
    /// Then checks what the receiver got against the events the walk published.
    async fn webhook_deliveries_are_the_walks(
        &self,
        published: &[Value],
        receiver: &harness::webhook_receiver::WebhookReceiver,
    ) {
        let moto = &self.stack.moto;
        let queue = self.stack.stack.refs["EventsWebhookQueue"]
            .as_str()
            .expect("the webhook queue")
            .to_owned();
        let function = self.stack.function("EventsWebhookFunction");
        let mut rounds = 0;
        loop {
            let answer = aws_json(
                moto,
                "sqs",
                "AmazonSQS.ReceiveMessage",
                json!({"QueueUrl": queue, "MaxNumberOfMessages": 10,
                       "MessageSystemAttributeNames": ["ApproximateReceiveCount"]}),
            )
            .await
            .expect("received");
            let messages = answer["Messages"].as_array().cloned().unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            rounds += 1;
            assert!(rounds < 20, "the webhook queue never emptied");
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    json!({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                           "body": m["Body"], "eventSource": "aws:sqs",
                           "attributes": {"ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"]}})
                })
                .collect();
            let outcome = function
                .invoke(json!({"Records": records}))
                .await
                .unwrap_or_else(|e| panic!("events-webhook failed: {e}"));
            let failed: BTreeSet<&str> = outcome["batchItemFailures"]
                .as_array()
                .expect("batch item failures")
                .iter()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect();
            for message in &messages {
                let receipt = message["ReceiptHandle"].clone();
                if failed.contains(message["MessageId"].as_str().unwrap_or_default()) {
                    // Held back by the function; its back-off is over at once here.
                    aws_json(
                        moto,
                        "sqs",
                        "AmazonSQS.ChangeMessageVisibility",
                        json!({"QueueUrl": queue, "ReceiptHandle": receipt, "VisibilityTimeout": 0}),
                    )
                    .await
                    .expect("visible again");
                } else {
                    aws_json(
                        moto,
                        "sqs",
                        "AmazonSQS.DeleteMessage",
                        json!({"QueueUrl": queue, "ReceiptHandle": receipt}),
                    )
                    .await
                    .expect("deleted");
                }
            }
        }
        let received = receiver.received().await;
        assert!(
            received.iter().all(|r| r.verified && r.signatures == 2),
            "{received:#?}"
        );
        let ids = |answered: u16| -> BTreeSet<String> {
            received
                .iter()
                .filter(|r| r.answered == answered)
                .filter_map(|r| r.id.clone())
                .collect()
        };
        let walk_ids: BTreeSet<String> = published
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(ids(200), walk_ids, "every event of the walk was delivered");
        assert_eq!(
            ids(503),
            walk_ids,
            "each after a refused try, with the same id"
        );
        for event in published {
            assert!(
                received
                    .iter()
                    .any(|r| r.answered == 200 && &r.event == event),
                "delivered as published: {event}"
            );
        }
    }

    /// The user presses "Connect" on the simulator's hosted-auth page at `link`'s `url`.
    async fn connect_on_hosted_page(&self, link: &Value, form: &str) -> reqwest::StatusCode {
        self.http
            .post(link["url"].as_str().expect("hosted-auth url"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("hosted page")
            .status()
    }

    async fn sim(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.stack.simulator_url))
            .json(&body)
            .send()
            .await
            .expect("the simulator answers");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// Unipile reports a status: the simulator delivers it to every registered webhook.
    async fn unipile_reports(&self, account_id: &str, message: &str) {
        let answer = self
            .sim(
                &format!("/_sim/accounts/{account_id}/status"),
                json!({"message": message, "retry_delay_ms": 50}),
            )
            .await;
        let deliveries = answer["deliveries"].as_array().cloned().unwrap_or_default();
        assert!(
            deliveries.iter().any(|d| d["status"] == 200
                || d["answer_status"] == 200
                || d.to_string().contains("200")),
            "the status webhook took {message} for {account_id}: {answer}"
        );
    }

    async fn account_status(&self, token: &str, account_id: &str) -> Option<String> {
        let (status, list) = self.api("GET", "/accounts", token, None).await;
        assert_eq!(status, 200, "{list}");
        list["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["account_id"] == account_id)
            .and_then(|a| a["status"].as_str().map(str::to_owned))
    }

    /// The reconnect schedules in moto: (name, target ARN, role ARN, input).
    async fn schedules(&self) -> Vec<(String, Value)> {
        let list = aws_rest(
            &self.stack.moto,
            "scheduler",
            "GET",
            &format!("/schedules?ScheduleGroup={}", self.schedule_group),
            Value::Null,
        )
        .await
        .expect("schedules listed");
        let mut found = Vec::new();
        for item in list["Schedules"].as_array().into_iter().flatten() {
            let name = item["Name"].as_str().expect("name").to_owned();
            let schedule = aws_rest(
                &self.stack.moto,
                "scheduler",
                "GET",
                &format!("/schedules/{name}?groupName={}", self.schedule_group),
                Value::Null,
            )
            .await
            .expect("schedule read");
            found.push((name, schedule));
        }
        found
    }

    /// Runs each schedule as EventBridge Scheduler would (see [`Self::run_schedules`]), each
    /// attempt succeeding. Returns the names run.
    async fn fire_schedules(&self) -> Vec<String> {
        let mut fired = Vec::new();
        for (name, outcome) in self.run_schedules().await {
            assert!(outcome.is_ok(), "{name}: {outcome:?}");
            fired.push(name);
        }
        fired
    }

    /// Runs each schedule as EventBridge Scheduler does: invokes its target asynchronously
    /// with its input (Lambda retries a failure, then sends it to the dead-letter queue), then
    /// deletes it (ActionAfterCompletion DELETE). Returns each name with the last try's outcome.
    async fn run_schedules(&self) -> Vec<(String, Result<Value, String>)> {
        let mut fired = Vec::new();
        for (name, schedule) in self.schedules().await {
            let target = &schedule["Target"];
            let function = self
                .stack
                .function_by_arn(target["Arn"].as_str().expect("target ARN"))
                .unwrap_or_else(|| {
                    panic!("schedule {name} targets no function of the stack: {target}")
                });
            assert_eq!(
                target["RoleArn"],
                self.stack.stack.attributes[&("SchedulerRole".to_owned(), "Arn".to_owned())],
                "schedules run with the stack's scheduler role"
            );
            let input: Value =
                serde_json::from_str(target["Input"].as_str().expect("input")).expect("JSON input");
            let outcome = self
                .stack
                .invoke_async(&function.logical_id, input)
                .await
                .expect("Lambda's asynchronous invocation");
            let _ = aws_rest(
                &self.stack.moto,
                "scheduler",
                "DELETE",
                &format!("/schedules/{name}?groupName={}", self.schedule_group),
                Value::Null,
            )
            .await;
            fired.push((name, outcome));
        }
        fired
    }

    /// The reconnect dead-letter queue's URL (the stack's `ReconnectDeadLetterQueueUrl`).
    fn dead_letter_queue(&self) -> String {
        self.stack.stack.refs["ReconnectDeadLetterQueue"]
            .as_str()
            .expect("queue URL")
            .to_owned()
    }

    /// How many messages wait in the dead-letter queue (visible or being handled).
    async fn dead_letters(&self) -> u64 {
        let answer = aws_json(
            &self.stack.moto,
            "sqs",
            "AmazonSQS.GetQueueAttributes",
            json!({"QueueUrl": self.dead_letter_queue(),
                   "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}),
        )
        .await
        .expect("queue attributes");
        [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ]
        .iter()
        .map(|name| {
            answer["Attributes"][name]
                .as_str()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
    }

    /// The documented operator command `reconnect-retry dead-letters <action>`, run with the
    /// function's environment and the queue's URL, as `scripts/stack.sh dead-letters` does.
    async fn dead_letters_command(&self, action: &str) -> (bool, String, String) {
        let queue = self.dead_letter_queue();
        self.stack
            .operator_command(
                "ReconnectRetryFunction",
                &["dead-letters", action],
                &[("DEAD_LETTER_QUEUE_URL", queue.as_str())],
            )
            .await
            .expect("the command ran")
    }

    /// Unipile reports `status` but cannot be asked about the account while the delivery is
    /// handled: every `GET /api/v1/accounts/{id}` of it fails (however many asks the path
    /// makes, each tried three times by the Unipile client); then Unipile answers again.
    async fn unipile_reports_unconfirmed(&self, account_id: &str, status: &str) {
        self.sim(
            "/_sim/faults",
            json!({"route": "get_account", "status": 503, "type": "errors/service_unavailable", "times": 12}),
        )
        .await;
        self.unipile_reports(account_id, status).await;
        let cleared = self
            .http
            .delete(format!("{}/_sim/faults", self.stack.simulator_url))
            .send()
            .await
            .expect("the simulator answers");
        assert!(cleared.status().is_success(), "{}", cleared.status());
    }

    /// Five minutes pass for the account's recorded follow-up: its back-off is over. (The
    /// rehearsal runs on the real clock; the table is moto's, so the time is written there.)
    async fn follow_up_falls_due(&self, account_id: &str) {
        self.write_in_table(
            account_id,
            "ACCOUNT",
            json!({
                "UpdateExpression": "SET pending.claimed_until = :due, GSI2SK = :due REMOVE pending.#claim",
                "ConditionExpression": "attribute_exists(pending)",
                "ExpressionAttributeNames": {"#claim": "claim"},
            }),
        )
        .await;
    }

    /// The writer's grace for a waiting outbox is over (the table is moto's, as above): the
    /// sweeper may publish it. A disconnected account's outbox waits on its `GONE` item.
    async fn outbox_falls_due(&self, account_id: &str) {
        self.write_in_table(
            account_id,
            "GONE",
            json!({
                "UpdateExpression": "SET GSI3SK = :due",
                "ConditionExpression": "attribute_exists(GSI3SK)",
            }),
        )
        .await;
    }

    /// One conditional UpdateItem (`update`, with `:due` the epoch's first millisecond) of
    /// the account's item `sk`, straight in moto's table.
    async fn write_in_table(&self, account_id: &str, sk: &str, mut update: Value) {
        let table = self.stack.stack.refs["AccountsTable"]
            .as_str()
            .expect("table")
            .to_owned();
        update["TableName"] = json!(table);
        update["Key"] = json!({"PK": {"S": format!("ACCOUNT#{account_id}")}, "SK": {"S": sk}});
        update["ExpressionAttributeValues"] = json!({":due": {"N": "1"}});
        aws_json(
            &self.stack.moto,
            "dynamodb",
            "DynamoDB_20120810.UpdateItem",
            update,
        )
        .await
        .unwrap_or_else(|e| panic!("{sk} of {account_id} is in the table: {e}"));
    }

    /// Every event is valid against its schema and ours to publish: each kind the walk
    /// caused is there, no id carries two bodies, and nothing secret or personal is in any.
    fn events_are_the_walks(&self, events: &[Value], email: &str) {
        let mut seen = BTreeSet::new();
        let mut bodies: BTreeMap<String, &Value> = BTreeMap::new();
        for event in events {
            let kind = event["type"].as_str().expect("type");
            let problems = harness::event_bus::schema_problems(event);
            assert!(problems.is_empty(), "{problems:?}\n{event}");
            let id = event["id"].as_str().expect("id").to_owned();
            if let Some(earlier) = bodies.insert(id.clone(), event) {
                assert_eq!(earlier, event, "{id} delivered with two bodies");
            }
            let text = event.to_string();
            for secret in [API_KEY, STATE_KEY, WEBHOOK_SECRET, COOKIE_MARK, email] {
                assert!(!text.contains(secret), "an event carries {secret}: {text}");
            }
            seen.insert(kind.to_owned());
        }
        let expected: BTreeSet<String> = [
            "account.connected",
            "account.reconnected",
            "account.status_changed",
            "account.credentials_needed",
            "account.reconnect_exhausted",
            "account.disconnected",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(
            seen.intersection(&expected)
                .cloned()
                .collect::<BTreeSet<_>>(),
            expected,
            "{events:?}"
        );
    }

    /// The sweeper's schedule fires (its event is EventBridge Scheduler's input, unused).
    async fn sweep(&self) -> Value {
        let outcome = self
            .stack
            .function("FollowUpSweeperFunction")
            .invoke(json!({}))
            .await;
        let report = outcome.expect("the sweeper ran");
        assert_eq!(report["failed"], 0, "{report}");
        report
    }

    async fn webhooks(&self) -> Vec<Value> {
        let response = self
            .http
            .get(format!("{}/api/v1/webhooks", self.stack.simulator_url))
            .header("X-API-KEY", API_KEY)
            .send()
            .await
            .expect("webhooks listed");
        let list: Value = response.json().await.expect("JSON");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    async fn cookie_sync(&self, token: &str, member: &str, tag: &str) -> (u16, Value) {
        self.api(
            "POST",
            "/extension/cookies",
            token,
            Some(json!({
                "li_at": format!("{COOKIE_MARK}-li-at-{tag}"),
                "li_a": format!("{COOKIE_MARK}-li-a-{tag}"),
                "user_agent": UA,
                "ip": "81.2.69.160",
                "country": "fr",
                "linkedin_member_id": member,
            })),
        )
        .await
    }
}

/// A user in a Cognito user pool in moto: (pool id, the user's `sub`, their email).
async fn cognito_user(moto: &str) -> (String, String, String) {
    let pool = aws_json(
        moto,
        "cognito-idp",
        "AWSCognitoIdentityProviderService.CreateUserPool",
        json!({"PoolName": harness::world::unique("rehearsal-users")}),
    )
    .await
    .expect("user pool");
    let pool_id = pool["UserPool"]["Id"].as_str().expect("pool id").to_owned();
    let email = format!("{}@rehearsal.example.com", harness::world::unique("jane"));
    let user = aws_json(
        moto,
        "cognito-idp",
        "AWSCognitoIdentityProviderService.AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": "jane",
               "UserAttributes": [{"Name": "email", "Value": email},
                                  {"Name": "email_verified", "Value": "true"}]}),
    )
    .await
    .expect("user");
    let sub = user["User"]["Attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["Name"] == "sub")
        .and_then(|a| a["Value"].as_str())
        .expect("sub")
        .to_owned();
    (pool_id, sub, email)
}

fn deployment(pool_id: &str) -> Deployment {
    let parameters = [
        (
            "Architecture",
            std::env::consts::ARCH.replace("aarch64", "arm64"),
        ),
        (
            "JwtIssuer",
            format!("https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"),
        ),
        ("JwtAudience", "rehearsal-client".to_owned()),
        ("CognitoUserPoolId", pool_id.to_owned()),
        ("AllowedRedirectOrigins", APP.to_owned()),
        ("CorsAllowedOrigins", APP.to_owned()),
        ("MailFrom", MAIL_FROM.to_owned()),
        ("MailIdentity", MAIL_IDENTITY.to_owned()),
        ("AppBaseUrl", APP.to_owned()),
        // The least the template allows, so the walk's fresh cookie may reconnect at once.
        ("ConnectThrottleSeconds", "1".to_owned()),
    ];
    Deployment {
        parameters: parameters
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        secrets: [
            ("UnipileKeySecretArn", "UNIPILE_API_KEY", API_KEY),
            ("StateKeySecretArn", "STATE_SIGNING_KEY", STATE_KEY),
            ("WebhookSecretArn", "UNIPILE_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ]
        .into_iter()
        .map(|(parameter, name, value)| {
            (
                parameter.to_owned(),
                BTreeMap::from([(name.to_owned(), value.to_owned())]),
            )
        })
        .collect(),
        unipile_api_key: API_KEY.to_owned(),
    }
}

/// Actions a function's role must hold that its own code never calls: AWS uses them on the
/// function's behalf.
fn granted_for_the_platform(stack: &Rehearsal, function: &str) -> BTreeSet<String> {
    let properties = stack.properties(function).expect("properties");
    let mut platform = BTreeSet::new();
    // Creating a schedule passes the scheduler role to EventBridge Scheduler.
    if stack
        .granted_actions(function)
        .expect("policy")
        .contains("scheduler:CreateSchedule")
    {
        platform.insert("iam:PassRole".to_owned());
    }
    // Lambda writes a failed asynchronous invocation to the OnFailure queue with the
    // function's own role.
    if properties["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS" {
        platform.insert("sqs:SendMessage".to_owned());
    }
    // Lambda's SQS poller reads the function's queue with its role.
    if properties["Events"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, event)| event["Type"] == "SQS")
    {
        for action in [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ] {
            platform.insert(action.to_owned());
        }
    }
    // Lambda writes the function's logs and traces with its role.
    for action in [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    ] {
        platform.insert(action.to_owned());
    }
    platform
}

/// Each function's logs go to its own log group and nowhere else: its role may write only
/// there, and Lambda is told to use it (`LoggingConfig`).
fn logs_go_only_to_the_functions_own_group(stack: &Rehearsal) -> Vec<String> {
    let mut problems = Vec::new();
    for id in stack.functions.keys() {
        let properties = stack.properties(id).expect("properties");
        let group = properties["LoggingConfig"]["LogGroup"].as_str();
        let Some(group) = group else {
            problems.push(format!("{id}: no LoggingConfig.LogGroup"));
            continue;
        };
        let own = stack
            .stack
            .attributes
            .iter()
            .find(|((resource, attribute), _)| {
                attribute == "Arn"
                    && stack.stack.refs.get(resource).and_then(Value::as_str) == Some(group)
            })
            .and_then(|(_, arn)| arn.as_str())
            .map(str::to_owned);
        let Some(own) = own else {
            problems.push(format!("{id}: its log group {group} is not the stack's"));
            continue;
        };
        for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
            let granted = stack.granted_resources(id, action).expect("policy");
            if granted != BTreeSet::from([own.clone()]) {
                problems.push(format!("{id}: {action} on {granted:?}, not only {own}"));
            }
        }
        let other_logs: BTreeSet<String> = stack
            .granted_actions(id)
            .expect("policy")
            .into_iter()
            .filter(|a| {
                a.starts_with("logs:") && a != "logs:CreateLogStream" && a != "logs:PutLogEvents"
            })
            .collect();
        if !other_logs.is_empty() {
            problems.push(format!("{id}: also granted {other_logs:?}"));
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_built_stack_runs_every_flow_on_the_events_aws_sends() {
    let dir = rehearsal::build_dir();
    if !dir.join("template.yaml").is_file() {
        assert!(
            std::env::var_os("REHEARSAL_REQUIRED").is_none(),
            "{} has no built stack: run scripts/stack.sh build",
            dir.display()
        );
        eprintln!(
            "SKIPPED: no built stack in {}; run scripts/stack.sh build",
            dir.display()
        );
        return;
    }
    let moto = harness::moto::endpoint();
    let (pool_id, jane_sub, jane_email) = cognito_user(&moto).await;
    // The team's endpoint for signed webhooks, refusing the first try of each event.
    let receiver = harness::webhook_receiver::WebhookReceiver::start(&format!(
        "{EVENTS_SECRET} {EVENTS_SECRET_NEXT}"
    ));
    receiver.control(json!({"refuse_first": 1})).await;
    let mut deployment = deployment(&pool_id);
    deployment
        .parameters
        .insert("EventsWebhookUrl".into(), receiver.url.clone());
    deployment.secrets.insert(
        "EventsWebhookSecretArn".into(),
        BTreeMap::from([(
            "EVENTS_WEBHOOK_SECRET".to_owned(),
            format!("{EVENTS_SECRET} {EVENTS_SECRET_NEXT}"),
        )]),
    );
    let stack = Rehearsal::deploy(&dir, deployment)
        .await
        .unwrap_or_else(|e| panic!("the stack did not deploy: {e}"));
    let schedule_group = stack.stack.refs["ReconnectScheduleGroup"]
        .as_str()
        .expect("group")
        .to_owned();
    let bus = stack.stack.refs["EventBus"]
        .as_str()
        .expect("bus")
        .to_owned();
    let aws = unipile_connect::config::aws_sdk_config(&harness::world::aws_env(&moto, "-")).await;
    let events = harness::event_bus::EventBusTap::on(&aws, &bus).await;
    let walk = Walk {
        stack,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        schedule_group,
        events,
    };

    // Stack created: the custom resource registered exactly one account_status webhook,
    // pointing at the status webhook's route on Unipile's HTTP API, with the secret header.
    let hooks = walk.webhooks().await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(
        hooks[0]["request_url"],
        walk.url("POST", "/unipile/webhook")
    );
    assert!(
        walk.stack.function_urls.is_empty(),
        "no public function URL by default"
    );
    assert!(
        hooks[0]["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|h| h["key"] == "Unipile-Auth" && h["value"] == WEBHOOK_SECRET),
        "{hooks:?}"
    );
    // Unipile's two calls reach an HTTP API of their own, which the front end's API does not
    // route (hosted-link's own route is on that one: naming it would make a circle).
    for path in ["/unipile/notify", "/unipile/webhook"] {
        assert!(
            walk.url("POST", path)
                .starts_with(&walk.stack.apis["UnipileApi"].url),
            "{path}"
        );
        let stray = walk
            .http
            .post(format!(
                "{}{}",
                walk.stack.apis["Api"].url,
                path.trim_start_matches('/')
            ))
            .send()
            .await
            .expect("the API answers");
        assert_eq!(
            stray.status(),
            404,
            "{path} is no route of the front end's API"
        );
    }

    // 0. The web component is public: a page loads it through the HTTP API without a token,
    //    byte for byte what web/ holds, cacheable for a year; the JWT routes still refuse a
    //    call without one.
    walk.web_component_is_served_without_a_token().await;
    let (status, refused) = walk.anonymous("GET", "/accounts").await;
    assert_eq!(status, 401, "{refused}");
    let (status, refused) = walk.anonymous("POST", "/accounts/link").await;
    assert_eq!(status, 401, "{refused}");

    // 1. Hosted link → Unipile's notify_url → the status webhook's CREDENTIALS → the email,
    //    for a Cognito user whose access token carries no email.
    let jane = jwt(
        &json!({"sub": jane_sub, "token_use": "access", "client_id": "rehearsal-client",
                           "scope": "openid", "cognito:groups": ["users"]}),
    );
    let (status, link) = walk
        .api(
            "POST",
            "/accounts/link",
            &jane,
            Some(json!({"type": "create", "providers": ["LINKEDIN"],
                        "success_redirect_url": format!("{APP}/connected")})),
        )
        .await;
    assert_eq!(status, 200, "{link}");
    let submitted = walk
        .connect_on_hosted_page(&link, "provider=LINKEDIN&outcome=connect")
        .await;
    assert!(submitted.is_redirection(), "{}", submitted);
    let delivery = walk
        .stack
        .simulator
        .notifications()
        .pop()
        .expect("Unipile called notify_url");
    assert!(
        delivery
            .url
            .starts_with(&walk.url("POST", "/unipile/notify?state=")),
        "notify_url is the callback's route on Unipile's HTTP API: {}",
        delivery.url
    );
    let account: Value = serde_json::from_str(&delivery.body.to_string()).expect("notify body");
    let account_id = account["account_id"]
        .as_str()
        .expect("account id")
        .to_owned();
    assert_eq!(
        walk.account_status(&jane, &account_id).await.as_deref(),
        Some("OK")
    );

    walk.unipile_reports(&account_id, "CREDENTIALS").await;
    assert_eq!(
        walk.account_status(&jane, &account_id).await.as_deref(),
        Some("CREDENTIALS")
    );
    let emails = harness::moto::sent_emails(&jane_email).await;
    assert_eq!(
        emails.len(),
        1,
        "one email to the Cognito user's address: {emails:?}"
    );
    assert_eq!(emails[0]["source"], MAIL_FROM);

    // 1b. The account heals, then fails again while Unipile cannot confirm it at once: the
    //     delivery is recorded (200), and the sweeper confirms it and sends this outage's
    //     email once its back-off is over.
    walk.unipile_reports(&account_id, "OK").await;
    walk.unipile_reports_unconfirmed(&account_id, "CREDENTIALS")
        .await;
    assert_eq!(harness::moto::sent_emails(&jane_email).await.len(), 1);
    walk.follow_up_falls_due(&account_id).await;
    let swept = walk.sweep().await;
    assert_eq!(swept["finished"], 1, "{swept}");
    assert_eq!(
        walk.account_status(&jane, &account_id).await.as_deref(),
        Some("CREDENTIALS")
    );
    assert_eq!(
        harness::moto::sent_emails(&jane_email).await.len(),
        2,
        "one email per outage"
    );

    // Reconnect link for the owner's account, then disconnect it.
    let (status, relink) = walk
        .api(
            "POST",
            "/accounts/link",
            &jane,
            Some(json!({"type": "reconnect", "reconnect_account": account_id})),
        )
        .await;
    assert_eq!(status, 200, "{relink}");
    let (status, gone) = walk
        .api("DELETE", &format!("/accounts/{account_id}"), &jane, None)
        .await;
    assert_eq!(status, 204, "{gone}");
    assert_eq!(walk.account_status(&jane, &account_id).await, None);

    // 2. The extension's cookie connects an account; CREDENTIALS schedules a reconnect; the
    //    schedule's attempt reconnects it with the stored cookie.
    let sam = jwt(
        &json!({"sub": "sam-rehearsal", "email": "sam@rehearsal.example.com",
                          "token_use": "id", "aud": "rehearsal-client"}),
    );
    let (status, connected) = walk.cookie_sync(&sam, "9001", "first").await;
    assert_eq!(status, 201, "{connected}");
    let linkedin = connected["account_id"]
        .as_str()
        .expect("account")
        .to_owned();

    walk.unipile_reports(&linkedin, "CREDENTIALS").await;
    let schedules = walk.schedules().await;
    assert_eq!(schedules.len(), 1, "attempt 0 scheduled: {schedules:?}");
    assert_eq!(walk.fire_schedules().await.len(), 1);
    assert_eq!(
        walk.account_status(&sam, &linkedin).await.as_deref(),
        Some("OK")
    );
    assert!(walk.schedules().await.is_empty(), "nothing left scheduled");

    // 3. A second outage that heals by itself: the status webhook deletes the schedule.
    walk.unipile_reports(&linkedin, "CREDENTIALS").await;
    assert_eq!(walk.schedules().await.len(), 1);
    walk.unipile_reports(&linkedin, "OK").await;
    assert!(
        walk.schedules().await.is_empty(),
        "the healed outage's schedule is gone"
    );

    // 3b. Another, whose recovery Unipile cannot confirm at once: the sweeper confirms it, ends
    //     the reconnect and deletes its schedule.
    walk.unipile_reports(&linkedin, "CREDENTIALS").await;
    assert_eq!(walk.schedules().await.len(), 1);
    walk.unipile_reports_unconfirmed(&linkedin, "OK").await;
    assert_eq!(walk.schedules().await.len(), 1, "nothing ended on a guess");
    walk.follow_up_falls_due(&linkedin).await;
    walk.sweep().await;
    assert!(
        walk.schedules().await.is_empty(),
        "the healed outage's schedule is gone"
    );

    // 4. A third, started by the sweeper (Unipile could not confirm it at once), healed by a
    //    fresh cookie from the extension.
    walk.unipile_reports_unconfirmed(&linkedin, "CREDENTIALS")
        .await;
    assert!(walk.schedules().await.is_empty());
    walk.follow_up_falls_due(&linkedin).await;
    walk.sweep().await;
    assert_eq!(
        walk.schedules().await.len(),
        1,
        "the sweeper started the reconnect"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, reconnected) = walk.cookie_sync(&sam, "9001", "fresh").await;
    assert_eq!(status, 200, "{reconnected}");
    assert_eq!(reconnected["status"], "reconnected");
    assert!(walk.schedules().await.is_empty());

    // 4b. Another, healed by the owner through a hosted reconnect link: the callback records
    //     what Unipile reports (OK), ends the reconnect and deletes its schedule.
    walk.unipile_reports(&linkedin, "CREDENTIALS").await;
    assert_eq!(walk.schedules().await.len(), 1);
    let (status, relink) = walk
        .api(
            "POST",
            "/accounts/link",
            &sam,
            Some(json!({"type": "reconnect", "reconnect_account": linkedin})),
        )
        .await;
    assert_eq!(status, 200, "{relink}");
    let submitted = walk
        .connect_on_hosted_page(&relink, "outcome=connect")
        .await;
    assert!(submitted.is_success() || submitted.is_redirection());
    assert_eq!(
        walk.account_status(&sam, &linkedin).await.as_deref(),
        Some("OK")
    );
    assert!(walk.schedules().await.is_empty(), "the callback deleted it");

    // 5. A hosted-auth connect whose callback cannot confirm the account (Unipile's GET
    //    fails through its retries): lost before, now the hourly reconciliation records it
    //    for its user. Its run exercises the reconciler's every grant (Scan, GetItem,
    //    UpdateItem).
    walk.sim(
        "/_sim/faults",
        json!({"route": "get_account", "status": 503, "type": "errors/service_unavailable", "times": 3}),
    )
    .await;
    let (status, link) = walk
        .api(
            "POST",
            "/accounts/link",
            &jane,
            Some(json!({"type": "create", "providers": ["WHATSAPP"]})),
        )
        .await;
    assert_eq!(status, 200, "{link}");
    let submitted = walk
        .connect_on_hosted_page(&link, "provider=WHATSAPP&outcome=connect")
        .await;
    assert!(submitted.is_redirection() || submitted.is_success());
    let delivery = walk
        .stack
        .simulator
        .notifications()
        .pop()
        .expect("Unipile called notify_url");
    assert_eq!(delivery.status, Some(502), "the callback could not confirm");
    let orphan = delivery.body["account_id"]
        .as_str()
        .expect("account id")
        .to_owned();
    assert_eq!(walk.account_status(&jane, &orphan).await, None);
    // EventBridge Scheduler's hourly invocation (its input is not read).
    let run = walk
        .stack
        .function("AccountReconcilerFunction")
        .invoke(json!({}))
        .await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(
        walk.account_status(&jane, &orphan).await.as_deref(),
        Some("OK"),
        "the orphan is recorded for Jane"
    );

    // A user whose token carries an email: the link records it for later emails.
    let (status, link) = walk
        .api(
            "POST",
            "/accounts/link",
            &sam,
            Some(json!({"type": "create", "providers": "*"})),
        )
        .await;
    assert_eq!(status, 200, "{link}");

    // 6. Jane's own LinkedIn, connected by the extension: an outage no cookie mends, attempts
    //    0 to 4, then the email; her token carries none, so reconnect-retry finds her address
    //    in the user pool.
    let (status, connected) = walk.cookie_sync(&jane, "9002", "jane").await;
    assert_eq!(status, 201, "{connected}");
    let janes_linkedin = connected["account_id"]
        .as_str()
        .expect("account")
        .to_owned();
    walk.sim(
        "/_sim/cookie-outcomes",
        json!({"outcomes": ["provider_error", "provider_error", "provider_error", "provider_error", "provider_error"]}),
    )
    .await;
    walk.unipile_reports(&janes_linkedin, "CREDENTIALS").await;
    let mut attempts = 0;
    while !walk.schedules().await.is_empty() && attempts < 10 {
        attempts += walk.fire_schedules().await.len();
    }
    assert_eq!(attempts, 5, "attempts 0 to 4");
    assert_eq!(harness::moto::sent_emails(&jane_email).await.len(), 3);

    // 7. A reconnect attempt that dies: KMS fails through Lambda's two retries, so Lambda
    //    puts the attempt in the dead-letter queue. Once KMS is back, the documented
    //    `dead-letters replay` runs it: the account reconnects and the queue is empty.
    walk.unipile_reports(&linkedin, "CREDENTIALS").await;
    assert_eq!(walk.schedules().await.len(), 1);
    walk.stack.recorder.break_action("kms:Decrypt");
    let runs = walk.run_schedules().await;
    walk.stack.recorder.mend_action("kms:Decrypt");
    assert_eq!(runs.len(), 1);
    assert!(runs[0].1.is_err(), "the attempt died: {runs:?}");
    assert_eq!(
        walk.dead_letters().await,
        1,
        "kept in the dead-letter queue"
    );
    assert_eq!(
        walk.account_status(&sam, &linkedin).await.as_deref(),
        Some("CREDENTIALS")
    );
    let (ok, listed, errors) = walk.dead_letters_command("list").await;
    assert!(ok, "{listed}{errors}");
    assert!(
        listed.contains(&format!("account {linkedin} ")) && listed.contains("tries 3"),
        "{listed}"
    );
    assert_eq!(walk.dead_letters().await, 1, "listing changes nothing");
    let (ok, replayed, errors) = walk.dead_letters_command("replay").await;
    assert!(ok, "{replayed}{errors}");
    assert!(replayed.contains("replayed: reconnected"), "{replayed}");
    assert_eq!(walk.dead_letters().await, 0);
    assert_eq!(
        walk.account_status(&sam, &linkedin).await.as_deref(),
        Some("OK")
    );

    // 7b. Another that dies, drained instead: the reconnect ends and its owner is emailed
    //     once, as when the last attempt fails; the queue is empty.
    let sams_emails = harness::moto::sent_emails("sam@rehearsal.example.com")
        .await
        .len();
    walk.unipile_reports(&linkedin, "CREDENTIALS").await;
    walk.stack.recorder.break_action("kms:Decrypt");
    let runs = walk.run_schedules().await;
    walk.stack.recorder.mend_action("kms:Decrypt");
    assert!(runs.len() == 1 && runs[0].1.is_err(), "{runs:?}");
    assert_eq!(walk.dead_letters().await, 1);
    let (ok, drained, errors) = walk.dead_letters_command("drain").await;
    assert!(ok, "{drained}{errors}");
    assert!(drained.contains("drained: owner told"), "{drained}");
    assert_eq!(walk.dead_letters().await, 0);
    assert_eq!(
        harness::moto::sent_emails("sam@rehearsal.example.com")
            .await
            .len(),
        sams_emails + 1,
        "the owner is told to reconnect"
    );
    assert!(walk.schedules().await.is_empty(), "no attempt left");

    // 8. Jane disconnects the LinkedIn account her extension connected, while EventBridge
    //    refuses every event: the disconnection is done and its fact waits in the table, until
    //    the sweeper publishes it once the writer's grace is over. Then her identity is
    //    paused with its cookie gone, her next sync stores and connects nothing; she turns
    //    syncing back on, then deletes every cookie stored for her.
    walk.stack.recorder.break_action("events:PutEvents");
    let (status, _) = walk
        .api(
            "DELETE",
            &format!("/accounts/{janes_linkedin}"),
            &jane,
            None,
        )
        .await;
    walk.stack.recorder.mend_action("events:PutEvents");
    assert_eq!(status, 204);
    let before_sweep = walk.events.events().await;
    assert!(
        !before_sweep
            .iter()
            .any(|e| e["type"] == "account.disconnected"
                && e["data"]["account_id"] == janes_linkedin.as_str()),
        "EventBridge refused it: {before_sweep:?}"
    );
    walk.outbox_falls_due(&janes_linkedin).await;
    let swept = walk.sweep().await;
    assert_eq!(
        (
            swept["events"]["outboxes"].as_u64(),
            swept["events"]["failed"].as_u64()
        ),
        (Some(1), Some(0)),
        "{swept}"
    );
    let mut published = before_sweep;
    published.extend(walk.events.events().await);
    let disconnected: Vec<&Value> = published
        .iter()
        .filter(|e| {
            e["type"] == "account.disconnected"
                && e["data"]["account_id"] == janes_linkedin.as_str()
        })
        .collect();
    assert_eq!(disconnected.len(), 1, "{published:?}");
    assert_eq!(disconnected[0]["data"]["by"], "user");
    let (status, paused) = walk.cookie_sync(&jane, "9002", "jane-after").await;
    assert_eq!(
        (status, paused["status"].as_str()),
        (200, Some("paused")),
        "{paused}"
    );
    let (status, listed) = walk.api("GET", "/extension/identities", &jane, None).await;
    assert_eq!(
        (status, listed["identities"][0]["paused"].as_bool()),
        (200, Some(true)),
        "{listed}"
    );
    let (status, resumed) = walk
        .api(
            "PUT",
            "/extension/identities/9002",
            &jane,
            Some(json!({"paused": false})),
        )
        .await;
    assert_eq!(
        (status, resumed["paused"].as_bool()),
        (200, Some(false)),
        "{resumed}"
    );
    let (status, _) = walk.cookie_sync(&jane, "9002", "jane-again").await;
    assert_eq!(status, 201, "connected anew");
    let (status, deleted) = walk.api("DELETE", "/extension/cookies", &jane, None).await;
    assert_eq!(
        (status, deleted["deleted"].as_u64()),
        (200, Some(1)),
        "{deleted}"
    );

    // 9. The team's backend, with a client-credentials token granting the service scope:
    //    it reads any user's accounts (the status listing is the Scan its policy grants),
    //    mints a link for Sam; the HTTP API refuses Jane's token on those routes before any
    //    function runs, and the function refuses the service token on a user's route.
    let backend = jwt(
        &json!({"sub": "rehearsal-backend", "client_id": "rehearsal-backend",
                              "token_use": "access", "scope": "unipile-connect/service"}),
    );
    let (status, credentials) = walk
        .api(
            "GET",
            "/service/accounts?status=OK&limit=100",
            &backend,
            None,
        )
        .await;
    assert_eq!(status, 200, "{credentials}");
    assert!(
        credentials["accounts"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["account_id"] == orphan.as_str())),
        "{credentials}"
    );
    let (status, sams) = walk
        .api(
            "GET",
            &format!("/service/accounts/{linkedin}"),
            &backend,
            None,
        )
        .await;
    assert_eq!(
        (status, sams["user_id"].as_str()),
        (200, Some("sam-rehearsal")),
        "{sams}"
    );
    let (status, link) = walk
        .api(
            "POST",
            "/service/links",
            &backend,
            Some(json!({"user_id": "sam-rehearsal", "type": "reconnect", "reconnect_account": linkedin})),
        )
        .await;
    assert_eq!(status, 200, "{link}");
    // The feed the backend catches up from: what settled so far, and from an event it heard
    // (its first position looked up; nothing after it has settled yet, or some has).
    let (status, feed) = walk.api("GET", "/service/events", &backend, None).await;
    assert_eq!(status, 200, "{feed}");
    let heard = published
        .last()
        .and_then(|event| event["id"].as_str())
        .expect("an event heard");
    let (status, feed) = walk
        .api(
            "GET",
            &format!("/service/events?after={heard}"),
            &backend,
            None,
        )
        .await;
    assert_eq!(status, 200, "{feed}");
    let (status, refused) = walk.api("GET", "/service/events", &jane, None).await;
    assert_eq!(
        (status, refused["message"].as_str()),
        (403, Some("Forbidden")),
        "{refused}"
    );
    let (status, refused) = walk
        .api("GET", "/service/accounts?status=OK", &jane, None)
        .await;
    assert_eq!(
        (status, refused["message"].as_str()),
        (403, Some("Forbidden")),
        "{refused}"
    );
    let (status, refused) = walk.api("GET", "/accounts", &backend, None).await;
    assert_eq!(status, 403, "{refused}");

    // Sam connects Telegram from his own page: the accounts function answers a QR code with
    // its SVG ready to show, his phone scans it (Unipile's webhook reaches the status webhook,
    // which records the account for him from his sign-in's attempt), the page's poll sees it
    // connected, and a second poll answers the same.
    let (status, started) = walk
        .api(
            "POST",
            "/accounts/connect",
            &sam,
            Some(json!({"provider": "TELEGRAM"})),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    assert!(
        started["checkpoint"]["qrcode_svg"]
            .as_str()
            .is_some_and(|svg| svg.starts_with("data:image/svg+xml;base64,")),
        "{started}"
    );
    let telegram = started["account_id"].as_str().expect("id").to_owned();
    walk.sim(&format!("/_sim/checkpoints/{telegram}/scan"), json!({}))
        .await;
    for _ in 0..2 {
        let (status, polled) = walk
            .api("GET", &format!("/accounts/connect/{telegram}"), &sam, None)
            .await;
        assert_eq!(
            (status, polled["status"].as_str()),
            (200, Some("connected")),
            "{polled}"
        );
    }
    assert_eq!(
        walk.account_status(&sam, &telegram).await.as_deref(),
        Some("OK")
    );
    published.extend(walk.events.events().await);

    // What the team's backend heard through its rule on the stack's bus: every kind of
    // change the walk made, each event valid against its published schema, none carrying
    // anything secret or an email address.
    published.extend(walk.events.events().await);
    walk.events_are_the_walks(&published, &jane_email);

    // The same events reached the team's endpoint through the stack's own rule, queue and
    // events-webhook, as Lambda's SQS poller hands them over: each refused once, held back,
    // then delivered with the same id, every try verified by the Standard Webhooks reference
    // implementation against both secrets.
    walk.webhook_deliveries_are_the_walks(&published, &receiver)
        .await;

    // Every AWS action each function called is granted by its policy, and each grant is
    // either called or used by AWS on the function's behalf.
    let calls = walk.stack.calls();
    let mut problems = Vec::new();
    for id in walk.stack.functions.keys() {
        problems.extend(rehearsal::policy_problems(
            id,
            &calls.get(id).cloned().unwrap_or_default(),
            &walk.stack.granted_actions(id).expect("policy"),
            &granted_for_the_platform(&walk.stack, id),
        ));
    }
    // Secrets and keys, resource by resource: each function reads exactly the secrets its
    // policy names, and uses the cookie key only as its policy allows.
    let resources = walk.stack.resources();
    for id in walk.stack.functions.keys() {
        let used = resources.get(id).cloned().unwrap_or_default();
        let read: BTreeSet<String> = used
            .iter()
            .filter(|(action, _)| action == "secretsmanager:GetSecretValue")
            .map(|(_, secret)| secret.clone())
            .collect();
        let allowed = walk
            .stack
            .granted_resources(id, "secretsmanager:GetSecretValue")
            .expect("policy");
        if read != allowed {
            problems.push(format!(
                "{id} reads secrets {read:?}, its policy allows {allowed:?}"
            ));
        }
        for (action, bus) in used.iter().filter(|(a, _)| a == "events:PutEvents") {
            let allowed = walk.stack.granted_resources(id, action).expect("policy");
            if !allowed
                .iter()
                .any(|arn| arn.ends_with(&format!(":event-bus/{bus}")))
            {
                problems.push(format!(
                    "{id} puts events on {bus}, its policy allows {allowed:?}"
                ));
            }
        }
        for (action, key) in used.iter().filter(|(a, _)| a.starts_with("kms:")) {
            let allowed = walk.stack.granted_resources(id, action).expect("policy");
            if !allowed
                .iter()
                .any(|arn| arn == key || arn.ends_with(&format!("key/{key}")))
            {
                problems.push(format!(
                    "{id} calls {action} on {key}, its policy allows {allowed:?}"
                ));
            }
        }
    }
    problems.extend(logs_go_only_to_the_functions_own_group(&walk.stack));
    assert!(
        problems.is_empty(),
        "policies and code disagree:\n{}",
        problems.join("\n")
    );

    // Nothing secret in any function's log.
    let output = walk.stack.all_output();
    for secret in [
        API_KEY,
        STATE_KEY,
        WEBHOOK_SECRET,
        COOKIE_MARK,
        EVENTS_SECRET,
        EVENTS_SECRET_NEXT,
    ] {
        assert!(
            !output.contains(secret),
            "a function logged a secret ({secret})"
        );
    }

    // What each invocation ran for (the billed duration, less cold starts), for the cost
    // table in docs/operations.md: on this machine, against moto and the simulator on loopback.
    let mut table = String::from("function\tinvocations\tmedian ms\tp90 ms\tmax ms\n");
    for (id, function) in &walk.stack.functions {
        let mut durations: Vec<f64> = function
            .durations()
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        if durations.is_empty() {
            continue;
        }
        durations.sort_by(f64::total_cmp);
        let at = |q: f64| durations[((durations.len() - 1) as f64 * q).round() as usize];
        table.push_str(&format!(
            "{id}\t{}\t{:.1}\t{:.1}\t{:.1}\n",
            durations.len(),
            at(0.5),
            at(0.9),
            at(1.0)
        ));
    }
    eprintln!("invocation durations:\n{table}");
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/rehearsal/durations.tsv"),
        &table,
    );

    // Stack deleted: the webhook goes with it.
    let mut walk = walk;
    walk.stack
        .delete_custom_resources()
        .await
        .expect("custom resources deleted");
    assert!(walk.webhooks().await.is_empty(), "no webhook left");
}

/// A template that forgets a variable a function reads: the function does not start, and
/// says which variable. The rehearsal gives each function exactly the template's environment,
/// so this is what AWS would do too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_function_whose_template_environment_lost_a_variable_does_not_start() {
    let dir = rehearsal::build_dir();
    if !dir.join("template.yaml").is_file() {
        assert!(
            std::env::var_os("REHEARSAL_REQUIRED").is_none(),
            "no built stack"
        );
        eprintln!("SKIPPED: no built stack in {}", dir.display());
        return;
    }
    let moto = harness::moto::endpoint();
    let (pool_id, _, _) = cognito_user(&moto).await;
    let stack = Rehearsal::deploy_edited(&dir, deployment(&pool_id), |template| {
        let variables = &mut template["Resources"]["StatusWebhookFunction"]["Properties"]
            ["Environment"]["Variables"];
        variables
            .as_object_mut()
            .expect("the status webhook has its own variables")
            .remove("MAIL_FROM")
            .expect("MAIL_FROM is in the template");
    })
    .await
    .expect("deployed");
    let response = reqwest::Client::new()
        .post(
            stack
                .api_url("POST", "/unipile/webhook")
                .expect("a route of the stack"),
        )
        .header("Unipile-Auth", WEBHOOK_SECRET)
        .body(r#"{"AccountStatus":{"account_id":"a1","account_type":"LINKEDIN","message":"OK"}}"#)
        .send()
        .await
        .expect("the HTTP API answers");
    assert_eq!(response.status(), 500);
    let log = stack.function("StatusWebhookFunction").output();
    assert!(log.contains("MAIL_FROM is not set"), "{log}");
}

/// With `UnipileEndpoint=FunctionUrl` Unipile's two calls go to public function URLs
/// instead: the stack registers its webhook at the status webhook's URL and takes a delivery
/// there, and hosted-link's notify_url names the callback's URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_function_urls_chosen_unipile_calls_them_instead_of_the_api() {
    let dir = rehearsal::build_dir();
    if !dir.join("template.yaml").is_file() {
        assert!(
            std::env::var_os("REHEARSAL_REQUIRED").is_none(),
            "no built stack"
        );
        eprintln!("SKIPPED: no built stack in {}", dir.display());
        return;
    }
    let moto = harness::moto::endpoint();
    let (pool_id, _, _) = cognito_user(&moto).await;
    let mut chosen = deployment(&pool_id);
    chosen
        .parameters
        .insert("UnipileEndpoint".into(), "FunctionUrl".into());
    let stack = Rehearsal::deploy(&dir, chosen).await.expect("deployed");
    let status_url = stack.function_url("StatusWebhookFunction").to_owned();
    let hooks = stack.simulator.webhooks();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0].request_url, status_url);
    let response = reqwest::Client::new()
        .post(&status_url)
        .header("Unipile-Auth", WEBHOOK_SECRET)
        .body(r#"{"AccountStatus":{"account_id":"a1","account_type":"LINKEDIN","message":"OK"}}"#)
        .send()
        .await
        .expect("the function URL answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        stack.function("HostedLinkFunction").environment["PUBLIC_BASE_URL"],
        stack.function_url("ConnectCallbackFunction")
    );
    // The routes stay on Unipile's HTTP API, so that calls promised to them still arrive.
    let promised = stack
        .api_url("POST", "/unipile/webhook")
        .expect("a route of the stack");
    assert!(
        promised.starts_with(&stack.apis["UnipileApi"].url),
        "{promised}"
    );
    let response = reqwest::Client::new()
        .post(&promised)
        .header("Unipile-Auth", WEBHOOK_SECRET)
        .body(r#"{"AccountStatus":{"account_id":"a1","account_type":"LINKEDIN","message":"OK"}}"#)
        .send()
        .await
        .expect("the HTTP API answers");
    assert_eq!(response.status(), 200);
}

/// Unipile's two calls carry no JWT: each request, forged or not, costs an invocation unless
/// something in front of the function refuses a flood first, and a new AWS account cannot
/// reserve concurrency. By default they must reach their functions only through open routes
/// of an HTTP API, throttled (by their own settings or their API's), which wait longer than
/// the functions run; function URLs are the option for accounts that reserve concurrency.
#[test]
fn by_default_unipile_reaches_the_functions_only_through_throttled_api_routes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = rehearsal::template::Template::load(&root.join("infra/template.yaml"))
        .expect("the template reads");
    let default = template
        .symbolic_stack(&[])
        .expect("the template evaluates");
    let problems = harness::aws_rules::unipile_entry_problems(&template, &default);
    assert!(
        problems.is_empty(),
        "by default, Unipile's calls are not only behind throttled routes:\n{}",
        problems.join("\n")
    );

    let reserved = template
        .symbolic_stack(&[
            ("UnipileEndpoint", "FunctionUrl"),
            ("PublicUrlConcurrency", "20"),
        ])
        .expect("the template evaluates");
    let problems = harness::aws_rules::unipile_entry_problems(&template, &reserved);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let unreserved = template
        .symbolic_stack(&[("UnipileEndpoint", "FunctionUrl")])
        .expect("the template evaluates");
    let problems = harness::aws_rules::unipile_entry_problems(&template, &unreserved).join("\n");
    for function in ["ConnectCallbackFunction", "StatusWebhookFunction"] {
        assert!(
            problems.contains(&format!(
                "public function URL of {function} that nothing throttles"
            )),
            "the option's cost without reserved concurrency is named: {problems}"
        );
    }
}

/// The template as CloudFormation reads it, from `infra/template.yaml`.
fn the_template() -> rehearsal::template::Template {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    rehearsal::template::Template::load(&root.join("infra/template.yaml"))
        .expect("the template reads")
}

/// A stack of the template with `given` parameters whose APIs and function URLs have the
/// addresses AWS gives them (an API's without a trailing slash, a function URL's with one),
/// every other resource symbolic.
fn stack_with_addresses(
    template: &rehearsal::template::Template,
    given: &[(&str, &str)],
) -> rehearsal::template::Stack {
    let mut stack = template
        .symbolic_stack(given)
        .expect("the template evaluates");
    for (id, _) in template.resources_of("AWS::Serverless::HttpApi") {
        let address = format!(
            "https://{}.execute-api.us-east-1.amazonaws.com",
            id.to_ascii_lowercase()
        );
        stack
            .attributes
            .insert((id.to_owned(), "ApiEndpoint".to_owned()), json!(address));
    }
    for (id, _) in template.resources_of("AWS::Lambda::Url") {
        let address = format!(
            "https://{}.lambda-url.us-east-1.on.aws/",
            id.to_ascii_lowercase()
        );
        stack
            .attributes
            .insert((id.to_owned(), "FunctionUrl".to_owned()), json!(address));
    }
    stack
}

/// A function's environment as Lambda has it: the template's `Globals` and its own.
fn environment(
    template: &rehearsal::template::Template,
    stack: &rehearsal::template::Stack,
    function: &str,
) -> serde_json::Map<String, Value> {
    let mut variables = serde_json::Map::new();
    for raw in [
        &template.root["Globals"]["Function"]["Environment"]["Variables"],
        &template.section("Resources")[function]["Properties"]["Environment"]["Variables"],
    ] {
        let resolved = stack.resolve(raw).expect("the environment resolves");
        variables.extend(resolved.as_object().cloned().unwrap_or_default());
    }
    variables
}

/// The function each webhook registration's `ServiceToken` names, with the registration.
fn registrations(template: &rehearsal::template::Template) -> Vec<(String, String, Value)> {
    let found: Vec<_> = template
        .resources_of("Custom::UnipileWebhook")
        .into_iter()
        .map(|(id, registration)| {
            let function = template
                .named_resource(&registration["Properties"]["ServiceToken"])
                .unwrap_or_else(|| panic!("{id}: its ServiceToken is no function of the stack"));
            (id.to_owned(), function.to_owned(), registration.clone())
        })
        .collect();
    assert!(!found.is_empty(), "the stack registers its webhook");
    found
}

/// webhook-setup registers no URL but its own stack's status webhook: each registration's
/// function is given, as STATUS_WEBHOOK_URL, the very URL the registration asks for, whichever
/// door Unipile is given; and the stack's outputs name the URLs Unipile is really given (the
/// registered webhook, and hosted-link's notify_url without its state).
#[test]
fn webhook_setup_is_told_the_url_its_stack_registers() {
    let template = the_template();
    let outputs = template.section("Outputs");
    for endpoint in ["HttpApi", "FunctionUrl"] {
        let stack = stack_with_addresses(&template, &[("UnipileEndpoint", endpoint)]);
        let output = |name: &str| {
            stack
                .resolve(&outputs[name]["Value"])
                .unwrap_or_else(|e| panic!("{endpoint}: output {name}: {e}"))
        };
        for (id, function, registration) in registrations(&template) {
            let properties = stack
                .resolve(&registration["Properties"])
                .expect("resolves");
            let own = environment(&template, &stack, &function)
                .get("STATUS_WEBHOOK_URL")
                .cloned();
            assert!(
                own.as_ref().is_some_and(Value::is_string),
                "{endpoint}: {function} is given no STATUS_WEBHOOK_URL"
            );
            assert_eq!(
                own.as_ref(),
                Some(&properties["RequestUrl"]),
                "{endpoint}: {id}"
            );
            assert_eq!(
                output("StatusWebhookUrl"),
                properties["RequestUrl"],
                "{endpoint}: the StatusWebhookUrl output is what {id} registers"
            );
        }
        let base = environment(&template, &stack, "HostedLinkFunction")["PUBLIC_BASE_URL"]
            .as_str()
            .map(|base| url::Url::parse(base).expect("PUBLIC_BASE_URL is a URL"))
            .expect("hosted-link is given PUBLIC_BASE_URL");
        let mut notify = unipile_connect::flows::hosted_link::notify_url(&base, "state");
        notify.set_query(None);
        assert_eq!(
            output("CallbackUrl"),
            json!(notify.as_str()),
            "{endpoint}: the CallbackUrl output is where hosted-link sends Unipile"
        );
    }
}

/// webhook-setup reads the webhook secret once, at cold start. Rotating it changes what feeds
/// the registration's `SecretVersion`, which makes CloudFormation update the registration:
/// the same change must reach the function's environment, so that Lambda starts it anew and
/// it registers the new secret, not the one a warm instance still holds (a SUCCESS that
/// registered the old secret again).
#[test]
fn a_new_webhook_secret_version_reaches_webhook_setup_as_a_new_configuration() {
    let template = the_template();
    let default = template
        .symbolic_stack(&[])
        .expect("the template evaluates");
    for (id, function, registration) in registrations(&template) {
        let raw = &registration["Properties"]["SecretVersion"];
        assert!(!raw.is_null(), "{id} has a SecretVersion to change");
        let mut fed_by = Vec::new();
        for (parameter, spec) in template.section("Parameters") {
            let other = match spec["AllowedValues"].as_array() {
                Some(allowed) => allowed
                    .iter()
                    .filter_map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .or(v.as_i64().map(|n| n.to_string()))
                    })
                    .find(|v| Some(v.as_str()) != spec["Default"].as_str()),
                None => Some("2-rotated".to_owned()),
            };
            let Some(other) = other else { continue };
            let changed = template
                .symbolic_stack(&[(parameter.as_str(), other.as_str())])
                .expect("the template evaluates");
            let version =
                |stack: &rehearsal::template::Stack| stack.resolve(raw).expect("resolves");
            if version(&changed) == version(&default) {
                continue;
            }
            fed_by.push(parameter.clone());
            assert_ne!(
                environment(&template, &changed, &function),
                environment(&template, &default, &function),
                "{parameter} changes {id}'s SecretVersion but not {function}'s environment: \
                 a warm {function} would register the secret it read before the rotation"
            );
        }
        assert!(
            !fed_by.is_empty(),
            "{id}'s SecretVersion follows no parameter: a rotation could not change it"
        );
    }
}

/// CloudFormation refuses a template whose resources wait for each other in a circle, and
/// SAM's transform adds waits the template does not show (an API waits for the functions of
/// its routes). Neither cfn-lint on the SAM template nor the rehearsal sees them;
/// `scripts/check-infra.sh` checks the transformed template too.
#[test]
fn cloudformation_can_order_the_stack_once_sam_transforms_it() {
    let template = the_template();
    for endpoint in ["HttpApi", "FunctionUrl"] {
        let stack = template
            .symbolic_stack(&[("UnipileEndpoint", endpoint)])
            .expect("the template evaluates");
        let problems = harness::aws_rules::dependency_cycles(&template, &stack);
        assert!(
            problems.is_empty(),
            "UnipileEndpoint={endpoint}:\n{}",
            problems.join("\n")
        );
    }
}

/// `cargo lambda build --release` at the root builds the workspace's default members: they
/// must be exactly the functions the template deploys, each a binary of the same name.
#[test]
fn cargo_lambda_builds_exactly_what_the_template_deploys() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let list = manifest
        .split("default-members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("the workspace names its default members");
    let members: BTreeSet<String> = list
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .map(|m| {
            let crate_manifest = std::fs::read_to_string(root.join(m).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("{m}: {e}"));
            let name = m.rsplit('/').next().expect("a folder name");
            assert!(
                crate_manifest.contains(&format!("[[bin]]\nname = \"{name}\"")),
                "{m} builds a binary named {name}"
            );
            name.to_owned()
        })
        .collect();
    let template = rehearsal::template::Template::load(&root.join("infra/template.yaml"))
        .expect("the template reads");
    let deployed: BTreeSet<String> = template
        .resources_of("AWS::Serverless::Function")
        .into_iter()
        .map(|(id, f)| {
            assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} names no binary"))
                .to_owned()
        })
        .collect();
    assert_eq!(members, deployed);
}

/// A parameter the template accepts but the code refuses would deploy a stack whose functions
/// never start: the bounds are the same numbers.
#[test]
fn the_templates_parameter_bounds_are_the_codes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = rehearsal::template::Template::load(&root.join("infra/template.yaml"))
        .expect("the template reads");
    let parameters = template.section("Parameters");
    for (name, range) in [
        ("LinkTtlMinutes", unipile_connect::config::LINK_TTL_MINUTES),
        (
            "StaleCookieHours",
            unipile_connect::config::STALE_COOKIE_HOURS,
        ),
        (
            "ConnectThrottleSeconds",
            unipile_connect::config::CONNECT_THROTTLE_SECONDS,
        ),
        (
            "CookieTtlDays",
            unipile_connect::flows::cookie_sync::COOKIE_TTL_DAYS_RANGE,
        ),
    ] {
        let spec = &parameters[name];
        assert_eq!(
            spec["MinValue"].as_i64(),
            Some(*range.start()),
            "{name} MinValue"
        );
        assert_eq!(
            spec["MaxValue"].as_i64(),
            Some(*range.end()),
            "{name} MaxValue"
        );
        let default = spec["Default"].as_i64().expect("a numeric default");
        assert!(range.contains(&default), "{name} default {default}");
    }
}

/// CloudFormation checks `ConnectAttemptLimit` against its pattern; the accounts function
/// checks it again at cold start. Whatever the pattern lets through must start the function,
/// and what the code refuses must be refused at deploy time, not by a function that never
/// starts.
#[test]
fn the_connect_attempt_limits_pattern_admits_only_what_the_code_reads() {
    use unipile_connect::domain::login_attempt::AttemptLimit;
    let template = the_template();
    let spec = &template.section("Parameters")["ConnectAttemptLimit"];
    let pattern = regex_lite::Regex::new(spec["AllowedPattern"].as_str().expect("a pattern"))
        .expect("the pattern compiles");
    let default = spec["Default"].as_str().expect("a default");
    assert!(pattern.is_match(default));
    assert_eq!(AttemptLimit::parse(default), Ok(AttemptLimit::default()));
    let mut samples = Vec::new();
    for starts in [0, 1, 5, 99, 100, 101, 250] {
        for window in [
            "0s", "1s", "59s", "86400s", "86401s", "99999s", "0m", "15m", "1440m", "1441m", "0h",
            "1h", "24h", "25h", "999h", "15", "15d",
        ] {
            samples.push(format!("{starts}/{window}"));
        }
    }
    for sample in samples {
        let admitted = pattern.is_match(&sample);
        let read = AttemptLimit::parse(&sample).is_ok();
        assert_eq!(
            admitted, read,
            "{sample}: the template admits it {admitted}, the code reads it {read}"
        );
    }
}

/// API Gateway refuses a JWT authorizer without an audience, which moto never sees: the
/// backend's authorizer takes `ServiceAudience` when it is given and `JwtAudience` when it is
/// left empty, never nothing; and every service route requires the configured scope.
#[test]
fn the_service_authorizer_always_has_an_audience_and_its_routes_require_the_scope() {
    let template = the_template();
    let audience = |given: &[(&str, &str)]| {
        let stack = template
            .symbolic_stack(given)
            .expect("the template evaluates");
        let api = &template.section("Resources")["Api"]["Properties"]["Auth"]["Authorizers"];
        stack
            .resolve(&api["ServiceJwt"]["JwtConfiguration"]["audience"])
            .expect("resolves")
    };
    assert_eq!(
        audience(&[("JwtAudience", "app-client")]),
        json!(["app-client"])
    );
    assert_eq!(
        audience(&[
            ("JwtAudience", "app-client"),
            ("ServiceAudience", "backend-a,backend-b")
        ]),
        json!(["backend-a", "backend-b"])
    );
    let stack = template
        .symbolic_stack(&[("ServiceScope", "api://backend/connect")])
        .expect("the template evaluates");
    let service: Vec<_> = rehearsal::api_routes(&template, &stack)
        .expect("routes")
        .into_iter()
        .filter(|r| r.path.starts_with("/service/"))
        .collect();
    let keys: BTreeSet<String> = service.iter().map(|r| r.key()).collect();
    assert_eq!(
        keys,
        BTreeSet::from(
            [
                "GET /service/accounts",
                "GET /service/accounts/{account_id}",
                "DELETE /service/accounts/{account_id}",
                "POST /service/links",
                "GET /service/events",
            ]
            .map(str::to_owned)
        ),
        "{service:?}"
    );
    for route in service {
        assert_eq!(
            route.authorizer.as_deref(),
            Some("ServiceJwt"),
            "{}",
            route.key()
        );
        assert_eq!(
            route.scopes,
            vec!["api://backend/connect".to_owned()],
            "{}",
            route.key()
        );
    }
}

/// What AWS enforces on the webhook queue and moto does not: EventBridge may put events in
/// both queues only for the stack's rule (the queue policy), Lambda's poller wants a
/// visibility timeout of six times the function's, and the code's back-off must fit the
/// queue (as many receives as the code tries, kept longer than all its waits).
#[test]
fn the_webhook_queue_takes_the_rules_events_only_and_fits_the_codes_back_off() {
    use unipile_connect::domain::event_webhook::{ATTEMPTS, RETRY_DELAYS};
    let template = the_template();
    let resources = template.section("Resources");
    let number = |value: &Value| {
        value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{value} is not a number"))
    };
    let queue = &resources["EventsWebhookQueue"]["Properties"];
    let function = &resources["EventsWebhookFunction"]["Properties"];
    assert_eq!(
        number(&queue["RedrivePolicy"]["maxReceiveCount"]),
        u64::from(ATTEMPTS),
        "one receive per try of the code's back-off"
    );
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["EventsWebhookDeadLetterQueue", "Arn"]})
    );
    assert!(number(&queue["VisibilityTimeout"]) >= 6 * number(&function["Timeout"]));
    let waits: u64 = RETRY_DELAYS.iter().map(|d| d.as_secs()).sum();
    assert!(number(&queue["MessageRetentionPeriod"]) > waits);
    let rule = &resources["EventsWebhookRule"]["Properties"];
    assert_eq!(rule["EventBusName"], json!({"Ref": "EventBus"}));
    assert_eq!(
        rule["Targets"][0]["DeadLetterConfig"]["Arn"],
        json!({"Fn::GetAtt": ["EventsWebhookDeadLetterQueue", "Arn"]})
    );
    let policy = &resources["EventsWebhookQueuePolicy"]["Properties"];
    assert_eq!(
        policy["Queues"],
        json!([{"Ref": "EventsWebhookQueue"}, {"Ref": "EventsWebhookDeadLetterQueue"}])
    );
    let statements = policy["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements");
    assert_eq!(statements.len(), 1, "{statements:?}");
    let statement = &statements[0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(
        statement["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    assert_eq!(statement["Action"], "sqs:SendMessage");
    assert_eq!(
        statement["Resource"],
        json!([
            {"Fn::GetAtt": ["EventsWebhookQueue", "Arn"]},
            {"Fn::GetAtt": ["EventsWebhookDeadLetterQueue", "Arn"]}
        ])
    );
    assert_eq!(
        statement["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["EventsWebhookRule", "Arn"]}}})
    );
    // Every webhook resource exists only with a URL and its secret.
    for id in [
        "EventsWebhookRule",
        "EventsWebhookQueue",
        "EventsWebhookDeadLetterQueue",
        "EventsWebhookQueuePolicy",
        "EventsWebhookFunctionRole",
        "EventsWebhookFunction",
        "EventsWebhookLogs",
        "EventsWebhookDeadLettersAlarm",
    ] {
        assert_eq!(resources[id]["Condition"], "HasEventsWebhook", "{id}");
    }
}
