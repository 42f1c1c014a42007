//! What AWS enforces and moto does not, read off the template itself: a green rehearsal on
//! moto cannot show that CloudWatch may publish an alarm to an encrypted topic, or that a
//! public door is throttled. Each check reads the template through a symbolic
//! [`Stack`] (parameters and conditions evaluated, resources standing as `ref:<id>` and
//! `getatt:<id>.<attribute>`) and names every problem it finds.

use crate::rehearsal::template::{Stack, Template};
use serde_json::Value;
use std::collections::BTreeMap;

/// The service principal CloudWatch publishes alarm notifications as.
pub const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

/// The most an HTTP API waits for a Lambda integration, and its default.
pub const HTTP_API_MAX_TIMEOUT_MS: f64 = 30_000.0;

/// The items of a value that may be one item or a list of them.
fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(list) => list.iter().collect(),
        one => vec![one],
    }
}

fn texts(value: &Value) -> Vec<String> {
    items(value)
        .into_iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// IAM's wildcard match (`*` any run, `?` one character), case-insensitive as action names
/// are.
fn wildcard(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// The logical id a symbolic `ref:<id>` or `getatt:<id>.<attribute>...` names, with what
/// follows it (the attribute and anything after).
fn named_resource(text: &str) -> Option<(&str, &str)> {
    if let Some(id) = text.strip_prefix("ref:") {
        return Some((id, ""));
    }
    text.strip_prefix("getatt:")
        .and_then(|rest| rest.split_once('.'))
}

fn resource_type<'a>(template: &'a Template, id: &str) -> Option<&'a str> {
    template.section("Resources").get(id)?["Type"].as_str()
}

/// Whether a statement names `service` as its principal.
fn names_service(statement: &Value, service: &str) -> bool {
    let principal = &statement["Principal"];
    principal == "*"
        || principal["AWS"] == "*"
        || texts(&principal["Service"]).iter().any(|s| s == service)
}

fn covers_action(statement: &Value, action: &str) -> bool {
    texts(&statement["Action"])
        .iter()
        .any(|pattern| wildcard(pattern, action))
}

/// What a statement's `Condition` does to a request of `service` made for this account's
/// alarms: whether it holds the statement to this account, and each condition the request
/// might not meet.
fn account_conditions(condition: &Value, stack: &Stack) -> (bool, Vec<String>) {
    let mut to_this_account = false;
    let mut problems = Vec::new();
    let alarms = format!(
        "arn:aws:cloudwatch:{}:{}:alarm:",
        stack.region, stack.account
    );
    for (operator, tests) in condition.as_object().into_iter().flatten() {
        for (key, value) in tests.as_object().into_iter().flatten() {
            let values = texts(value);
            let key_lower = key.to_ascii_lowercase();
            let fits = match (operator.as_str(), key_lower.as_str()) {
                ("StringEquals" | "StringLike", "aws:sourceaccount") => {
                    !values.is_empty() && values.iter().all(|v| *v == stack.account)
                }
                ("ArnLike" | "ArnEquals" | "StringLike" | "StringEquals", "aws:sourcearn") => {
                    !values.is_empty() && values.iter().all(|v| v.starts_with(&alarms))
                }
                _ => {
                    problems.push(format!(
                        "a condition {operator} {key} that CloudWatch's requests may not meet"
                    ));
                    continue;
                }
            };
            if fits {
                to_this_account = true;
            } else {
                problems.push(format!(
                    "{operator} {key} {values:?} is not this account's alarms"
                ));
            }
        }
    }
    (to_this_account, problems)
}

