//! The local stack: every function on one localhost server, the Unipile simulator beside them,
//! and a landing page. Tests start the same pieces on free ports.

pub mod bridge;
pub mod jwt;
pub mod simulator;
pub mod stack;
