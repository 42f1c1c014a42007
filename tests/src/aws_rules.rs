//! What AWS enforces and moto does not, read off the template itself: a green rehearsal on
//! moto cannot show that CloudWatch may publish an alarm to an encrypted topic, that a
//! public door is throttled, or that CloudFormation can order the stack's resources at all.
//! Each check reads the template through a symbolic [`Stack`] (parameters and conditions
//! evaluated, resources standing as `ref:<id>` and `getatt:<id>.<attribute>`) and names
//! every problem it finds.

use crate::rehearsal::gateway::Route;
use crate::rehearsal::template::{Stack, Template};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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

/// What a statement's `Condition` does to CloudWatch's `action` for this account's alarms
/// to `topic`: whether it holds the statement to this account, and each condition the
/// request might not meet. On a key, `kms:EncryptionContext:aws:sns:topicArn` holds it to
/// the topic (SNS names the topic in every data key's encryption context), whose own policy
/// holds publishers to this account.
fn account_conditions(
    condition: &Value,
    stack: &Stack,
    action: &str,
    topic: &str,
) -> (bool, Vec<String>) {
    let mut to_this_account = false;
    let mut problems = Vec::new();
    let alarms = format!(
        "arn:aws:cloudwatch:{}:{}:alarm:",
        stack.region, stack.account
    );
    let this_topic = format!("ref:{topic}");
    let topics_of_this_account = format!("arn:aws:sns:{}:{}:", stack.region, stack.account);
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
                ("StringEquals" | "StringLike", "kms:encryptioncontext:aws:sns:topicarn")
                    if action.starts_with("kms:") =>
                {
                    !values.is_empty()
                        && values.iter().all(|v| {
                            *v == this_topic
                                || (operator == "StringLike"
                                    && v.starts_with(&topics_of_this_account))
                        })
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
    (action, topic): (&str, &str),
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
                let (to_this_account, unmet) =
                    account_conditions(&statement["Condition"], stack, action, topic);
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
                problems.extend(key_problems(stack, id, &resources[id], topic));
            }
            _ => problems.push(format!(
                "it is encrypted with {key}, a key outside the stack whose policy cannot be read"
            )),
        }
    }
    let this_topic = format!("ref:{topic}");
    let mut policies = Vec::new();
    for (id, policy) in template.resources_of("AWS::SNS::TopicPolicy") {
        match template.is_created(stack, id) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                problems.push(error);
                continue;
            }
        }
        let Ok(properties) = stack.resolve(&policy["Properties"]) else {
            continue;
        };
        if texts(&properties["Topics"]).contains(&this_topic) {
            policies.push(properties);
        }
    }
    if policies.is_empty() {
        problems.push(format!(
            "no topic policy of the stack says that {CLOUDWATCH} may publish to it"
        ));
    }
    for (n, properties) in policies.iter().enumerate() {
        problems.extend(policy_problems(
            &properties["PolicyDocument"],
            stack,
            ("sns:Publish", topic),
            |resource| texts(resource).iter().any(|r| *r == this_topic || r == "*"),
            &format!("topic policy {}", n + 1),
        ));
    }
    problems
}

