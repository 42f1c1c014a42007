//! Domain, ports and adapters shared by every unipile-connect function.
//!
//! Handlers in `functions/*` parse a request, call a flow from [`flows`], and map the outcome
//! to HTTP with [`http`]. Everything that decides something lives here so that the Lambda
//! binaries, the local stack and the tests run the same code.

pub mod adapters;
pub mod config;
pub mod deadline;
pub mod deps;
pub use unipile_domain as domain;
pub mod flows;
pub mod http;
#[cfg(any(test, feature = "testing"))]
pub mod memory_world;
pub mod metrics;
pub mod ports;
pub mod runtime;
pub mod telemetry;
#[cfg(test)]
mod testing;
pub mod web;