/// What stands between CloudWatch and `action` on a resource under `policy`: no Allow
/// statement for it (or only one whose conditions it may not meet), a Deny, or an Allow
/// for alarms of any account.
fn policy_problems(
    policy: &Value,
    stack: &Stack,
    action: &str,
    resource_matches: impl Fn(&Value) -> bool,
    whose: &str,
) -> Vec<String> {
    let statements = items(&policy["Statement"]);
    let mut problems = Vec::new();
    let mut admitted = false;
    let mut unrestricted = false;
    for statement in &statements {
        if !names_service(statement, CLOUDWATCH) || !covers_action(statement, action) {
            continue;
        }
        match statement["Effect"].as_str() {
            Some("Deny") => problems.push(format!(
                "{whose} denies {CLOUDWATCH} {action} (statement {})",
                statement["Sid"].as_str().unwrap_or("without Sid")
            )),
            Some("Allow") if resource_matches(&statement["Resource"]) => {
                let (to_this_account, unmet) = account_conditions(&statement["Condition"], stack);
                if unmet.is_empty() {
                    admitted = true;
                    unrestricted |= !to_this_account;
                } else {
                    problems.extend(
                        unmet
                            .into_iter()
                            .map(|p| format!("{whose} lets {CLOUDWATCH} {action} only with {p}")),
                    );
                }
            }
            _ => {}
        }
    }
    if !admitted {
        problems.push(format!("{whose} does not let {CLOUDWATCH} {action}"));
    } else if unrestricted {
        problems.push(format!(
            "{whose} lets {CLOUDWATCH} {action} for alarms of any account: hold it to this \
             one (aws:SourceAccount, aws:SourceArn)"
        ));
    }
    problems
}

/// Why CloudWatch could not publish to `topic`, a topic of the stack.
fn topic_problems(template: &Template, stack: &Stack, topic: &str) -> Vec<String> {
    let resources = template.section("Resources");
    let properties = match stack.resolve(&resources[topic]["Properties"]) {
        Ok(properties) => properties,
        Err(error) => return vec![format!("its properties do not resolve: {error}")],
    };
    let mut problems = Vec::new();
    // Unencrypted, no key stands in the way; encrypted, the key's policy must let CloudWatch
    // make and read the message's data key.
    if let Some(key) = properties.get("KmsMasterKeyId") {
        let key = key.as_str().unwrap_or_default();
        match named_resource(key) {
            _ if key.starts_with("alias/aws/") || key.contains(":alias/aws/") => {
                problems.push(format!(
                    "it is encrypted with the AWS managed key {key}, whose key policy cannot \
                     admit {CLOUDWATCH}: every alarm action to it fails"
                ));
            }
            Some((id, _)) if resource_type(template, id) == Some("AWS::KMS::Key") => {
                problems.extend(key_problems(stack, id, &resources[id]));
            }
            _ => problems.push(format!(
                "it is encrypted with {key}, a key outside the stack whose policy cannot be read"
            )),
        }
    }
    let this_topic = format!("ref:{topic}");
    let policies: Vec<Value> = template
        .resources_of("AWS::SNS::TopicPolicy")
        .into_iter()
        .filter(|(id, _)| template.is_created(stack, id))
        .filter_map(|(_, policy)| stack.resolve(&policy["Properties"]).ok())
        .filter(|properties| texts(&properties["Topics"]).contains(&this_topic))
        .collect();
    if policies.is_empty() {
        problems.push(format!(
            "no topic policy of the stack says that {CLOUDWATCH} may publish to it"
        ));
    }
    for (n, properties) in policies.iter().enumerate() {
        problems.extend(policy_problems(
            &properties["PolicyDocument"],
            stack,
            "sns:Publish",
            |resource| texts(resource).iter().any(|r| *r == this_topic || r == "*"),
            &format!("topic policy {}", n + 1),
        ));
    }
    problems
}

/// Why the key `id` would refuse CloudWatch the data keys of the messages it publishes.
fn key_problems(stack: &Stack, id: &str, key: &Value) -> Vec<String> {
    let properties = match stack.resolve(&key["Properties"]) {
        Ok(properties) => properties,
        Err(error) => return vec![format!("key {id} does not resolve: {error}")],
    };
    let mut problems = Vec::new();
    if properties["Enabled"] == false {
        problems.push(format!("key {id} is disabled"));
    }
    // SNS encrypts with symmetric encryption keys only.
    if properties
        .get("KeySpec")
        .is_some_and(|spec| spec != "SYMMETRIC_DEFAULT")
        || properties
            .get("KeyUsage")
            .is_some_and(|usage| usage != "ENCRYPT_DECRYPT")
    {
        problems.push(format!("key {id} is not a symmetric encryption key"));
    }
    for action in ["kms:Decrypt", "kms:GenerateDataKey"] {
        problems.extend(policy_problems(
            &properties["KeyPolicy"],
            stack,
            action,
            |resource| texts(resource).iter().any(|r| r == "*"),
            &format!("key {id}'s policy"),
        ));
    }
    problems
}

