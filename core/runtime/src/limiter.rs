//! The per-store memory cap.

use crate::manifest::PluginId;

/// Raised (as a trap) when a plugin asks for more memory than its cap.
#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin {plugin} asked to grow memory to {requested} bytes; its cap is {limit} bytes")]
pub struct MemoryCapHit {
    /// The plugin.
    pub plugin: PluginId,
    /// The cap.
    pub limit: usize,
    /// The size asked for.
    pub requested: usize,
}

/// Raised (as a trap) from the epoch callback when a call is past its deadline.
#[derive(Debug, Clone, thiserror::Error)]
#[error("deadline exceeded")]
pub struct DeadlineHit;

/// A [`wasmtime::ResourceLimiter`] that traps on growth past the cap.
pub struct MemoryLimiter {
    plugin: PluginId,
    limit: usize,
    /// The largest linear memory size granted so far.
    memory_bytes: usize,
    /// Tables are capped too, so a plugin cannot allocate unbounded host
    /// memory through table growth.
    max_table_elements: usize,
}

impl MemoryLimiter {
    /// A limiter for one plugin's store.
    pub fn new(plugin: PluginId, limit: usize) -> Self {
        Self {
            plugin,
            limit,
            memory_bytes: 0,
            max_table_elements: 1 << 20,
        }
    }

    /// The largest linear memory size granted so far, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(wasmtime::Error::new(MemoryCapHit {
                plugin: self.plugin.clone(),
                limit: self.limit,
                requested: desired,
            }));
        }
        self.memory_bytes = self.memory_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table_elements)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        8
    }
}
