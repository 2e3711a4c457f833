//! Host capabilities a plugin can import. Each module implements one WIT
//! interface (or `wasi:http` hooks) and checks the plugin's [`Policy`]
//! before doing anything.
//!
//! [`Policy`]: crate::grant::Policy

pub mod config;
pub mod http_egress;
pub mod kv;
pub mod log;
pub mod secrets;
pub mod stdio;
pub mod transport;
