//! Counters as CloudWatch embedded-metric-format lines on stdout: Lambda ships stdout to
//! CloudWatch Logs, which turns each line into a metric point with no API call on the hot path.

use serde_json::json;

pub const NAMESPACE: &str = "UnipileConnect";

/// One occurrence of `name` (for example `UnknownAccountWebhook`).
pub fn count(name: &str) {
    let line = json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        },
        name: 1,
    });
    println!("{line}");
}

/// The EMF line for `value` of `name`: a point even when `value` is 0, so an alarm on the
/// metric can tell "none" from "nobody measured".
pub fn value_line(name: &str, value: u64) -> String {
    json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        },
        name: value,
    })
    .to_string()
}

/// Publishes [`value_line`] (for example `UnattributedAccounts` after each reconciliation).
pub fn value(name: &str, value: u64) {
    println!("{}", value_line(name, value));
}