/// Why the key `id` would refuse CloudWatch the data keys of the messages it publishes to
/// `topic`.
fn key_problems(stack: &Stack, id: &str, key: &Value, topic: &str) -> Vec<String> {
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
            (action, topic),
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
fn entry_problems(
    template: &Template,
    stack: &Stack,
    routes: &Result<Vec<Route>, String>,
    what: &str,
    url: &str,
) -> Vec<String> {
    let Some((door, attribute)) = named_resource(url) else {
        return vec![format!(
            "{what} goes to {url}, which is neither a route of the stack's HTTP APIs nor a \
             function URL of the stack"
        )];
    };
    if let Some(path) = attribute.strip_prefix("ApiEndpoint") {
        let path = path.split('?').next().unwrap_or_default();
        return match routes {
            Ok(routes) => route_problems(template, stack, routes, what, door, path),
            Err(error) => vec![format!(
                "{what}: the HTTP APIs' routes do not resolve: {error}"
            )],
        };
    }
    if attribute.starts_with("FunctionUrl") {
        return match template.url_function(stack, door) {
            Ok(Some(function)) if is_reserved(template, stack, &function) => Vec::new(),
            Ok(Some(function)) => vec![format!(
                "{what} reaches {function} through a public function URL ({door}), which \
                 nothing throttles: every request costs an invocation"
            )],
            Ok(None) => vec![format!(
                "{what} goes to {door}, a function URL this stack does not create"
            )],
            Err(error) => vec![format!("{what} goes to {door}: {error}")],
        };
    }
    vec![format!("{what} goes to {url}: no door of the stack")]
}

/// The throttling settings that apply to `route`: the event's own `RouteSettings`, else its
/// API's `RouteSettings` for the route key, else the API's `DefaultRouteSettings`.
fn route_throttling(template: &Template, stack: &Stack, route: &Route) -> Value {
    let own = &route.properties["RouteSettings"];
    if !own.is_null() {
        return own.clone();
    }
    let api = &template.section("Resources")[&route.api]["Properties"];
    let by_key = stack
        .resolve(&api["RouteSettings"][route.key()])
        .unwrap_or(Value::Null);
    if !by_key.is_null() {
        return by_key;
    }
    stack
        .resolve(&api["DefaultRouteSettings"])
        .unwrap_or(Value::Null)
}

fn route_problems(
    template: &Template,
    stack: &Stack,
    routes: &[Route],
    what: &str,
    api: &str,
    path: &str,
) -> Vec<String> {
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
    if route.jwt {
        problems.push(format!(
            "{name} takes the API's JWT authorizer: Unipile sends no token, every call would \
             be refused"
        ));
    }
    let settings = route_throttling(template, stack, route);
    for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
        if !number(&settings[limit]).is_some_and(|n| n > 0.0) {
            problems.push(format!(
                "{name} has no {limit} of its own (nor its API's for this route, nor its \
                 API's default): the route is not throttled for Unipile"
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
/// `Custom::UnipileWebhook`'s `RequestUrl`) must reach their functions through routes of one
/// of the stack's HTTP APIs that take no JWT, are throttled (by their own settings or their
/// API's) and wait longer than the function runs, or through a function URL only where
/// reserved concurrency bounds the function. No other public function URL may be open
/// unbounded.
pub fn unipile_entry_problems(template: &Template, stack: &Stack) -> Vec<String> {
    let resources = template.section("Resources");
    let mut problems = Vec::new();
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
        match template.is_created(stack, id) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                problems.push(error);
                continue;
            }
        }
        let url = stack
            .resolve(&resources[id]["Properties"]["RequestUrl"])
            .ok()
            .and_then(|u| u.as_str().map(str::to_owned))
            .unwrap_or_default();
        entries.push((format!("Unipile's account_status webhook ({id})"), url));
    }
    if entries.len() < 2 {
        problems.push(format!(
            "expected Unipile's notify_url and its webhook among the stack's settings, found \
             {entries:?}"
        ));
    }
    let routes = crate::rehearsal::api_routes(template, stack);
    for (what, url) in &entries {
        problems.extend(entry_problems(template, stack, &routes, what, url));
    }
    // Any other public door that nothing throttles: SAM's `<F>Url` for a function's
    // `FunctionUrlConfig`, and every AWS::Lambda::Url.
    let doors = template
        .resources_of("AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, function)| function["Properties"].get("FunctionUrlConfig").is_some())
        .map(|(id, function)| {
            let config = stack
                .resolve(&function["Properties"]["FunctionUrlConfig"])
                .unwrap_or(Value::Null);
            (format!("{id}Url"), config)
        })
        .chain(
            template
                .resources_of("AWS::Lambda::Url")
                .into_iter()
                .map(|(id, url)| {
                    let properties = stack.resolve(&url["Properties"]).unwrap_or(Value::Null);
                    (id.to_owned(), properties)
                }),
        );
    for (door, properties) in doors {
        if properties["AuthType"] != "NONE" {
            continue;
        }
        match template.url_function(stack, &door) {
            Ok(Some(function)) if is_reserved(template, stack, &function) => {}
            Ok(Some(function)) => problems.push(format!(
                "{door} is a public function URL of {function} that nothing throttles"
            )),
            Ok(None) => {}
            Err(error) => problems.push(format!("{door} is a public function URL: {error}")),
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

/// The logical ids `value` refers to as CloudFormation reads them: `Ref`, `Fn::GetAtt`, and
/// `Fn::Sub`'s `${Name}` and `${Name.Attribute}` (not its own variables), each `Fn::If` in
/// the branch `stack`'s conditions take (CloudFormation evaluates conditions first). Pseudo
/// parameters (`AWS::...`) are left out; parameters are not.
fn references(value: &Value, stack: &Stack, found: &mut BTreeSet<String>) -> Result<(), String> {
    let one = match value {
        Value::Object(map) if map.len() == 1 => map.iter().next(),
        _ => None,
    };
    match one {
        Some((key, Value::String(name))) if key == "Ref" => {
            if !name.starts_with("AWS::") {
                found.insert(name.clone());
            }
        }
        Some((key, target)) if key == "Fn::GetAtt" => {
            let id = match target {
                Value::String(dotted) => dotted.split('.').next(),
                Value::Array(parts) => parts.first().and_then(Value::as_str),
                _ => None,
            };
            found.insert(id.ok_or_else(|| format!("Fn::GetAtt {target}"))?.to_owned());
        }
        Some((key, arg)) if key == "Fn::Sub" => {
            let (text, variables) = match arg {
                Value::String(text) => (text.as_str(), None),
                Value::Array(parts) if parts.len() == 2 => (
                    parts[0].as_str().ok_or("Fn::Sub text")?,
                    parts[1].as_object(),
                ),
                other => return Err(format!("Fn::Sub {other}")),
            };
            let mut rest = text;
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                let end = after.find('}').ok_or("Fn::Sub: unclosed ${")?;
                let name = &after[..end];
                let id = name.split('.').next().unwrap_or_default();
                let variable = variables.is_some_and(|v| v.contains_key(name));
                if !name.starts_with('!') && !id.starts_with("AWS::") && !variable {
                    found.insert(id.to_owned());
                }
                rest = &after[end + 1..];
            }
            for value in variables.into_iter().flat_map(|v| v.values()) {
                references(value, stack, found)?;
            }
        }
        Some((key, arg)) if key == "Fn::If" => {
            let parts = arg.as_array().filter(|p| p.len() == 3).ok_or("Fn::If")?;
            let name = parts[0].as_str().ok_or("Fn::If condition")?;
            let truth = *stack
                .conditions
                .get(name)
                .ok_or_else(|| format!("unknown condition {name}"))?;
            references(&parts[if truth { 1 } else { 2 }], stack, found)?;
        }
        _ => match value {
            Value::Object(map) => {
                for value in map.values() {
                    references(value, stack, found)?;
                }
            }
            Value::Array(items) => {
                for item in items {
                    references(item, stack, found)?;
                }
            }
            _ => {}
        },
    }
    Ok(())
}

/// What each resource of `stack` waits for at deploy time: what it refers to and its
/// `DependsOn`, as SAM's transform leaves them. SAM moves edges the template does not show:
/// a function takes the template's `Globals.Function`; its `Events` become resources of
/// their own that wait for it (the function waits for none of them), and an `HttpApi` (or
/// `Api`) event writes the function into its API's definition, so the API waits for the
/// function; a `FunctionUrlConfig` makes `<F>Url`, which waits for `F`. A reference to
/// something SAM makes from a resource (`<Api>ApiGatewayDefaultStage`, ...) waits for that
/// resource.
fn dependencies(
    template: &Template,
    stack: &Stack,
    problems: &mut Vec<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let resources = template.section("Resources");
    let parameters = template.section("Parameters");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut created = Vec::new();
    for (id, resource) in resources {
        match template.is_created(stack, id) {
            Ok(true) => {
                graph.entry(id.clone()).or_default();
                created.push((id.as_str(), resource));
            }
            Ok(false) => {}
            Err(error) => problems.push(error),
        }
    }
    for (id, resource) in &created {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        for (_, event) in resource["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let api = match event["Type"].as_str() {
                Some("HttpApi") => &event["Properties"]["ApiId"],
                Some("Api") => &event["Properties"]["RestApiId"],
                _ => continue,
            };
            if let Some(api) = template.named_resource(api) {
                graph
                    .entry(api.to_owned())
                    .or_default()
                    .insert((*id).to_owned());
            }
        }
        if resource["Properties"].get("FunctionUrlConfig").is_some() {
            graph
                .entry(format!("{id}Url"))
                .or_default()
                .insert((*id).to_owned());
        }
    }
    let sam_resources: Vec<&str> = created
        .iter()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|t| t.starts_with("AWS::Serverless::"))
        })
        .map(|(id, _)| *id)
        .collect();
    for (id, resource) in &created {
        let mut found = BTreeSet::new();
        let globals = match resource["Type"].as_str() {
            Some("AWS::Serverless::Function") => &template.root["Globals"]["Function"],
            Some("AWS::Serverless::HttpApi") => &template.root["Globals"]["HttpApi"],
            Some("AWS::Serverless::Api") => &template.root["Globals"]["Api"],
            _ => &Value::Null,
        };
        let mut properties = resource["Properties"].clone();
        if resource["Type"] == "AWS::Serverless::Function"
            && let Some(properties) = properties.as_object_mut()
        {
            properties.remove("Events");
        }
        for part in [&properties, globals] {
            if let Err(error) = references(part, stack, &mut found) {
                problems.push(format!("{id}: {error}"));
            }
        }
        found.extend(texts(&resource["DependsOn"]));
        for name in found {
            if parameters.contains_key(&name) {
                continue;
            }
            if graph.contains_key(&name) {
                graph.entry((*id).to_owned()).or_default().insert(name);
            } else if resources.contains_key(&name) {
                problems.push(format!(
                    "{id} refers to {name}, which this stack does not create (its condition \
                     is false): CloudFormation refuses the template"
                ));
            } else if let Some(parent) = sam_resources
                .iter()
                .filter(|parent| name.starts_with(**parent))
                .max_by_key(|parent| parent.len())
            {
                graph
                    .entry((*id).to_owned())
                    .or_default()
                    .insert((*parent).to_owned());
            } else {
                problems.push(format!(
                    "{id} refers to {name}, which is neither a parameter nor a resource of the \
                     stack"
                ));
            }
        }
    }
    graph
}

/// Every circle of dependencies in `stack`, as CloudFormation sees the template after SAM's
/// transform (see [`dependencies`]): CloudFormation refuses a template with one ("Circular
/// dependency between resources"), and neither cfn-lint on the SAM template nor the
/// rehearsal (which resolves every address before it starts anything) would show it. Each
/// problem names the circle, every resource waiting for the next.
pub fn dependency_cycles(template: &Template, stack: &Stack) -> Vec<String> {
    let mut problems = Vec::new();
    let graph = dependencies(template, stack, &mut problems);
    let mut cycles = BTreeSet::new();
    // Depth first from every resource, in order; a resource on the current path met again
    // closes a circle, kept from its smallest id so that each is named once.
    fn visit(
        id: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut BTreeSet<Vec<String>>,
    ) {
        if let Some(at) = path.iter().position(|p| p == id) {
            let mut cycle = path[at..].to_vec();
            let smallest = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, id)| id.as_str())
                .map_or(0, |(n, _)| n);
            cycle.rotate_left(smallest);
            cycles.insert(cycle);
            return;
        }
        if done.contains(id) {
            return;
        }
        path.push(id.to_owned());
        for next in graph.get(id).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
        done.insert(id.to_owned());
    }
    let mut done = BTreeSet::new();
    for id in graph.keys() {
        visit(id, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    for cycle in cycles {
        problems.push(format!(
            "circular dependency (each waits for the next): {} -> {}",
            cycle.join(" -> "),
            cycle[0]
        ));
    }
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

    /// The front end's API: a JWT authorizer on every route that does not opt out.
    const API: &str = "
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: UserJwt
        Authorizers:
          UserJwt: { JwtConfiguration: { issuer: https://issuer.example.com } }
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
                "CallbackUrl is a public function URL of Callback that nothing throttles",
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

    /// Unipile's routes on an API of their own, without an authorizer, throttled by the
    /// API's default route settings.
    fn unipile_api(default_route_settings: &str) -> String {
        format!(
            "Resources:{API}
  UnipileApi:
    Type: AWS::Serverless::HttpApi
    Properties:
{default_route_settings}{}",
            callback("            TimeoutInMillis: 30000", "")
                .replace("!GetAtt Api.ApiEndpoint", "!GetAtt UnipileApi.ApiEndpoint")
                .replace("${Api.ApiEndpoint}", "${UnipileApi.ApiEndpoint}")
                .replace("ApiId: !Ref Api", "ApiId: !Ref UnipileApi")
        )
    }

    #[test]
    fn unipile_on_an_open_api_of_its_own_throttled_by_default_is_fine_and_unthrottled_is_named() {
        let (template, stack) = stack_of(&unipile_api(
            "      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }\n",
        ));
        assert_eq!(
            unipile_entry_problems(&template, &stack),
            Vec::<String>::new()
        );

        let (template, stack) = stack_of(&unipile_api(
            "      DefaultRouteSettings: { ThrottlingRateLimit: 10 }\n",
        ));
        let problems = unipile_entry_problems(&template, &stack);
        assert_eq!(problems.len(), 2, "{problems:?}");
        for problem in &problems {
            assert!(
                problem.contains("on UnipileApi")
                    && problem.contains("has no ThrottlingBurstLimit of its own"),
                "{problem}"
            );
        }
    }

    #[test]
    fn cloudwatch_held_to_the_alarm_topic_by_its_encryption_context_is_admitted() {
        let grant = |topic: &str| {
            CLOUDWATCH_USES_KEY.replace(
                "StringEquals: { aws:SourceAccount: !Ref AWS::AccountId }",
                &format!("StringEquals: {{ kms:EncryptionContext:aws:sns:topicArn: {topic} }}"),
            )
        };
        let template_with = |grant: &str| {
            format!(
                "Resources:{ALARM}{TOPIC_POLICY}{}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{ KmsMasterKeyId: !Ref Key }}
  Other:
    Type: AWS::SNS::Topic
",
                key(grant)
            )
        };
        let (template, stack) = stack_of(&template_with(&grant("!Ref Topic")));
        assert_eq!(
            alarm_delivery_problems(&template, &stack),
            Vec::<String>::new()
        );
        let (template, stack) = stack_of(&template_with(&grant("!Ref Other")));
        let problems = alarm_delivery_problems(&template, &stack).join("\n");
        assert!(
            problems.contains("kms:EncryptionContext:aws:sns:topicArn [\"ref:Other\"]"),
            "{problems}"
        );
        // On the topic's own policy the key's encryption context means nothing.
        let (template, stack) = stack_of(&format!(
            "Resources:{ALARM}{}
  Topic:
    Type: AWS::SNS::Topic
",
            TOPIC_POLICY.replace(
                "StringEquals: { aws:SourceAccount: !Ref AWS::AccountId }",
                "StringEquals: { kms:EncryptionContext:aws:sns:topicArn: !Ref Topic }",
            )
        ));
        let problems = alarm_delivery_problems(&template, &stack).join("\n");
        assert!(
            problems.contains("a condition StringEquals kms:EncryptionContext:aws:sns:topicArn"),
            "{problems}"
        );
    }

    /// hosted-link's address for Unipile (`PUBLIC_BASE_URL`) and its own route, as the
    /// template once had them: both on `Api`.
    const LINK_ON_THE_API_IT_NAMES: &str = "
  Api:
    Type: AWS::Serverless::HttpApi
  Link:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          PUBLIC_BASE_URL: !GetAtt Api.ApiEndpoint
      Events:
        Link:
          Type: HttpApi
          Properties: { ApiId: !Ref Api, Method: POST, Path: /accounts/link }
";

    #[test]
    fn an_api_carrying_the_route_of_a_function_that_names_it_is_a_circle() {
        let (template, stack) = stack_of(&format!("Resources:{LINK_ON_THE_API_IT_NAMES}"));
        assert_eq!(
            dependency_cycles(&template, &stack),
            ["circular dependency (each waits for the next): Api -> Link -> Api"]
        );
        let elsewhere = LINK_ON_THE_API_IT_NAMES.replace("ApiId: !Ref Api", "ApiId: !Ref UserApi");
        let (template, stack) = stack_of(&format!(
            "Resources:{elsewhere}
  UserApi:
    Type: AWS::Serverless::HttpApi
"
        ));
        assert_eq!(dependency_cycles(&template, &stack), Vec::<String>::new());
    }

    #[test]
    fn a_function_naming_its_own_url_is_a_circle_only_where_the_branch_is_taken() {
        let template = Template::parse(
            "Parameters:
  Door: { Type: String, Default: Api }
Conditions:
  ViaUrl: !Equals [!Ref Door, Url]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionUrlConfig: { AuthType: NONE }
      Environment:
        Variables:
          SELF: !If [ViaUrl, !Sub '${FnUrl.FunctionUrl}x', !Ref AWS::NoValue]
  Later:
    Type: AWS::SQS::Queue
    DependsOn: [Fn]
",
        )
        .expect("parses");
        let default = template.symbolic_stack(&[]).expect("evaluates");
        assert_eq!(dependency_cycles(&template, &default), Vec::<String>::new());
        let via_url = template
            .symbolic_stack(&[("Door", "Url")])
            .expect("evaluates");
        assert_eq!(
            dependency_cycles(&template, &via_url),
            ["circular dependency (each waits for the next): Fn -> FnUrl -> Fn"]
        );
    }

    #[test]
    fn a_reference_to_a_resource_the_stack_does_not_create_is_named() {
        let (template, stack) = stack_of(
            "Conditions:
  Never: !Equals [a, b]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Condition: Never
  Reader:
    Type: AWS::SQS::QueuePolicy
    Properties: { Queues: [!Ref Queue], PolicyDocument: { Statement: [] } }
  Broken:
    Type: AWS::SQS::Queue
    Condition: Nowhere
",
        );
        let problems = dependency_cycles(&template, &stack);
        assert_eq!(
            problems,
            [
                "Broken: unknown condition Nowhere",
                "Reader refers to Queue, which this stack does not create (its condition is \
                 false): CloudFormation refuses the template",
            ]
        );
    }
}
