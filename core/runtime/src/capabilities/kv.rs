//! `silta:connector/kv`: per-plugin key-value state behind a [`KvStore`].
//!
//! Keys are namespaced by plugin id, so a plugin sees only its own keys.
//! Quotas are checked here, before the store is touched. The embedded store
//! (SQLite) implements [`KvStore`] in the pipeline; [`MemoryKvStore`] serves
//! tests and `silta plugin test`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::bindings::silta::connector::kv::{Host, KvError};
use crate::manifest::{Capability, PluginId};
use crate::state::PluginState;

/// Size limits on a plugin's state.
#[derive(Debug, Clone, Copy)]
pub struct KvQuota {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Keys plus values of one plugin, in bytes.
    pub max_total_bytes: u64,
}

impl Default for KvQuota {
    fn default() -> Self {
        Self {
            max_key_bytes: 512,
            max_value_bytes: 256 * 1024,
            max_total_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KvStoreError {
    /// The backend is unavailable; the plugin may retry.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
}

/// Where plugin state lives.
#[async_trait::async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// Read a value.
    async fn get(&self, plugin: &PluginId, key: &str) -> Result<Option<Vec<u8>>, KvStoreError>;
    /// Write a value; returns nothing.
    async fn set(&self, plugin: &PluginId, key: &str, value: &[u8]) -> Result<(), KvStoreError>;
    /// Delete a key (absent keys are fine).
    async fn delete(&self, plugin: &PluginId, key: &str) -> Result<(), KvStoreError>;
    /// Keys with a prefix, in order.
    async fn list_keys(
        &self,
        plugin: &PluginId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, KvStoreError>;
    /// Bytes of keys plus values the plugin holds.
    async fn usage_bytes(&self, plugin: &PluginId) -> Result<u64, KvStoreError>;
}

/// An in-memory [`KvStore`].
#[derive(Default)]
pub struct MemoryKvStore {
    data: Mutex<BTreeMap<(PluginId, String), Vec<u8>>>,
}

impl MemoryKvStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(PluginId, String), Vec<u8>>> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl KvStore for MemoryKvStore {
    async fn get(&self, plugin: &PluginId, key: &str) -> Result<Option<Vec<u8>>, KvStoreError> {
        Ok(self.lock().get(&(plugin.clone(), key.to_string())).cloned())
    }

    async fn set(&self, plugin: &PluginId, key: &str, value: &[u8]) -> Result<(), KvStoreError> {
        self.lock()
            .insert((plugin.clone(), key.to_string()), value.to_vec());
        Ok(())
    }

    async fn delete(&self, plugin: &PluginId, key: &str) -> Result<(), KvStoreError> {
        self.lock().remove(&(plugin.clone(), key.to_string()));
        Ok(())
    }

    async fn list_keys(
        &self,
        plugin: &PluginId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, KvStoreError> {
        Ok(self
            .lock()
            .range((plugin.clone(), prefix.to_string())..)
            .take_while(|((p, k), _)| p == plugin && k.starts_with(prefix))
            .take(limit)
            .map(|((_, k), _)| k.clone())
            .collect())
    }

    async fn usage_bytes(&self, plugin: &PluginId) -> Result<u64, KvStoreError> {
        Ok(self
            .lock()
            .iter()
            .filter(|((p, _), _)| p == plugin)
            .map(|((_, k), v)| (k.len() + v.len()) as u64)
            .sum())
    }
}

impl PluginState {
    fn kv_allowed(&self) -> Result<(), KvError> {
        if self.shared.policy.allows(Capability::Kv) {
            Ok(())
        } else {
            Err(KvError::Denied)
        }
    }

    fn check_key(&self, key: &str) -> Result<(), KvError> {
        let max = self.shared.kv_quota.max_key_bytes;
        if key.is_empty() || key.len() > max {
            return Err(KvError::QuotaExceeded(format!(
                "key must be 1 to {max} bytes, got {}",
                key.len()
            )));
        }
        Ok(())
    }
}

fn unavailable(e: KvStoreError) -> KvError {
    KvError::Unavailable(e.to_string())
}

impl Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, KvError>> {
        if let Err(e) = self.kv_allowed().and_then(|_| self.check_key(&key)) {
            return Ok(Err(e));
        }
        let shared = self.shared.clone();
        Ok(shared.kv.get(&shared.id, &key).await.map_err(unavailable))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), KvError>> {
        if let Err(e) = self.kv_allowed().and_then(|_| self.check_key(&key)) {
            return Ok(Err(e));
        }
        let shared = self.shared.clone();
        let quota = shared.kv_quota;
        if value.len() > quota.max_value_bytes {
            return Ok(Err(KvError::QuotaExceeded(format!(
                "value of {} bytes is over the {} byte limit",
                value.len(),
                quota.max_value_bytes
            ))));
        }
        let result = async {
            let used = shared.kv.usage_bytes(&shared.id).await?;
            let old = shared
                .kv
                .get(&shared.id, &key)
                .await?
                .map_or(0, |v| (v.len() + key.len()) as u64);
            let after = used - old.min(used) + (key.len() + value.len()) as u64;
            if after > quota.max_total_bytes {
                return Ok(Err(KvError::QuotaExceeded(format!(
                    "state would grow to {after} bytes, over the {} byte limit",
                    quota.max_total_bytes
                ))));
            }
            shared.kv.set(&shared.id, &key, &value).await?;
            Ok(Ok(()))
        }
        .await;
        Ok(result.unwrap_or_else(|e| Err(unavailable(e))))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), KvError>> {
        if let Err(e) = self.kv_allowed().and_then(|_| self.check_key(&key)) {
            return Ok(Err(e));
        }
        let shared = self.shared.clone();
        Ok(shared
            .kv
            .delete(&shared.id, &key)
            .await
            .map_err(unavailable))
    }

    async fn list_keys(
        &mut self,
        prefix: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, KvError>> {
        if let Err(e) = self.kv_allowed() {
            return Ok(Err(e));
        }
        let shared = self.shared.clone();
        let limit = (limit as usize).min(10_000);
        Ok(shared
            .kv
            .list_keys(&shared.id, &prefix, limit)
            .await
            .map_err(unavailable))
    }
}