/// Every alarm's actions, checked: each must be a topic of the stack that CloudWatch may
/// publish to (its key, when encrypted, a customer managed key whose policy admits
/// CloudWatch for Decrypt and GenerateDataKey; a topic policy that lets CloudWatch publish),
/// and every alarm must tell someone. Problems are grouped by topic.
pub fn alarm_delivery_problems(template: &Template, stack: &Stack) -> Vec<String> {
    let mut problems = Vec::new();
    // Topic → the alarms that tell it.
    let mut topics: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let alarms = template.resources_of("AWS::CloudWatch::Alarm");
    if alarms.is_empty() {
        problems.push("the template has no alarm".to_owned());
    }
    for (id, alarm) in alarms {
        let properties = match stack.resolve(&alarm["Properties"]) {
            Ok(properties) => properties,
            Err(error) => {
                problems.push(format!("{id}: its properties do not resolve: {error}"));
                continue;
            }
        };
        let mut actions = 0;
        for key in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
            for action in texts(&properties[key]) {
                actions += 1;
                match named_resource(&action) {
                    Some((topic, ""))
                        if resource_type(template, topic) == Some("AWS::SNS::Topic") =>
                    {
                        let alarms = topics.entry(topic.to_owned()).or_default();
                        if !alarms.iter().any(|a| a == id) {
                            alarms.push(id.to_owned());
                        }
                    }
                    _ => problems.push(format!(
                        "{id}: {key} {action} is no topic of the stack: whether CloudWatch may \
                         publish to it cannot be told"
                    )),
                }
            }
        }
        if actions == 0 {
            problems.push(format!("{id} tells nobody: it has no alarm action"));
        }
    }
    for (topic, alarms) in topics {
        for problem in topic_problems(template, stack, &topic) {
            problems.push(format!(
                "{topic} (told by {} alarms: {}): {problem}",
                alarms.len(),
                alarms.join(", ")
            ));
        }
    }
    problems
}

/// A route of an HTTP API, as a function's `HttpApi` event declares it.
struct ApiRoute {
    api: String,
    method: String,
    path: String,
    function: String,
    properties: Value,
}

fn api_routes(template: &Template, stack: &Stack) -> Vec<ApiRoute> {
    let mut routes = Vec::new();
    for (id, function) in template.resources_of("AWS::Serverless::Function") {
        for (_, event) in function["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if event["Type"] != "HttpApi" {
                continue;
            }
            let Ok(properties) = stack.resolve(&event["Properties"]) else {
                continue;
            };
            routes.push(ApiRoute {
                api: properties["ApiId"]
                    .as_str()
                    .and_then(named_resource)
                    .map(|(api, _)| api.to_owned())
                    .unwrap_or_default(),
                method: properties["Method"]
                    .as_str()
                    .unwrap_or_default()
                    .to_uppercase(),
                path: properties["Path"].as_str().unwrap_or_default().to_owned(),
                function: id.to_owned(),
                properties,
            });
        }
    }
    routes
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A function's setting, its own or the template's `Globals`.
fn function_setting(template: &Template, stack: &Stack, function: &str, name: &str) -> Value {
    let own = &template.section("Resources")[function]["Properties"][name];
    let value = if own.is_null() {
        &template.root["Globals"]["Function"][name]
    } else {
        own
    };
    stack.resolve(value).unwrap_or(Value::Null)
}

/// Whether `function`'s reserved concurrency bounds it.
fn is_reserved(template: &Template, stack: &Stack, function: &str) -> bool {
    number(&function_setting(
        template,
        stack,
        function,
        "ReservedConcurrentExecutions",
    ))
    .is_some_and(|n| n > 0.0)
}

