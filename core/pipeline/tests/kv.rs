//! Plugin key-value state kept in the SQLite store.

use std::sync::Arc;

use silta_pipeline::kv::StoreKv;
use silta_runtime::capabilities::kv::KvStore;
use silta_runtime::manifest::PluginId;
use silta_store::Store;
use silta_store::sqlite::{SqliteOptions, SqliteStore};

#[tokio::test]
async fn plugin_state_is_namespaced_durable_and_measured() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("silta.db");
    let a = PluginId::new("plugin-a").map_err(anyhow::Error::msg)?;
    let b = PluginId::new("plugin-b").map_err(anyhow::Error::msg)?;
    {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&path, &SqliteOptions::default()).await?);
        let kv = StoreKv::new(store);
        kv.set(&a, "cursor/1", b"42").await?;
        kv.set(&a, "cursor/2", b"43").await?;
        kv.set(&a, "other", b"x").await?;
        kv.set(&b, "cursor/1", b"b's own").await?;
        kv.set(&a, "cursor/2", b"44").await?;
        kv.delete(&a, "other").await?;
        kv.delete(&a, "never-set").await?;
    }
    // Reopened: everything written before is there.
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&path, &SqliteOptions::default()).await?);
    let kv = StoreKv::new(store);
    assert_eq!(kv.get(&a, "cursor/1").await?, Some(b"42".to_vec()));
    assert_eq!(kv.get(&a, "cursor/2").await?, Some(b"44".to_vec()));
    assert_eq!(kv.get(&a, "other").await?, None);
    assert_eq!(kv.get(&b, "cursor/1").await?, Some(b"b's own".to_vec()));
    assert_eq!(
        kv.list_keys(&a, "cursor/", 10).await?,
        vec!["cursor/1", "cursor/2"]
    );
    assert_eq!(kv.list_keys(&a, "cursor/", 1).await?, vec!["cursor/1"]);
    assert_eq!(kv.usage_bytes(&a).await?, (8 + 2) * 2);
    Ok(())
}
