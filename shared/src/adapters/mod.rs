//! Implementations of the ports: AWS and HTTP ones for Lambda, in-memory ones for tests and
//! the local stack.

pub mod cipher;
pub mod clock;
pub mod cognito;
pub mod dynamodb;
pub mod eventbridge;
pub mod lazy_client;
pub mod memory;
pub mod scheduler;
pub mod secrets_manager;
pub mod ses;
pub mod sqs;
pub mod tls;
pub mod unipile;
pub mod webhook_endpoint;
