//! Test support of the shared crate, compiled for its own tests only, so that `flows/` holds
//! use cases and nothing else: the ports' fault-injecting wrappers, the in-memory world the
//! flow tests start from, and the suites over every flow (the fault matrix, order
//! independence, reliability stories, the events against their schemas). Nothing here is
//! linked into a Lambda binary or the local stack; the in-memory adapters they build on stay in
//! `adapters::memory` for the local stack.

mod custom_login_stories;
mod event_schemas;
mod fault_matrix;
pub mod faults;
mod order_independence;
mod reliability_tests;
pub mod test_world;
