//! `silta:connector/config`: read-only operator settings for the plugin.
//! Without the capability every key reads as absent.

use crate::bindings::silta::connector::config::Host;
use crate::state::PluginState;

impl Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .shared
            .policy
            .config()
            .and_then(|c| c.get(&key).cloned()))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self
            .shared
            .policy
            .config()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }
}
