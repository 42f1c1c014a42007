//! The deploy rehearsal: the stack as `sam build` leaves it (`.aws-sam/build`), "deployed"
//! on this machine. Each resource the template declares is created in moto from the
//! template's own properties; each function is its release bootstrap, run under a Lambda
//! Runtime API with exactly the environment the template gives it, behind the front door
//! AWS would put before it (a route of one of the stack's HTTP APIs, with the JWT authorizer
//! or open, or a function URL); the custom resources are invoked as CloudFormation invokes
//! them. Every AWS call a function makes is recorded, so the policies can be checked against
//! what the code really calls.

pub mod gateway;
pub mod lambda;
pub mod recorder;
pub mod template;

use gateway::{FrontDoor, Route};
use lambda::{LambdaFunction, Launch};
use local_stack::simulator::Simulator;
use recorder::{Calls, Recorder, Resources};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use template::{Stack, Template};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// Where `sam build` leaves the stack: `REHEARSAL_BUILD_DIR`, else `.aws-sam/build` in the
/// workspace.
pub fn build_dir() -> PathBuf {
    std::env::var_os("REHEARSAL_BUILD_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(".aws-sam/build")
        },
        PathBuf::from,
    )
}

/// One Allow statement: its actions and its resources.
type Grant = (Vec<String>, Vec<String>);

/// Functions by logical id, filled once they run; the front doors look them up per request.
type Registry = Arc<Mutex<HashMap<String, Arc<LambdaFunction>>>>;

