//! Test harness for Silta plugin authors.
//!
//! Use it from `cargo test` in a plugin crate: it builds the crate to a
//! `wasm32-wasip2` component (once per test run), loads it into the real
//! Silta runtime with the real limits and the manifest's capabilities, and
//! answers the plugin's outbound HTTP from a recordings file. A request
//! with no recording fails the test with a message that shows the request.
//! With `SILTA_RECORD=1` the harness sends requests to the live endpoint
//! instead and writes the exchanges to the recordings file.
//!
//! ```no_run
//! # async fn demo() {
//! use silta_plugin_test::Harness;
//! let plugin = Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
//!     .secret("signing-key", "test-key")
//!     .config("endpoint", "https://hooks.example.com/in")
//!     .recordings("tests/fixtures/recordings.json")
//!     .start()
//!     .await;
//! let out = plugin.normalize_http(b"{...}", &[("x-signature", "...")]).await;
//! # }
//! ```
//!
//! - [`Harness`]: builds and starts a [`PluginUnderTest`].
//! - [`recording`]: the recordings file and the replaying/recording transport.
//! - [`build`]: compiling a plugin crate to a component.
//! - [`golden`]: golden files with `BLESS=1`.
//! - [`payload_fixtures`]: a channel plugin's golden payload fixtures, run
//!   natively through its mapping.
//! - [`fake_provider`]: a SaaS provider's API on loopback, answering the
//!   requests the host sends for a plugin, and [`fake_provider::deliver`],
//!   one outbound message rendered, prepared, sent and interpreted.
//! - [`samples`]: generated inputs too large to check in (a 25 MB email).
//! - [`plugin_manifest`]: the crate's `plugin.toml`, checked against `describe`.
//! - [`manifest`] and [`contract`]: the host's own manifest parser and contract types.

pub mod build;
mod error;
pub mod fake_provider;
pub mod golden;
mod harness;
pub mod payload_fixtures;
pub mod plugin_manifest;
pub mod recording;
pub mod samples;

pub use error::{Error, Result};
pub use harness::{Harness, PluginUnderTest, TEST_CHANNEL_ACCOUNT, TEST_RECEIVED_AT};
pub use silta_runtime::contract;
pub use silta_runtime::manifest;