/// Where a request to `url` lands, and what would let a flood of them through.
fn entry_problems(template: &Template, stack: &Stack, what: &str, url: &str) -> Vec<String> {
    let Some((door, attribute)) = named_resource(url) else {
        return vec![format!(
            "{what} goes to {url}, which is neither a route of the stack's HTTP API nor a \
             function URL of the stack"
        )];
    };
    if let Some(path) = attribute.strip_prefix("ApiEndpoint") {
        let path = path.split('?').next().unwrap_or_default();
        return route_problems(template, stack, what, door, path);
    }
    if attribute.starts_with("FunctionUrl") {
        return match url_function(template, stack, door) {
            Some(function) if is_reserved(template, stack, &function) => Vec::new(),
            Some(function) => vec![format!(
                "{what} reaches {function} through a public function URL ({door}), which \
                 nothing throttles: every request costs an invocation"
            )],
            None => vec![format!(
                "{what} goes to {door}, a function URL this stack does not create"
            )],
        };
    }
    vec![format!("{what} goes to {url}: no door of the stack")]
}

/// The function behind the function URL `door`: an `AWS::Lambda::Url` the stack creates,
/// or the one SAM makes (`<function>Url`) for a function's `FunctionUrlConfig`.
fn url_function(template: &Template, stack: &Stack, door: &str) -> Option<String> {
    if resource_type(template, door) == Some("AWS::Lambda::Url") {
        if !template.is_created(stack, door) {
            return None;
        }
        let properties = stack
            .resolve(&template.section("Resources")[door]["Properties"])
            .ok()?;
        let target = properties["TargetFunctionArn"].as_str()?;
        return named_resource(target).map(|(function, _)| function.to_owned());
    }
    let function = door.strip_suffix("Url")?;
    let resource = template.section("Resources").get(function)?;
    resource["Properties"]
        .get("FunctionUrlConfig")
        .map(|_| function.to_owned())
}

fn route_problems(
    template: &Template,
    stack: &Stack,
    what: &str,
    api: &str,
    path: &str,
) -> Vec<String> {
    let routes = api_routes(template, stack);
    let Some(route) = routes
        .iter()
        .find(|r| r.api == api && r.method == "POST" && r.path == path)
    else {
        return vec![format!(
            "{what} goes to POST {path}, which is no route of {api}"
        )];
    };
    let mut problems = Vec::new();
    let name = format!("{what} (POST {path} on {api}, to {})", route.function);
    if route.properties["Auth"]["Authorizer"] != "NONE" {
        problems.push(format!(
            "{name} takes the API's JWT authorizer: Unipile sends no token, every call would \
             be refused"
        ));
    }
    // The route's own settings: the event's, or the API's for this route key.
    let api_settings = stack
        .resolve(&template.section("Resources")[api]["Properties"]["RouteSettings"])
        .unwrap_or(Value::Null);
    let own = &route.properties["RouteSettings"];
    let settings = if own.is_null() {
        &api_settings[format!("POST {path}")]
    } else {
        own
    };
    for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
        if !number(&settings[limit]).is_some_and(|n| n > 0.0) {
            problems.push(format!(
                "{name} has no {limit} of its own: the route is not throttled for Unipile"
            ));
        }
    }
    let api_timeout =
        number(&route.properties["TimeoutInMillis"]).unwrap_or(HTTP_API_MAX_TIMEOUT_MS);
    if api_timeout > HTTP_API_MAX_TIMEOUT_MS {
        problems.push(format!(
            "{name} waits {api_timeout} ms: an HTTP API waits at most 30,000 ms"
        ));
    }
    let function_timeout_ms = number(&function_setting(
        template,
        stack,
        &route.function,
        "Timeout",
    ))
    .unwrap_or(3.0)
        * 1000.0;
    if function_timeout_ms >= api_timeout {
        problems.push(format!(
            "{name}: the API gives up after {api_timeout} ms, before the function's own \
             timeout ({function_timeout_ms} ms)"
        ));
    }
    problems
}

