//! Plugin key-value state in the store.

use std::sync::Arc;

use silta_runtime::capabilities::kv::{KvStore, KvStoreError};
use silta_runtime::manifest::PluginId;
use silta_store::{Store, transact};

/// [`KvStore`] over the Silta store: plugin state is as durable as
/// everything else (writes share the group commit).
pub struct StoreKv {
    store: Arc<dyn Store>,
}

impl StoreKv {
    /// Plugin state in `store`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

fn unavailable(err: silta_store::StoreError) -> KvStoreError {
    KvStoreError::Unavailable(err.to_string())
}

#[async_trait::async_trait]
impl KvStore for StoreKv {
    async fn get(&self, plugin: &PluginId, key: &str) -> Result<Option<Vec<u8>>, KvStoreError> {
        self.store
            .kv_get(plugin.as_str(), key)
            .await
            .map_err(unavailable)
    }

    async fn set(&self, plugin: &PluginId, key: &str, value: &[u8]) -> Result<(), KvStoreError> {
        let (plugin, key, value) = (plugin.to_string(), key.to_owned(), value.to_vec());
        transact(&*self.store, move |tx| {
            Box::pin(async move { tx.kv_set(&plugin, &key, &value).await })
        })
        .await
        .map_err(unavailable)
    }

    async fn delete(&self, plugin: &PluginId, key: &str) -> Result<(), KvStoreError> {
        let (plugin, key) = (plugin.to_string(), key.to_owned());
        transact(&*self.store, move |tx| {
            Box::pin(async move { tx.kv_delete(&plugin, &key).await })
        })
        .await
        .map_err(unavailable)
    }

    async fn list_keys(
        &self,
        plugin: &PluginId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, KvStoreError> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.store
            .kv_keys(plugin.as_str(), prefix, limit)
            .await
            .map_err(unavailable)
    }

    async fn usage_bytes(&self, plugin: &PluginId) -> Result<u64, KvStoreError> {
        self.store
            .kv_usage(plugin.as_str())
            .await
            .map_err(unavailable)
    }
}
