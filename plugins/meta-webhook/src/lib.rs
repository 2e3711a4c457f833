//! What Meta's messaging platforms share, for the channel plugins built on
//! them (`whatsapp`, `messenger`): one copy of the code that must behave
//! the same everywhere.
//!
//! - [`signature`]: the `X-Hub-Signature-256: sha256=<hex>` check of every
//!   webhook, keyed with the app secret (secret `app-secret`);
//! - [`graph_api`]: where the Graph API is (`graph_url`, `api_version`);
//! - [`graph_error`]: the Graph API's error body
//!   (`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`),
//!   read and described the same way by every plugin;
//! - [`window`]: the marks behind the messaging windows (when each customer
//!   last wrote, in the plugin's key-value state, never moved back by a
//!   replay); each plugin keeps its own keys, durations and policies.
//!
//! A library, not a plugin: it has no `plugin.toml` and is linked into the
//! plugins' components.

pub mod graph_api;
pub mod graph_error;
pub mod signature;
pub mod window;

pub use graph_error::GraphError;
