//! `silta:connector/log`: plugin logs go into the host's `tracing`, tagged
//! with the plugin id. Without the capability the call is a no-op, so a
//! plugin never fails because logging was not granted.

use crate::bindings::silta::connector::log::{Host, Level};
use crate::manifest::Capability;
use crate::state::PluginState;

/// Longest message kept; the rest is cut so a plugin cannot flood the log.
const MAX_MESSAGE_BYTES: usize = 4096;

impl Host for PluginState {
    async fn log(
        &mut self,
        level: Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        if !self.shared.policy.allows(Capability::Log) {
            return Ok(());
        }
        let plugin = self.shared.id.as_str();
        let message = truncate(&message, MAX_MESSAGE_BYTES);
        let fields = fields
            .iter()
            .take(32)
            .map(|(k, v)| format!("{k}={}", truncate(v, 256)))
            .collect::<Vec<_>>()
            .join(" ");
        match level {
            Level::Trace => tracing::trace!(target: "silta::plugin", plugin, %fields, "{message}"),
            Level::Debug => tracing::debug!(target: "silta::plugin", plugin, %fields, "{message}"),
            Level::Info => tracing::info!(target: "silta::plugin", plugin, %fields, "{message}"),
            Level::Warn => tracing::warn!(target: "silta::plugin", plugin, %fields, "{message}"),
            Level::Error => tracing::error!(target: "silta::plugin", plugin, %fields, "{message}"),
        }
        Ok(())
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