pub struct Rehearsal {
    pub template: Template,
    pub stack: Stack,
    pub moto: String,
    pub recorder: Recorder,
    pub simulator: Simulator,
    pub simulator_url: String,
    /// The stack's HTTP APIs, by logical id.
    pub apis: BTreeMap<String, FrontDoor>,
    /// Every route of those APIs.
    pub routes: Vec<Route>,
    /// Function URLs, by the logical id of the function behind each.
    pub function_urls: BTreeMap<String, FrontDoor>,
    pub functions: BTreeMap<String, Arc<LambdaFunction>>,
    /// Custom resources: logical id → the PhysicalResourceId their Create answered.
    pub custom_resources: BTreeMap<String, String>,
    cloudformation: CloudFormationAnswers,
    _servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Rehearsal {
    fn drop(&mut self) {
        for server in &self._servers {
            server.abort();
        }
    }
}

/// A call straight to moto in AWS's JSON protocol (`X-Amz-Target`), for setting the stack up.
/// moto reads the service from the signature's scope and checks nothing else of it.
pub async fn aws_json(
    moto: &str,
    service: &str,
    target: &str,
    body: Value,
) -> Result<Value, String> {
    let content_type = if service == "dynamodb" || service == "sqs" {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    };
    aws_call(
        moto,
        "rehearsal",
        service,
        "POST",
        "/",
        Some(target),
        content_type,
        body,
    )
    .await
}

/// A JSON-protocol call signed as `caller` (a function's logical id, as its role would be),
/// through `endpoint` (the recorder, so it is noted against that caller's grants).
pub async fn aws_json_as(
    endpoint: &str,
    caller: &str,
    service: &str,
    target: &str,
    body: Value,
) -> Result<Value, String> {
    aws_call(
        endpoint,
        caller,
        service,
        "POST",
        "/",
        Some(target),
        "application/x-amz-json-1.0",
        body,
    )
    .await
}

/// A REST call straight to moto (SES v2, Scheduler).
pub async fn aws_rest(
    moto: &str,
    service: &str,
    method: &str,
    path: &str,
    body: Value,
) -> Result<Value, String> {
    aws_call(
        moto,
        "rehearsal",
        service,
        method,
        path,
        None,
        "application/json",
        body,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn aws_call(
    moto: &str,
    caller: &str,
    service: &str,
    method: &str,
    path: &str,
    target: Option<&str>,
    content_type: &str,
    body: Value,
) -> Result<Value, String> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = reqwest::Client::new()
        .request(method, format!("{moto}{path}"))
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={caller}/20261126/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
            ),
        )
        .header("content-type", content_type);
    if let Some(target) = target {
        request = request.header("x-amz-target", target);
    }
    if !body.is_null() {
        request = request.body(body.to_string());
    }
    let answer = request.send().await.map_err(|e| e.to_string())?;
    let status = answer.status();
    let text = answer.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{service} {path} {target:?}: {status} {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// What the stack needs from outside it: the values a team passes at deploy time.
pub struct Deployment {
    /// Template parameters (the rehearsal fills `UnipileDsn` and the secrets' ARNs itself).
    pub parameters: HashMap<String, String>,
    /// The secrets to create, by the parameter that takes their ARN: each a JSON object of
    /// name to value (`{"UNIPILE_API_KEY": ...}`).
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
    pub unipile_api_key: String,
}

/// Where a function's policy and its code disagree: an action called but not granted, an
/// action granted but neither called nor used by AWS for it (`platform`), or a platform
/// action missing.
pub fn policy_problems(
    function: &str,
    called: &BTreeSet<String>,
    granted: &BTreeSet<String>,
    platform: &BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for action in called.difference(granted) {
        problems.push(format!(
            "{function} calls {action}, which its policy does not grant"
        ));
    }
    for action in granted.difference(called) {
        if !platform.contains(action) {
            problems.push(format!(
                "{function} is granted {action}, which it never called"
            ));
        }
    }
    for action in platform.difference(granted) {
        problems.push(format!("{function} needs {action} for AWS to act for it"));
    }
    problems
}

impl Rehearsal {
    pub async fn deploy(build_dir: &Path, deployment: Deployment) -> Result<Self, String> {
        Self::deploy_edited(build_dir, deployment, |_| {}).await
    }

    /// Deploys the built template after `edit` changed it: how a test shows what a template
    /// that lost something would do.
    pub async fn deploy_edited(
        build_dir: &Path,
        deployment: Deployment,
        edit: impl FnOnce(&mut Value),
    ) -> Result<Self, String> {
        let mut template = Template::load(&build_dir.join("template.yaml"))?;
        edit(&mut template.root);
        let moto = crate::moto::endpoint();
        let recorder = Recorder::start(&moto).await?;
        let simulator = Simulator::new(&deployment.unipile_api_key);
        let (simulator_url, simulator_server) = serve(simulator.router()).await?;
        let mut servers = vec![simulator_server];
        let cloudformation = CloudFormationAnswers::default();
        let (cloudformation_url, cloudformation_server) = serve(cloudformation.router()).await?;
        servers.push(cloudformation_server);

        let stack_name = crate::world::unique("rehearsal");
        let mut given = deployment.parameters;
        given.insert("UnipileDsn".into(), simulator_url.clone());
        for (parameter, values) in &deployment.secrets {
            let secret = aws_json(
                &moto,
                "secretsmanager",
                "secretsmanager.CreateSecret",
                json!({"Name": format!("{stack_name}-{parameter}"),
                       "SecretString": serde_json::to_string(values).map_err(|e| e.to_string())?}),
            )
            .await?;
            given.insert(
                parameter.clone(),
                secret["ARN"].as_str().ok_or("secret ARN")?.to_owned(),
            );
        }
        if let Some(identity) = given.get("MailIdentity") {
            aws_rest(
                &moto,
                "ses",
                "POST",
                "/v2/email/identities",
                json!({"EmailIdentity": identity}),
            )
            .await?;
        }

        let mut stack = Stack {
            name: stack_name,
            region: REGION.into(),
            account: ACCOUNT.into(),
            ..Stack::default()
        };
        stack.parameters = template.parameter_values(&given)?;
        template.evaluate_conditions(&mut stack)?;

        let registry: Registry = Arc::default();
        // Each HTTP API the stack creates: `Ref` gives its id (the logical id in lower case
        // here), and its routes must be known before its door opens.
        let mut api_ids = Vec::new();
        for (id, _) in template.resources_of("AWS::Serverless::HttpApi") {
            if template.is_created(&stack, id)? {
                let api_id = id.to_ascii_lowercase();
                stack.refs.insert(id.to_owned(), json!(api_id));
                api_ids.push((id.to_owned(), api_id));
            }
        }
        let routes = api_routes(&template, &stack)?;
        let mut apis = BTreeMap::new();
        for (id, api_id) in api_ids {
            let own = routes.iter().filter(|r| r.api == id).cloned().collect();
            let door = FrontDoor::http_api(own, &api_id, registry.clone()).await?;
            // `Fn::GetAtt <Api>.ApiEndpoint`: the API's address (no trailing slash, as AWS
            // gives it), here its local door.
            stack.attributes.insert(
                (id.clone(), "ApiEndpoint".into()),
                json!(door.url.trim_end_matches('/')),
            );
            apis.insert(id, door);
        }
        // Function URLs, where their condition holds. SAM's `FunctionUrlConfig` is refused
        // rather than rehearsed unseen: the template declares its URLs as AWS::Lambda::Url.
        for (id, resource) in template.resources_of("AWS::Serverless::Function") {
            if resource["Properties"].get("FunctionUrlConfig").is_some() {
                return Err(format!(
                    "{id}: FunctionUrlConfig is not rehearsed; declare an AWS::Lambda::Url"
                ));
            }
        }
        let mut function_urls = BTreeMap::new();
        for (id, _) in template.resources_of("AWS::Lambda::Url") {
            let Some(function) = template.url_function(&stack, id)? else {
                continue;
            };
            let door = FrontDoor::function_url(&function, registry.clone()).await?;
            stack
                .attributes
                .insert((id.to_owned(), "FunctionUrl".into()), json!(door.url));
            function_urls.insert(function, door);
        }
        create_resources(&template, &mut stack, &moto).await?;

        let log_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/rehearsal")
            .join(&stack.name);
        let mut functions = BTreeMap::new();
        for (id, _) in template.resources_of("AWS::Serverless::Function") {
            // A function whose condition is false is not deployed (the events webhook
            // without EventsWebhookUrl).
            if !template.is_created(&stack, id)? {
                continue;
            }
            let function =
                start_function(&template, &stack, id, build_dir, &recorder, &log_dir).await?;
            let function = Arc::new(function);
            registry
                .lock()
                .map_err(|_| "registry")?
                .insert(id.to_owned(), function.clone());
            functions.insert(id.to_owned(), function);
        }

        let mut rehearsal = Self {
            template,
            stack,
            moto,
            recorder,
            simulator,
            simulator_url,
            apis,
            routes,
            function_urls,
            functions,
            custom_resources: BTreeMap::new(),
            cloudformation,
            _servers: servers,
        };
        rehearsal.cloudformation.base_url = format!("{cloudformation_url}/");
        rehearsal.create_custom_resources().await?;
        Ok(rehearsal)
    }

    /// A function by logical id.
    pub fn function(&self, id: &str) -> &Arc<LambdaFunction> {
        &self.functions[id]
    }

    /// Invokes `id` as an asynchronous caller (EventBridge Scheduler) has Lambda do it: a
    /// failure is retried as the function's `EventInvokeConfig` says (Lambda's default: twice),
    /// then Lambda sends its invocation record to the `OnFailure` destination, with the
    /// function's own role (so the recorder notes `sqs:SendMessage` against its grants).
    /// Lambda waits a minute or two between tries; the rehearsal does not. Returns the last
    /// try's outcome.
    pub async fn invoke_async(&self, id: &str, event: Value) -> Result<lambda::Outcome, String> {
        let function = self.function(id);
        let properties = self
            .stack
            .resolve(&self.template.section("Resources")[id]["Properties"])?;
        let config = &properties["EventInvokeConfig"];
        let retries = config["MaximumRetryAttempts"].as_u64().unwrap_or(2);
        let mut tries = 0;
        let outcome = loop {
            tries += 1;
            let outcome = function.invoke(event.clone()).await;
            if outcome.is_ok() || tries > retries {
                break outcome;
            }
        };
        let Err(error) = &outcome else {
            return Ok(outcome);
        };
        let Some(destination) = config["DestinationConfig"]["OnFailure"]["Destination"].as_str()
        else {
            return Ok(outcome);
        };
        let queue = self
            .stack
            .attributes
            .iter()
            .find(|((_, name), value)| name == "Arn" && value.as_str() == Some(destination))
            .and_then(|((resource, _), _)| self.stack.refs.get(resource))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{id}: OnFailure {destination} is no queue of the stack"))?;
        let record = json!({
            "version": "1.0",
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "requestContext": {
                "requestId": format!("rehearsal-{tries}-{}", chrono::Utc::now().timestamp_micros()),
                "functionArn": format!("{}:$LATEST", function.arn),
                "condition": "RetriesExhausted",
                "approximateInvokeCount": tries,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": "Error", "errorMessage": error},
        });
        aws_json_as(
            &self.recorder.endpoint,
            id,
            "sqs",
            "AmazonSQS.SendMessage",
            json!({"QueueUrl": queue, "MessageBody": record.to_string()}),
        )
        .await?;
        Ok(outcome)
    }

    /// Runs function `id`'s binary as an operator does from a terminal: `args`, the
    /// function's environment plus `extra`, and credentials of its own (`Operator`), so the
    /// function's recorded calls stay the function's. Returns (success, stdout, stderr).
    pub async fn operator_command(
        &self,
        id: &str,
        args: &[&str],
        extra: &[(&str, &str)],
    ) -> Result<(bool, String, String), String> {
        let function = self.function(id);
        let mut environment = function.environment.clone();
        environment.insert("AWS_ACCESS_KEY_ID".into(), "Operator".into());
        for (key, value) in extra {
            environment.insert((*key).to_owned(), (*value).to_owned());
        }
        let mut command = std::process::Command::new(&function.bootstrap);
        command.args(args).env_clear().envs(environment);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// The function a schedule or service token names by ARN.
    pub fn function_by_arn(&self, arn: &str) -> Option<&Arc<LambdaFunction>> {
        self.functions.values().find(|f| f.arn == arn)
    }

    pub fn function_url(&self, id: &str) -> &str {
        &self.function_urls[id].url
    }

    /// The address of `method path` (`POST /unipile/webhook`, `GET /accounts?x=1`) on the
    /// HTTP API whose route serves it, as a client calls it.
    pub fn api_url(&self, method: &str, path: &str) -> Result<String, String> {
        let route_path = path.split('?').next().unwrap_or_default();
        let route = self
            .routes
            .iter()
            .find(|route| route.serves(method, route_path))
            .ok_or_else(|| format!("no HTTP API of the stack routes {method} {route_path}"))?;
        Ok(format!(
            "{}{}",
            self.apis[&route.api].url,
            path.trim_start_matches('/')
        ))
    }

    /// The AWS actions each function called, by logical id.
    pub fn calls(&self) -> Calls {
        self.recorder.calls()
    }

    /// The secrets and keys each function named in its calls, by logical id.
    pub fn resources(&self) -> Resources {
        self.recorder.resources()
    }

    /// A resource's properties, resolved against the stack.
    pub fn properties(&self, id: &str) -> Result<Value, String> {
        let resource = self
            .template
            .section("Resources")
            .get(id)
            .ok_or_else(|| format!("no resource {id}"))?;
        self.stack.resolve(&resource["Properties"])
    }

    /// The actions a function's policies allow (inline statements; SAM policy templates and
    /// managed policies are refused, so nothing is granted unseen).
    pub fn granted_actions(&self, id: &str) -> Result<BTreeSet<String>, String> {
        Ok(self
            .grants(id)?
            .into_iter()
            .flat_map(|(actions, _)| actions)
            .collect())
    }

    /// The resources a function's policies allow `action` on.
    pub fn granted_resources(&self, id: &str, action: &str) -> Result<BTreeSet<String>, String> {
        Ok(self
            .grants(id)?
            .into_iter()
            .filter(|(actions, _)| actions.iter().any(|a| a == action))
            .flat_map(|(_, resources)| resources)
            .collect())
    }

    /// Each Allow statement of a function's policies.
    fn grants(&self, id: &str) -> Result<Vec<Grant>, String> {
        let properties = self.properties(id)?;
        let list = |value: &Value, what: &str| -> Result<Vec<String>, String> {
            match value {
                Value::String(one) => Ok(vec![one.clone()]),
                Value::Array(many) => Ok(many
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()),
                other => Err(format!("{id}: {what} {other}")),
            }
        };
        // The function's own role (`Role: !GetAtt XRole.Arn`), whose inline policies are
        // documents; or SAM's `Policies`, inline statements on a role SAM makes.
        let raw_role = &self.template.section("Resources")[id]["Properties"]["Role"];
        let documents: Vec<Value> = if raw_role.is_null() {
            properties["Policies"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        } else {
            let role = self
                .template
                .named_resource(raw_role)
                .ok_or_else(|| format!("{id}: Role is not a role of the stack: {raw_role}"))?;
            let role_properties = self.properties(role)?;
            if role_properties.get("ManagedPolicyArns").is_some() {
                return Err(format!(
                    "{id}: its role {role} has managed policies, unseen grants"
                ));
            }
            role_properties["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["PolicyDocument"].clone())
                .collect()
        };
        let mut grants = Vec::new();
        for policy in &documents {
            let statements = policy
                .get("Statement")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{id}: a policy that is not inline statements: {policy}"))?;
            for statement in statements {
                if statement["Effect"] != "Allow" {
                    continue;
                }
                grants.push((
                    list(&statement["Action"], "Action")?,
                    list(&statement["Resource"], "Resource")?,
                ));
            }
        }
        Ok(grants)
    }

    async fn create_custom_resources(&mut self) -> Result<(), String> {
        let customs: Vec<(String, Value)> = self
            .template
            .section("Resources")
            .iter()
            .filter(|(_, r)| {
                r["Type"].as_str().is_some_and(|t| {
                    t.starts_with("Custom::") || t == "AWS::CloudFormation::CustomResource"
                })
            })
            .map(|(id, r)| (id.clone(), r.clone()))
            .collect();
        for (id, resource) in customs {
            let properties = self.stack.resolve(&resource["Properties"])?;
            let answer = self
                .custom_resource_request("Create", &id, &resource, &properties, None, None)
                .await?;
            if answer["Status"] != "SUCCESS" {
                return Err(format!("custom resource {id} failed: {answer}"));
            }
            let physical = answer["PhysicalResourceId"]
                .as_str()
                .ok_or_else(|| format!("{id}: no PhysicalResourceId"))?
                .to_owned();
            self.stack.refs.insert(id.clone(), json!(physical));
            for (key, value) in answer["Data"].as_object().into_iter().flatten() {
                self.stack
                    .attributes
                    .insert((id.clone(), key.clone()), value.clone());
            }
            self.custom_resources.insert(id, physical);
        }
        Ok(())
    }

    /// Sends CloudFormation's request for a custom resource and returns the answer the
    /// function PUT to the response URL.
    pub async fn custom_resource_request(
        &self,
        request_type: &str,
        id: &str,
        resource: &Value,
        properties: &Value,
        physical_id: Option<&str>,
        old_properties: Option<&Value>,
    ) -> Result<Value, String> {
        let token = properties["ServiceToken"]
            .as_str()
            .ok_or_else(|| format!("{id}: no ServiceToken"))?;
        let function = self
            .function_by_arn(token)
            .ok_or_else(|| format!("{id}: ServiceToken {token} is no function of the stack"))?;
        let request_id = format!("{id}-{request_type}-{}", crate::world::unique("req"));
        let mut event = json!({
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": format!("{}{}", self.cloudformation.base_url, request_id),
            "StackId": format!("arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{}/rehearsal", self.stack.name),
            "RequestId": request_id,
            "LogicalResourceId": id,
            "ResourceType": resource["Type"],
            "ResourceProperties": properties,
        });
        if let Some(physical) = physical_id {
            event["PhysicalResourceId"] = json!(physical);
        }
        if let Some(old) = old_properties {
            event["OldResourceProperties"] = old.clone();
        }
        // CloudFormation invokes custom resources asynchronously; the answer is the PUT.
        let outcome = function.invoke(event).await;
        match self.cloudformation.answer(&request_id) {
            Some(answer) => Ok(answer),
            None => Err(format!(
                "{id}: {request_type} got no answer at the response URL (invocation: {outcome:?})"
            )),
        }
    }

    /// Deletes the stack's custom resources as `sam delete` would (the rest is moto's).
    pub async fn delete_custom_resources(&mut self) -> Result<(), String> {
        let ids: Vec<(String, String)> = self
            .custom_resources
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (id, physical) in ids {
            let resource = self.template.section("Resources")[&id].clone();
            let properties = self.stack.resolve(&resource["Properties"])?;
            let answer = self
                .custom_resource_request(
                    "Delete",
                    &id,
                    &resource,
                    &properties,
                    Some(&physical),
                    None,
                )
                .await?;
            if answer["Status"] != "SUCCESS" {
                return Err(format!("deleting {id} failed: {answer}"));
            }
            self.custom_resources.remove(&id);
        }
        Ok(())
    }

    /// Everything every function printed.
    pub fn all_output(&self) -> String {
        self.functions
            .values()
            .map(|f| f.output())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_grant_lost_or_added_alone_is_named() {
        let called = set(&["dynamodb:GetItem", "ses:SendEmail"]);
        let platform = set(&["iam:PassRole"]);
        assert!(
            policy_problems(
                "F",
                &called,
                &set(&["dynamodb:GetItem", "ses:SendEmail", "iam:PassRole"]),
                &platform
            )
            .is_empty()
        );
        let lost = policy_problems(
            "F",
            &called,
            &set(&["dynamodb:GetItem", "iam:PassRole"]),
            &platform,
        );
        assert_eq!(
            lost,
            ["F calls ses:SendEmail, which its policy does not grant"]
        );
        let added = policy_problems(
            "F",
            &called,
            &set(&[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "ses:SendEmail",
                "iam:PassRole",
            ]),
            &platform,
        );
        assert_eq!(
            added,
            ["F is granted dynamodb:PutItem, which it never called"]
        );
        let no_pass = policy_problems("F", &called, &called, &platform);
        assert_eq!(no_pass, ["F needs iam:PassRole for AWS to act for it"]);
    }
}

/// The routes of the stack's HTTP APIs: every `HttpApi` event of every function the stack
/// creates, on the API its `ApiId` names. An event without one would go to SAM's implicit
/// API, which the rehearsal refuses rather than serve unseen.
pub fn api_routes(template: &Template, stack: &Stack) -> Result<Vec<Route>, String> {
    let resources = template.section("Resources");
    let mut routes = Vec::new();
    for (id, resource) in template.resources_of("AWS::Serverless::Function") {
        if !template.is_created(stack, id)? {
            continue;
        }
        for (name, event) in resource["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if event["Type"] != "HttpApi" {
                continue;
            }
            let api = template
                .named_resource(&event["Properties"]["ApiId"])
                .filter(|api| resources[*api]["Type"] == "AWS::Serverless::HttpApi")
                .ok_or_else(|| {
                    format!("{id}: event {name} names no AWS::Serverless::HttpApi of the stack")
                })?;
            let properties = stack.resolve(&event["Properties"])?;
            let default_authorizer =
                stack.resolve(&resources[api]["Properties"]["Auth"]["DefaultAuthorizer"])?;
            let authorizer = match properties["Auth"]["Authorizer"].as_str() {
                Some("NONE") => None,
                Some(named) => Some(named.to_owned()),
                None => default_authorizer.as_str().map(str::to_owned),
            };
            let jwt = authorizer.is_some();
            let scopes = properties["Auth"]["AuthorizationScopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            routes.push(Route {
                api: api.to_owned(),
                method: properties["Method"]
                    .as_str()
                    .ok_or_else(|| format!("{id}: event {name} without Method"))?
                    .to_uppercase(),
                path: properties["Path"]
                    .as_str()
                    .ok_or_else(|| format!("{id}: event {name} without Path"))?
                    .to_owned(),
                function: id.to_owned(),
                jwt,
                authorizer,
                scopes,
                properties,
            });
        }
    }
    Ok(routes)
}

/// Creates in moto every resource the template declares, from its own properties, and
/// records what `Ref` and `Fn::GetAtt` give for each. A resource type the rehearsal does not
/// know is an error: nothing is deployed unseen.
async fn create_resources(
    template: &Template,
    stack: &mut Stack,
    moto: &str,
) -> Result<(), String> {
    let resources: Vec<(String, Value)> = template
        .section("Resources")
        .iter()
        .map(|(id, r)| (id.clone(), r.clone()))
        .collect();
    // Each pass creates what it can resolve; a resource naming another waits for it.
    let mut waiting = resources;
    while !waiting.is_empty() {
        let mut left = Vec::new();
        let mut last_error = String::new();
        for (id, resource) in waiting.iter().cloned() {
            match create_resource(stack, moto, &id, &resource).await {
                Ok(()) => {}
                Err(error) if error.starts_with("unresolved") => {
                    last_error = format!("{id}: {error}");
                    left.push((id, resource));
                }
                Err(error) => return Err(format!("{id}: {error}")),
            }
        }
        if left.len() == waiting.len() {
            return Err(format!("resources that cannot be resolved: {last_error}"));
        }
        waiting = left;
    }
    Ok(())
}

/// A scalar property as the text an AWS query API takes.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

async fn create_resource(
    stack: &mut Stack,
    moto: &str,
    id: &str,
    resource: &Value,
) -> Result<(), String> {
    let kind = resource["Type"].as_str().unwrap_or_default();
    // A resource whose condition is false is not created, as in CloudFormation.
    if !template::resource_is_created(stack, resource)? {
        return Ok(());
    }
    let account = &stack.account;
    let attr = |stack: &mut Stack, name: &str, value: Value| {
        stack
            .attributes
            .insert((id.to_owned(), name.to_owned()), value);
    };
    match kind {
        "AWS::Serverless::Function" => {
            let properties = stack
                .resolve(&json!({"FunctionName": resource["Properties"].get("FunctionName")}))?;
            let name = properties["FunctionName"]
                .as_str()
                .map_or_else(|| format!("{}-{id}", stack.name), str::to_owned);
            let arn = format!("arn:aws:lambda:{REGION}:{account}:function:{name}");
            stack.refs.insert(id.to_owned(), json!(name));
            attr(stack, "Arn", json!(arn));
        }
        // Served by the rehearsal itself (front doors); checked for what they name.
        "AWS::Serverless::HttpApi" | "AWS::Lambda::Url" => {
            stack.resolve(&resource["Properties"])?;
        }
        kind if kind.starts_with("Custom::") => {}
        "AWS::DynamoDB::Table" => {
            let p = stack.resolve(&resource["Properties"])?;
            let name = p["TableName"]
                .as_str()
                .map_or_else(|| format!("{}-{id}", stack.name), str::to_owned);
            let mut request = json!({"TableName": name});
            for key in [
                "AttributeDefinitions",
                "KeySchema",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "BillingMode",
                "ProvisionedThroughput",
                "StreamSpecification",
            ] {
                if let Some(value) = p.get(key) {
                    request[key] = value.clone();
                }
            }
            let created =
                aws_json(moto, "dynamodb", "DynamoDB_20120810.CreateTable", request).await?;
            if let Some(ttl) = p.get("TimeToLiveSpecification") {
                aws_json(
                    moto,
                    "dynamodb",
                    "DynamoDB_20120810.UpdateTimeToLive",
                    json!({"TableName": name, "TimeToLiveSpecification": {
                        "AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]}}),
                )
                .await?;
            }
            stack.refs.insert(id.to_owned(), json!(name));
            attr(
                stack,
                "Arn",
                created["TableDescription"]["TableArn"].clone(),
            );
        }
        "AWS::KMS::Key" => {
            let p = stack.resolve(&resource["Properties"])?;
            // KeySpec and KeyUsage as the template gives them (an HMAC key for digests).
            let mut request =
                json!({"Description": p.get("Description").cloned().unwrap_or(json!(""))});
            for property in ["KeySpec", "KeyUsage"] {
                if let Some(value) = p.get(property) {
                    request[property] = value.clone();
                }
            }
            let created = aws_json(moto, "kms", "TrentService.CreateKey", request).await?;
            let meta = &created["KeyMetadata"];
            stack.refs.insert(id.to_owned(), meta["KeyId"].clone());
            attr(stack, "Arn", meta["Arn"].clone());
            attr(stack, "KeyId", meta["KeyId"].clone());
        }
        "AWS::SQS::Queue" => {
            let p = stack.resolve(&resource["Properties"])?;
            let name = p["QueueName"]
                .as_str()
                .map_or_else(|| format!("{}-{id}", stack.name), str::to_owned);
            // The attributes that change how messages come and go, as the template sets them
            // (a redrive policy's JSON as SQS takes it: a string).
            let mut attributes = serde_json::Map::new();
            for key in [
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "RedrivePolicy",
            ] {
                match p.get(key) {
                    Some(Value::String(text)) => {
                        attributes.insert(key.into(), json!(text));
                    }
                    Some(Value::Object(policy)) => {
                        attributes
                            .insert(key.into(), json!(Value::Object(policy.clone()).to_string()));
                    }
                    Some(other) if !other.is_null() => {
                        attributes.insert(key.into(), json!(scalar(other)));
                    }
                    _ => {}
                }
            }
            let created = aws_json(
                moto,
                "sqs",
                "AmazonSQS.CreateQueue",
                json!({"QueueName": name, "Attributes": attributes}),
            )
            .await?;
            stack
                .refs
                .insert(id.to_owned(), created["QueueUrl"].clone());
            attr(
                stack,
                "Arn",
                json!(format!("arn:aws:sqs:{REGION}:{account}:{name}")),
            );
            attr(stack, "QueueName", json!(name));
        }
        "AWS::Events::EventBus" => {
            let p = stack.resolve(&resource["Properties"])?;
            let name = p["Name"]
                .as_str()
                .map_or_else(|| format!("{}-{id}", stack.name), str::to_owned);
            let created = aws_json(
                moto,
                "events",
                "AWSEvents.CreateEventBus",
                json!({"Name": name}),
            )
            .await?;
            stack.refs.insert(id.to_owned(), json!(name));
            attr(stack, "Arn", created["EventBusArn"].clone());
            attr(stack, "Name", json!(name));
        }
        // A rule on a bus of the stack, with its targets, as EventBridge runs it (moto
        // delivers to SQS targets as events are put).
        "AWS::Events::Rule" => {
            let p = stack.resolve(&resource["Properties"])?;
            let name = p["Name"]
                .as_str()
                .map_or_else(|| format!("{}-{id}", stack.name), str::to_owned);
            let bus = p["EventBusName"].as_str().unwrap_or("default").to_owned();
            let created = aws_json(
                moto,
                "events",
                "AWSEvents.PutRule",
                json!({"Name": name, "EventBusName": bus,
                       "EventPattern": p["EventPattern"].to_string(),
                       "State": "ENABLED"}),
            )
            .await?;
            let targets: Vec<Value> = p["Targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| json!({"Id": t["Id"], "Arn": t["Arn"]}))
                .collect();
            aws_json(
                moto,
                "events",
                "AWSEvents.PutTargets",
                json!({"Rule": name, "EventBusName": bus, "Targets": targets}),
            )
            .await?;
            stack.refs.insert(id.to_owned(), json!(name));
            attr(stack, "Arn", created["RuleArn"].clone());
        }
        "AWS::Scheduler::ScheduleGroup" => {
            let p = stack.resolve(&resource["Properties"])?;
            let name = p["Name"]
                .as_str()
                .map_or_else(|| format!("{}-{id}", stack.name), str::to_owned);
            let created = aws_rest(
                moto,
                "scheduler",
                "POST",
                &format!("/schedule-groups/{name}"),
                json!({}),
            )
            .await?;
            stack.refs.insert(id.to_owned(), json!(name));
            attr(stack, "Arn", created["ScheduleGroupArn"].clone());
        }
        "AWS::IAM::Role" => {
            // Resolving the role checks that everything its policies name exists.
            stack.resolve(&resource["Properties"])?;
            let name = format!("{}-{id}", stack.name);
            stack.refs.insert(id.to_owned(), json!(name));
            attr(
                stack,
                "Arn",
                json!(format!("arn:aws:iam::{account}:role/{name}")),
            );
        }
        "AWS::Logs::LogGroup" => {
            let p = stack.resolve(&resource["Properties"])?;
            let name = p["LogGroupName"]
                .as_str()
                .map_or_else(|| format!("{}-{id}", stack.name), str::to_owned);
            stack.refs.insert(id.to_owned(), json!(name));
            attr(
                stack,
                "Arn",
                json!(format!(
                    "arn:aws:logs:{REGION}:{account}:log-group:{name}:*"
                )),
            );
        }
        // Checked for what they name; nothing on this machine runs them.
        "AWS::SQS::QueuePolicy"
        | "AWS::CloudWatch::Alarm"
        | "AWS::CloudWatch::Dashboard"
        | "AWS::SNS::Subscription"
        | "AWS::SNS::TopicPolicy"
        | "AWS::Lambda::Permission" => {
            stack.resolve(&resource["Properties"])?;
        }
        "AWS::SNS::Topic" => {
            stack.resolve(&resource["Properties"])?;
            let name = format!("{}-{id}", stack.name);
            stack.refs.insert(
                id.to_owned(),
                json!(format!("arn:aws:sns:{REGION}:{account}:{name}")),
            );
            attr(stack, "TopicName", json!(name));
        }
        other => {
            return Err(format!(
                "the rehearsal does not know resources of type {other}"
            ));
        }
    }
    Ok(())
}

async fn start_function(
    template: &Template,
    stack: &Stack,
    id: &str,
    build_dir: &Path,
    recorder: &Recorder,
    log_dir: &Path,
) -> Result<LambdaFunction, String> {
    let globals = stack.resolve(&template.root["Globals"]["Function"])?;
    let resource = &template.section("Resources")[id];
    let properties = stack.resolve(&resource["Properties"])?;
    let setting = |name: &str| properties.get(name).or_else(|| globals.get(name)).cloned();
    let mut environment = HashMap::new();
    for source in [&globals, &properties] {
        for (key, value) in source["Environment"]["Variables"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => return Err(format!("{id}: environment {key} = {other}")),
            };
            environment.insert(key.clone(), text);
        }
    }
    // What Lambda adds: region and the role's credentials (each function signs with its own
    // key id so the recorder knows who called), and, only here, the emulator's endpoint.
    let added = [
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", id.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "rehearsal-secret".to_owned()),
        ("AWS_SESSION_TOKEN", "rehearsal-session".to_owned()),
        ("AWS_ENDPOINT_URL", recorder.endpoint.clone()),
    ];
    for (key, value) in added {
        environment.insert(key.to_owned(), value);
    }
    let code_uri = properties["CodeUri"]
        .as_str()
        .ok_or_else(|| format!("{id}: no CodeUri in the built template"))?;
    let bootstrap = build_dir.join(code_uri).join("bootstrap");
    if !bootstrap.is_file() {
        return Err(format!("{id}: {} was not built", bootstrap.display()));
    }
    let timeout = setting("Timeout").and_then(|v| v.as_u64()).unwrap_or(3);
    let memory = setting("MemorySize")
        .and_then(|v| v.as_u64())
        .unwrap_or(128);
    let name = stack.refs[id].as_str().unwrap_or(id).to_owned();
    let log_group = properties["LoggingConfig"]["LogGroup"]
        .as_str()
        .map_or_else(|| format!("/aws/lambda/{name}"), str::to_owned);
    let arn = stack.attributes[&(id.to_owned(), "Arn".to_owned())]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    LambdaFunction::start(Launch {
        logical_id: id,
        name: &name,
        arn: &arn,
        bootstrap: &bootstrap,
        log_group: &log_group,
        timeout: Duration::from_secs(timeout),
        memory_mb: memory,
        environment,
        log_dir,
    })
    .await
}

async fn serve(router: axum::Router) -> Result<(String, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, server))
}

/// The response URLs CloudFormation gives custom resources: what each request was answered.
#[derive(Clone, Default)]
struct CloudFormationAnswers {
    base_url: String,
    answers: Arc<Mutex<HashMap<String, Value>>>,
}

impl CloudFormationAnswers {
    fn router(&self) -> axum::Router {
        let answers = self.answers.clone();
        axum::Router::new().fallback(
            move |method: axum::http::Method, uri: axum::http::Uri, body: axum::body::Bytes| {
                let answers = answers.clone();
                async move {
                    if method != axum::http::Method::PUT {
                        return axum::http::StatusCode::METHOD_NOT_ALLOWED;
                    }
                    let Ok(answer) = serde_json::from_slice::<Value>(&body) else {
                        return axum::http::StatusCode::BAD_REQUEST;
                    };
                    if let Ok(mut answers) = answers.lock() {
                        answers.insert(uri.path().trim_start_matches('/').to_owned(), answer);
                    }
                    axum::http::StatusCode::OK
                }
            },
        )
    }

    fn answer(&self, request_id: &str) -> Option<Value> {
        self.answers.lock().ok()?.get(request_id).cloned()
    }
}
