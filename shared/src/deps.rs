//! The ports every function shares, built once at cold start and handed to each invocation.

use crate::adapters::clock::SystemClock;
use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::unipile::HttpUnipile;
use crate::config::{self, ConfigError, EnvSource};
use crate::ports::{AccountStore, Clock, Unipile};
use std::sync::Arc;

#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn AccountStore>,
    pub unipile: Arc<dyn Unipile>,
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    /// The AWS wiring: DynamoDB table `TABLE_NAME`, Unipile at `UNIPILE_DSN`, the system clock.
    pub async fn from_env(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        let table = config::table_name(env)?;
        let unipile =
            HttpUnipile::new(config::unipile_settings(env)?).map_err(|e| ConfigError::Invalid {
                var: "UNIPILE_DSN",
                reason: e.to_string(),
            })?;
        let aws = config::aws_sdk_config(env).await;
        Ok(Self {
            store: Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table)),
            unipile: Arc::new(unipile),
            clock: Arc::new(SystemClock),
        })
    }
}
