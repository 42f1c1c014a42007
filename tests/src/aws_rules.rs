//! What AWS enforces and moto does not, read off the template itself: a green rehearsal on
//! moto cannot show that CloudWatch may publish an alarm to an encrypted topic. Each check
//! reads the template through a symbolic
//! [`Stack`] (parameters and conditions evaluated, resources standing as `ref:<id>` and
//! `getatt:<id>.<attribute>`) and names every problem it finds.

use crate::rehearsal::template::{Stack, Template};
use serde_json::Value;
use std::collections::BTreeMap;

/// The service principal CloudWatch publishes alarm notifications as.
pub const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

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
}
