//! One harness for every integration test: moto server started once per test binary, a table
//! of its own for each test, the Unipile simulator on a free port, and the functions wired
//! with the real aws-sdk clients pointed at moto.

pub mod aws_calls;
pub mod aws_rules;
pub mod browser;
pub mod event_bus;
pub mod in_memory;
pub mod logs;
pub mod moto;
pub mod raw_http;
pub mod requests;
pub mod webhook_receiver;
pub mod world;

pub use world::World;
pub mod rehearsal;

/// The phone number custom sign-ins are tested with: a credential, which the run's log scan
/// (`scripts/scan-test-logs.py`) looks for in any writing.
pub const TEST_PHONE: &str = "+33 6 12 34 56 78";
