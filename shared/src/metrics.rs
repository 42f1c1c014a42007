//! Counters as CloudWatch embedded-metric-format lines on stdout: Lambda ships stdout to
//! CloudWatch Logs, which turns each line into a metric point with no API call on the hot path.
//! Every name used here is documented in docs/operations.md ("Metrics") and shown on the stack's
//! dashboard; a test fails when one is not.

use serde_json::{Value, json};

pub const NAMESPACE: &str = "UnipileConnect";

static SILENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// No metric lines from now on: an operator command's stdout reaches a terminal, not
/// CloudWatch, and its points would only hide the command's own output.
pub fn silence() {
    SILENT.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn emit(line: impl std::fmt::Display) {
    if !SILENT.load(std::sync::atomic::Ordering::Relaxed) {
        println!("{line}");
    }
}

/// One occurrence of `name` (for example `UnknownAccountWebhook`).
pub fn count(name: &str) {
    #[cfg(test)]
    COUNTED.with(|counted| *counted.borrow_mut().entry(name.to_owned()).or_default() += 1);
    emit(line(name, 1, None));
}

#[cfg(test)]
thread_local! {
    /// What this thread counted, for the crate's own stories (each runs on one thread).
    static COUNTED: std::cell::RefCell<std::collections::HashMap<String, u64>> =
        std::cell::RefCell::default();
}

/// How many times this thread counted `name` so far (the crate's own tests only).
#[cfg(test)]
pub fn counted(name: &str) -> u64 {
    COUNTED.with(|counted| counted.borrow().get(name).copied().unwrap_or(0))
}

/// One occurrence of `name` for one value of a dimension (for example `StatusChanged` with
/// `Status` = `CREDENTIALS`), so the dashboard can split it.
pub fn count_by(name: &str, dimension: &str, value: &str) {
    emit(line(name, 1, Some((dimension, value))));
}

/// `value` of `name` (for example `UnattributedAccounts` after each reconciliation): a point
/// even when `value` is 0, so an alarm on the metric can tell "none" from "nobody measured".
pub fn value(name: &str, value: u64) {
    emit(value_line(name, value));
}

/// The line [`value`] prints.
pub fn value_line(name: &str, value: u64) -> String {
    line(name, value, None).to_string()
}

fn line(name: &str, value: u64, dimension: Option<(&str, &str)>) -> Value {
    let dimensions: Vec<&str> = dimension.iter().map(|(d, _)| *d).collect();
    let mut line = json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        },
        name: value,
    });
    if let Some((dimension, value)) = dimension {
        line[dimension] = json!(value);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dimensioned_count_names_its_dimension_and_value() {
        let plain = line("EmailSent", 1, None);
        assert_eq!(plain["EmailSent"], 1);
        assert_eq!(
            plain["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        let split = line("StatusChanged", 1, Some(("Status", "CREDENTIALS")));
        assert_eq!(split["Status"], "CREDENTIALS");
        assert_eq!(
            split["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Status"]])
        );
        assert_eq!(
            split["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            NAMESPACE
        );
    }

    #[test]
    fn a_value_of_zero_is_still_a_point() {
        let zero: Value =
            serde_json::from_str(&value_line("UnattributedAccounts", 0)).expect("JSON");
        assert_eq!(zero["UnattributedAccounts"], 0);
    }
}
