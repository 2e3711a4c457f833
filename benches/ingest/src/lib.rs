//! Ingest benchmark: a load generator and two reference servers.
//!
//! Silta's ingest rate only means something beside what the same machine can
//! do without Silta, so this crate measures three things in one run (see
//! `benches/ingest/run` and `README.md`):
//!
//! * `baseline-ok`: a plain hyper server that answers 200, the ceiling any
//!   HTTP server reaches here;
//! * `baseline-sqlite`: a hyper server that appends each body to SQLite (WAL,
//!   `synchronous=FULL`) with group commit and answers after the commit, the
//!   ceiling for a server that answers only once a message is durable;
//! * `loadgen`: the client, closed loop for throughput and open loop (fixed
//!   rate, latency from the scheduled send time) for latency percentiles.
//!
//! The library holds what the binaries share: the server accept loop and the
//! webhook-plugin payloads.

pub mod message;
pub mod serve;

pub use message::Messages;
pub use serve::{bind, runtime, serve};
