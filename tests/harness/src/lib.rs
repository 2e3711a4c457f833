//! Shared test harness for Silta.
//!
//! - [`guest`]: the misbehaving and well-behaved guest components from
//!   `tests/guests`, built once per `cargo test` by this crate's build
//!   script, never per test.
//! - [`manifest`]: manifests for them, with the limits a test needs.
//! - [`http`]: a loopback HTTP server on port 0 for egress tests.
//! - [`bench_results`]: sections of `benches/RESULTS.md`.

pub mod bench_results;
pub mod guest;
pub mod http;
pub mod manifest;
