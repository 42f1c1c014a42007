//! Building update expressions and reading DynamoDB's answers.

use crate::ports::StoreError;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

/// An update expression assembled from the parts a call needs.
#[derive(Default)]
pub(super) struct Update {
    set: Vec<String>,
    remove: Vec<String>,
}

impl Update {
    pub(super) fn set(&mut self, clause: &str) -> &mut Self {
        self.set.push(clause.to_owned());
        self
    }

    pub(super) fn remove(&mut self, attribute: &str) -> &mut Self {
        self.remove.push(attribute.to_owned());
        self
    }

    pub(super) fn expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("REMOVE {}", self.remove.join(", ")));
        }
        parts.join(" ")
    }
}

pub(super) fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string())
}

pub(super) fn is_condition_failure<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ConditionFailure,
{
    error
        .as_service_error()
        .is_some_and(ConditionFailure::is_condition_failure)
}

/// The "conditional check failed" answer of each DynamoDB write.
pub(super) trait ConditionFailure {
    fn is_condition_failure(&self) -> bool;
}

impl ConditionFailure for aws_sdk_dynamodb::operation::update_item::UpdateItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionFailure for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionFailure for aws_sdk_dynamodb::operation::delete_item::DeleteItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// For a transaction cancelled because conditions failed: which of its items failed theirs,
/// in order. `None` for any other error (throttling, a conflict with another transaction).
pub(super) fn cancelled_by_condition<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Vec<bool>> {
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
        cancelled,
    ) = error.as_service_error()?
    else {
        return None;
    };
    let reasons = cancelled.cancellation_reasons();
    let failed: Vec<bool> = reasons
        .iter()
        .map(|r| r.code() == Some("ConditionalCheckFailed"))
        .collect();
    let only_conditions = reasons
        .iter()
        .all(|r| matches!(r.code(), None | Some("None" | "ConditionalCheckFailed")));
    (failed.contains(&true) && only_conditions).then_some(failed)
}

pub(super) fn corrupt(error: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

pub(super) fn value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(corrupt)
}
