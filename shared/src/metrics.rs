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
