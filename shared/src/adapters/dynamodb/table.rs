//! The table definition.

use super::expression::unavailable;
use super::items::GSI1;
use crate::ports::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

/// Creates the table as the code expects it (keys, GSI1, on-demand billing). The SAM
/// template in `infra/` declares the same; tests and the local stack call this.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let built = (|| {
        Ok::<_, aws_sdk_dynamodb::error::BuildError>((
            vec![attribute("PK")?, attribute("SK")?, attribute("GSI1PK")?],
            vec![key("PK", KeyType::Hash)?, key("SK", KeyType::Range)?],
            GlobalSecondaryIndex::builder()
                .index_name(GSI1)
                .key_schema(key("GSI1PK", KeyType::Hash)?)
                .key_schema(key("PK", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        ))
    })();
    let (attributes, keys, gsi) = built.map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let result = client
        .create_table()
        .table_name(table)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(keys))
        .global_secondary_indexes(gsi)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(error) => Err(unavailable(error)),
    }
}
