//! What the team paged at night relies on: every metric the code emits is documented in
//! docs/operations.md and shown on the stack's dashboard, every alarm on the project's own
//! metrics watches one the code really emits, and every alarm can reach its topic.

use harness::rehearsal::template::Template;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The metric names the functions emit: the first argument of every `metrics::count(...)`,
/// `metrics::count_by(...)` and `metrics::value(...)` call in the shared crate and the
/// function crates.
fn emitted_metrics() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("shared/src"), &mut files);
    rust_files(&root().join("functions"), &mut files);
    let mut names = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for call in ["metrics::count(", "metrics::count_by(", "metrics::value("] {
            for rest in text.split(call).skip(1) {
                let argument = rest.trim_start();
                if let Some(literal) = argument.strip_prefix('"') {
                    let name = literal.split('"').next().unwrap_or_default();
                    names.insert(name.to_owned());
                } else {
                    // A name held in a variable could never be checked: keep them literal.
                    assert!(
                        file.ends_with("metrics.rs"),
                        "{}: a metric name that is not a literal: {}",
                        file.display(),
                        argument.lines().next().unwrap_or_default()
                    );
                }
            }
        }
    }
    names
}

#[test]
fn every_metric_the_code_emits_is_documented_and_on_the_dashboard() {
    let emitted = emitted_metrics();
    assert!(emitted.contains("NoEmailForUser"), "{emitted:?}");
    let page =
        std::fs::read_to_string(root().join("docs/operations.md")).expect("docs/operations.md");
    // The Metrics section alone: from its heading to the next one of its level.
    let documented = page
        .split("\n## Metrics\n")
        .nth(1)
        .expect("docs/operations.md has a Metrics section");
    let documented = documented.split("\n## ").next().unwrap_or_default();
    let template = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    let dashboard = template
        .split("DashboardBody:")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("the template has a dashboard");
    let mut missing = Vec::new();
    for name in &emitted {
        if !documented.contains(&format!("| `{name}` |")) {
            missing.push(format!(
                "{name} is not in docs/operations.md's Metrics table"
            ));
        }
        if !dashboard.contains(&format!("\"{name}\""))
            && !dashboard.contains(&format!("\\\"{name}\\\""))
        {
            missing.push(format!("{name} is not on the dashboard"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_alarm_on_the_projects_metrics_watches_one_the_code_emits() {
    let emitted = emitted_metrics();
    let template = Template::load(&root().join("infra/template.yaml")).expect("template");
    let mut watched = 0;
    for (id, alarm) in template.resources_of("AWS::CloudWatch::Alarm") {
        let properties = &alarm["Properties"];
        if properties["Namespace"] != "UnipileConnect" {
            continue;
        }
        let name = properties["MetricName"].as_str().expect("a metric name");
        assert!(
            emitted.contains(name),
            "{id} watches {name}, which nothing emits"
        );
        watched += 1;
    }
    assert!(watched > 0, "no alarm watches the project's own metrics");
}

/// CloudWatch publishes an alarm to an SNS topic only if the topic's key (when encrypted)
/// lets `cloudwatch.amazonaws.com` make and read data keys, and the topic's policy lets it
/// publish. moto enforces neither, and the AWS managed SNS key (`alias/aws/sns`) can never
/// admit CloudWatch: with it, every alarm action fails and nobody is ever told.
#[test]
fn every_alarm_can_publish_to_its_topic() {
    let template = Template::load(&root().join("infra/template.yaml")).expect("template");
    let stack = template
        .symbolic_stack(&[])
        .expect("the template evaluates");
    let problems = harness::aws_rules::alarm_delivery_problems(&template, &stack);
    assert!(
        problems.is_empty(),
        "alarms that cannot reach anyone:\n{}",
        problems.join("\n")
    );
}

/// Each HTTP API of the stack (the front end's and Unipile's) answers 5xx when a function
/// behind it fails or times out: each has an alarm on its `5xx` that tells someone, and its
/// line on the dashboard.
#[test]
fn every_http_api_has_its_5xx_alarmed_and_on_the_dashboard() {
    let template = Template::load(&root().join("infra/template.yaml")).expect("template");
    let apis = template.resources_of("AWS::Serverless::HttpApi");
    assert!(apis.len() >= 2, "the front end's API and Unipile's");
    let dashboard = std::fs::read_to_string(root().join("infra/template.yaml"))
        .expect("template")
        .split("DashboardBody:")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .map(str::to_owned)
        .expect("the template has a dashboard");
    let mut missing = Vec::new();
    for (api, _) in apis {
        let alarmed = template
            .resources_of("AWS::CloudWatch::Alarm")
            .into_iter()
            .any(|(_, alarm)| {
                let p = &alarm["Properties"];
                p["Namespace"] == "AWS/ApiGateway"
                    && p["MetricName"] == "5xx"
                    && p["Dimensions"]
                        == serde_json::json!([{"Name": "ApiId", "Value": {"Ref": api}}])
                    && alarm.get("Condition").is_none()
                    && p["AlarmActions"].as_array().is_some_and(|a| !a.is_empty())
            });
        if !alarmed {
            missing.push(format!("no alarm on {api}'s 5xx"));
        }
        if !dashboard.contains(&format!(r#"["AWS/ApiGateway","5xx","ApiId","${{{api}}}"]"#)) {
            missing.push(format!("{api}'s 5xx is not on the dashboard"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
