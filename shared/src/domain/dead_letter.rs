//! What a message in the reconnect dead-letter queue says. Two senders write there: Lambda,
//! when an asynchronous invocation of `reconnect-retry` failed every try (its OnFailure
//! destination sends an invocation record, the attempt in `requestPayload`), and EventBridge
//! Scheduler, when it could not invoke the function at all (the schedule's input itself).
//! Either way the attempt is read back so that it can be run again or ended for the owner.

use super::reconnect::ReconnectAttempt;
use serde::Deserialize;
use serde_json::Value;

/// A dead letter, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetter {
    Attempt {
        attempt: ReconnectAttempt,
        /// Why it died, as the sender put it (Lambda's error message or condition).
        reason: Option<String>,
        /// How many times Lambda ran it before giving up, when the record says.
        tries: Option<u64>,
    },
    /// A message that carries no attempt: shown to the operator, never acted on.
    Unreadable(String),
}

/// The parts of Lambda's invocation record this reads; every other field is Lambda's own.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvocationRecord {
    request_payload: Value,
    #[serde(default)]
    request_context: Option<RequestContext>,
    #[serde(default)]
    response_payload: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext {
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    approximate_invoke_count: Option<u64>,
}

pub fn read(body: &str) -> DeadLetter {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return DeadLetter::Unreadable("not JSON".into());
    };
    if json.get("requestPayload").is_some() {
        let record: InvocationRecord = match serde_json::from_value(json) {
            Ok(record) => record,
            Err(error) => return DeadLetter::Unreadable(format!("invocation record: {error}")),
        };
        let context = record.request_context;
        let message = record
            .response_payload
            .as_ref()
            .and_then(|p| p.get("errorMessage"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let condition = context.as_ref().and_then(|c| c.condition.clone());
        return match serde_json::from_value::<ReconnectAttempt>(record.request_payload) {
            Ok(attempt) => DeadLetter::Attempt {
                attempt,
                reason: message.or(condition),
                tries: context.and_then(|c| c.approximate_invoke_count),
            },
            Err(error) => DeadLetter::Unreadable(format!("requestPayload: {error}")),
        };
    }
    match serde_json::from_value::<ReconnectAttempt>(json) {
        Ok(attempt) => DeadLetter::Attempt {
            attempt,
            reason: None,
            tries: None,
        },
        Err(error) => DeadLetter::Unreadable(format!("not a reconnect attempt: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attempt(outage: Option<&str>, n: u32) -> ReconnectAttempt {
        ReconnectAttempt {
            account_id: crate::AccountId::parse("acc-1").expect("id"),
            outage: outage.map(str::to_owned),
            attempt: n,
        }
    }

    #[test]
    fn lambdas_invocation_record_gives_the_attempt_and_why_it_died() {
        let record = json!({
            "version": "1.0",
            "timestamp": "2026-11-27T03:00:00.000Z",
            "requestContext": {
                "requestId": "e4b46cbf",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:retry:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3
            },
            "requestPayload": {"account_id": "acc-1", "outage": "o-1", "attempt": 2},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": "&alloc::boxed::Box<dyn core::error::Error>", "errorMessage": "the key service is unavailable"}
        });
        assert_eq!(
            read(&record.to_string()),
            DeadLetter::Attempt {
                attempt: attempt(Some("o-1"), 2),
                reason: Some("the key service is unavailable".into()),
                tries: Some(3),
            }
        );
    }

    #[test]
    fn a_record_without_a_response_names_the_condition() {
        let record = json!({
            "requestContext": {"condition": "EventAgeExceeded", "approximateInvokeCount": 1},
            "requestPayload": {"account_id": "acc-1", "attempt": 0}
        });
        assert_eq!(
            read(&record.to_string()),
            DeadLetter::Attempt {
                attempt: attempt(None, 0),
                reason: Some("EventAgeExceeded".into()),
                tries: Some(1),
            }
        );
    }

    #[test]
    fn the_schedulers_dead_letter_is_the_schedules_input() {
        assert_eq!(
            read(r#"{"account_id":"acc-1","outage":"o-9","attempt":4}"#),
            DeadLetter::Attempt {
                attempt: attempt(Some("o-9"), 4),
                reason: None,
                tries: None,
            }
        );
    }

    #[test]
    fn anything_else_is_unreadable_and_says_why() {
        for body in [
            "",
            "plain text",
            "[]",
            r#"{"requestPayload": {"account_id": "acc-1"}}"#,
            r#"{"account_id": "acc-1", "attempt": 1, "extra": true}"#,
            r#"{"requestPayload": 1, "requestContext": "x"}"#,
        ] {
            assert!(
                matches!(read(body), DeadLetter::Unreadable(_)),
                "{body:?} read as an attempt"
            );
        }
    }
}
