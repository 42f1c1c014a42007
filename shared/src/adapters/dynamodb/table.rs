//! The table definition.

use super::expression::unavailable;
use super::items::{GSI1, GSI2, GSI3, TTL_ATTRIBUTE};
use crate::ports::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

/// Creates the table as the code expects it (keys, GSI1, the sparse GSI2 and GSI3, on-demand billing,
/// TTL on [`TTL_ATTRIBUTE`]). The SAM template in `infra/` declares the same; tests and the
/// local stack call this. A table that exists already is left as it is.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let typed = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
    };
    let attribute = |name: &str| typed(name, ScalarAttributeType::S);
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let built = (|| {
        Ok::<_, aws_sdk_dynamodb::error::BuildError>((
            vec![
                attribute("PK")?,
                attribute("SK")?,
                attribute("GSI1PK")?,
                attribute("GSI2PK")?,
                typed("GSI2SK", ScalarAttributeType::N)?,
                attribute("GSI3PK")?,
                typed("GSI3SK", ScalarAttributeType::N)?,
            ],
            vec![key("PK", KeyType::Hash)?, key("SK", KeyType::Range)?],
            vec![
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
                GlobalSecondaryIndex::builder()
                    .index_name(GSI2)
                    .key_schema(key("GSI2PK", KeyType::Hash)?)
                    .key_schema(key("GSI2SK", KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()?,
                GlobalSecondaryIndex::builder()
                    .index_name(GSI3)
                    .key_schema(key("GSI3PK", KeyType::Hash)?)
                    .key_schema(key("GSI3SK", KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()?,
            ],
        ))
    })();
    let (attributes, keys, gsis) = built.map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let result = client
        .create_table()
        .table_name(table)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(keys))
        .set_global_secondary_indexes(Some(gsis))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match result {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(error) => return Err(unavailable(error)),
    }
    // Spent state tokens expire on their own. Nothing relies on when DynamoDB deletes them
    // (an expired token is refused before its nonce is looked at): it only keeps the table small.
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(TTL_ATTRIBUTE)
        .enabled(true)
        .build()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}