/// Unipile's two calls, checked where they land: the `notify_url` (each function's
/// `PUBLIC_BASE_URL` + `/unipile/notify`) and the webhook the stack registers (each
/// `Custom::UnipileWebhook`'s `RequestUrl`) must reach their functions through routes of the
/// stack's HTTP API that take no JWT, are throttled by their own settings and wait longer
/// than the function runs, or through a function URL only where reserved concurrency
/// bounds the function. No other public function URL may be open unbounded.
pub fn unipile_entry_problems(template: &Template, stack: &Stack) -> Vec<String> {
    let resources = template.section("Resources");
    let mut entries = Vec::new();
    for (id, function) in template.resources_of("AWS::Serverless::Function") {
        let variables = stack
            .resolve(&function["Properties"]["Environment"]["Variables"])
            .unwrap_or(Value::Null);
        if let Some(base) = variables["PUBLIC_BASE_URL"].as_str() {
            entries.push((
                format!("Unipile's notify_url call (PUBLIC_BASE_URL of {id})"),
                format!("{}/unipile/notify", base.trim_end_matches('/')),
            ));
        }
    }
    for (id, _) in template.resources_of("Custom::UnipileWebhook") {
        if !template.is_created(stack, id) {
            continue;
        }
        let url = stack
            .resolve(&resources[id]["Properties"]["RequestUrl"])
            .ok()
            .and_then(|u| u.as_str().map(str::to_owned))
            .unwrap_or_default();
        entries.push((format!("Unipile's account_status webhook ({id})"), url));
    }
    let mut problems = Vec::new();
    if entries.len() < 2 {
        problems.push(format!(
            "expected Unipile's notify_url and its webhook among the stack's settings, found \
             {entries:?}"
        ));
    }
    for (what, url) in &entries {
        problems.extend(entry_problems(template, stack, what, url));
    }
    // Any other public door that nothing throttles.
    for (id, function) in template.resources_of("AWS::Serverless::Function") {
        let config = stack
            .resolve(&function["Properties"]["FunctionUrlConfig"])
            .unwrap_or(Value::Null);
        if config["AuthType"] == "NONE" && !is_reserved(template, stack, id) {
            problems.push(format!(
                "{id} has a public function URL (FunctionUrlConfig) that nothing throttles"
            ));
        }
    }
    for (id, url) in template.resources_of("AWS::Lambda::Url") {
        if !template.is_created(stack, id) {
            continue;
        }
        let properties = stack.resolve(&url["Properties"]).unwrap_or(Value::Null);
        if properties["AuthType"] != "NONE" {
            continue;
        }
        match url_function(template, stack, id) {
            Some(function) if is_reserved(template, stack, &function) => {}
            Some(function) => problems.push(format!(
                "{id} is a public function URL of {function} that nothing throttles"
            )),
            None => problems.push(format!("{id} is a public function URL of no function")),
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack_of(yaml: &str) -> (Template, Stack) {
        let template = Template::parse(yaml).expect("parses");
        let stack = template.symbolic_stack(&[]).expect("evaluates");
        (template, stack)
    }

    const ALARM: &str = "
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmActions: [!Ref Topic]
";

    const TOPIC_POLICY: &str = "
  TopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: cloudwatch.amazonaws.com }
            Action: sns:Publish
            Resource: !Ref Topic
            Condition:
              StringEquals: { aws:SourceAccount: !Ref AWS::AccountId }
              ArnLike: { aws:SourceArn: !Sub 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*' }
";

    fn key(cloudwatch: &str) -> String {
        format!(
            "
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {{ AWS: !Sub 'arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root' }}
            Action: kms:*
            Resource: '*'
{cloudwatch}"
        )
    }

    const CLOUDWATCH_USES_KEY: &str = "          - Effect: Allow
            Principal: { Service: cloudwatch.amazonaws.com }
            Action: [kms:Decrypt, kms:GenerateDataKey*]
            Resource: '*'
            Condition:
              StringEquals: { aws:SourceAccount: !Ref AWS::AccountId }
";

    #[test]
    fn an_alarm_topic_under_a_key_that_admits_cloudwatch_can_be_published_to() {
        let (template, stack) = stack_of(&format!(
            "Resources:{ALARM}{TOPIC_POLICY}{}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{ KmsMasterKeyId: !Ref Key }}
",
            key(CLOUDWATCH_USES_KEY)
        ));
        assert_eq!(
            alarm_delivery_problems(&template, &stack),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_aws_managed_sns_key_a_missing_topic_policy_or_key_grant_are_each_named() {
        let (template, stack) = stack_of(&format!(
            "Resources:{ALARM}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{ KmsMasterKeyId: alias/aws/sns }}
"
        ));
        let problems = alarm_delivery_problems(&template, &stack).join("\n");
        assert!(
            problems.contains("AWS managed key alias/aws/sns"),
            "{problems}"
        );
        assert!(problems.contains("no topic policy"), "{problems}");

        let only_decrypt = CLOUDWATCH_USES_KEY.replace("kms:GenerateDataKey*", "kms:Encrypt");
        let (template, stack) = stack_of(&format!(
            "Resources:{ALARM}{TOPIC_POLICY}{}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{ KmsMasterKeyId: !GetAtt Key.Arn }}
",
            key(&only_decrypt)
        ));
        let problems = alarm_delivery_problems(&template, &stack);
        assert_eq!(
            problems,
            [
                "Topic (told by 1 alarms: Alarm): key Key's policy does not let \
              cloudwatch.amazonaws.com kms:GenerateDataKey"
            ]
        );
    }

    #[test]
    fn a_grant_for_any_account_or_another_one_is_named() {
        let any_account = CLOUDWATCH_USES_KEY
            .lines()
            .take(4)
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let other_account = CLOUDWATCH_USES_KEY.replace("!Ref AWS::AccountId", "'999999999999'");
        for (grant, expected) in [
            (any_account, "for alarms of any account"),
            (other_account, "is not this account's alarms"),
        ] {
            let (template, stack) = stack_of(&format!(
                "Resources:{ALARM}{TOPIC_POLICY}{}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{ KmsMasterKeyId: !Ref Key }}
",
                key(&grant)
            ));
            let problems = alarm_delivery_problems(&template, &stack).join("\n");
            assert!(problems.contains(expected), "{problems}");
        }
    }

    const API: &str = "
  Api:
    Type: AWS::Serverless::HttpApi
";

    fn callback(event: &str, extra: &str) -> String {
        format!(
            "
  Link:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          PUBLIC_BASE_URL: !GetAtt Api.ApiEndpoint
  Callback:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 15
{extra}      Events:
        Notify:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: POST
            Path: /unipile/notify
{event}
  Hook:
    Type: Custom::UnipileWebhook
    Properties:
      RequestUrl: !Sub ${{Api.ApiEndpoint}}/unipile/webhook
  Webhook:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Delivery:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: POST
            Path: /unipile/webhook
{event}"
        )
    }

    const OPEN_AND_THROTTLED: &str = "            Auth: { Authorizer: NONE }
            RouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }";

    #[test]
    fn unipile_through_open_throttled_routes_is_fine() {
        let (template, stack) = stack_of(&format!(
            "Resources:{API}{}",
            callback(OPEN_AND_THROTTLED, "")
        ));
        assert_eq!(
            unipile_entry_problems(&template, &stack),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_unthrottled_route_a_jwt_route_a_short_wait_or_a_public_url_are_each_named() {
        let (template, stack) = stack_of(&format!(
            "Resources:{API}{}",
            callback("            TimeoutInMillis: 5000", "")
        ));
        let problems = unipile_entry_problems(&template, &stack).join("\n");
        for expected in [
            "takes the API's JWT authorizer",
            "has no ThrottlingRateLimit of its own",
            "has no ThrottlingBurstLimit of its own",
            "the API gives up after 5000 ms",
        ] {
            assert!(problems.contains(expected), "{expected}: {problems}");
        }

        let public_url = format!(
            "Resources:{API}{}",
            callback(
                OPEN_AND_THROTTLED,
                "      FunctionUrlConfig: { AuthType: NONE }\n"
            )
        )
        .replace("!GetAtt Api.ApiEndpoint", "!GetAtt CallbackUrl.FunctionUrl");
        let (template, stack) = stack_of(&public_url);
        assert_eq!(
            unipile_entry_problems(&template, &stack),
            [
                "Callback has a public function URL (FunctionUrlConfig) that nothing throttles",
                "Unipile's notify_url call (PUBLIC_BASE_URL of Link) reaches Callback through \
                 a public function URL (CallbackUrl), which nothing throttles: every request \
                 costs an invocation",
            ]
        );
        let reserved = public_url.replace(
            "FunctionUrlConfig:",
            "ReservedConcurrentExecutions: 5\n      FunctionUrlConfig:",
        );
        let (template, stack) = stack_of(&reserved);
        assert_eq!(
            unipile_entry_problems(&template, &stack),
            Vec::<String>::new(),
            "reserved concurrency bounds it"
        );
    }
}
