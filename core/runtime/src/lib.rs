//! Silta's plugin runtime: loads sandboxed WebAssembly connector plugins
//! (components implementing `silta:connector@0.2.1`) and calls them under
//! hard limits.
//!
//! - [`Runtime`] holds the engine ([`engine`]: component model, async,
//!   epoch interruption, pooling with on-demand fallback), the linker with
//!   every host [`capabilities`] module, and the compiled-code [`cache`].
//! - [`Runtime::load`] checks a component against its [`manifest`] and the
//!   operator's [`grant`], and returns a [`Plugin`].
//! - Every [`Plugin`] call runs in a warm or fresh instance with a wall-clock
//!   deadline (covering host calls), a memory cap and an output cap, and
//!   returns [`contract`] types converted by [`conversions`]; failures are
//!   typed [`Error`]s naming the plugin and the limit.
//! - [`handshake`]: webhook subscription handshakes a manifest declares and
//!   the host answers (Meta's `hub.challenge`).
//! - [`inspect`] describes a component file for `silta plugin inspect`.

pub mod allowed_hosts;
mod bindings;
pub mod cache;
pub mod capabilities;
pub mod contract;
mod conversions;
pub mod engine;
mod error;
pub mod grant;
pub mod handshake;
pub mod inspect;
mod limiter;
pub mod manifest;
mod output_size;
mod plugin;
pub mod rate_limits;
mod runtime;
mod state;

pub use contract::PluginError;
pub use error::{Error, Result};
pub use plugin::Plugin;
pub use runtime::{PluginSource, Runtime, RuntimeOptions};
