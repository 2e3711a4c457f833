//! Per-plugin key-value state that outlives a call (cursors, tokens,
//! dedup marks).
//!
//! Keys are private to the plugin; the host enforces size quotas. Needs the
//! `kv` capability. In a native build there is no host and every call
//! returns [`KvError::Denied`].

use crate::types::PluginError;

/// Why a key-value call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The `kv` capability was not requested in the manifest or not granted
    /// by the operator.
    #[error("key-value state is not granted; add \"kv\" to the manifest's capabilities")]
    Denied,
    /// A key, value or total quota was exceeded; the text says which.
    #[error("key-value quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The store failed; the call may succeed later.
    #[error("key-value store unavailable: {0}")]
    Unavailable(String),
}

/// Result with [`KvError`].
pub type Result<T, E = KvError> = std::result::Result<T, E>;

/// `Denied` and `QuotaExceeded` are permanent (configuration must change);
/// `Unavailable` is retryable.
impl From<KvError> for PluginError {
    fn from(error: KvError) -> Self {
        match error {
            KvError::Unavailable(_) => PluginError::retryable(error.to_string()),
            KvError::Denied | KvError::QuotaExceeded(_) => {
                PluginError::Permanent(error.to_string())
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod host {
    pub use crate::bindings::base::silta::connector::kv::*;

    impl From<KvError> for super::KvError {
        fn from(error: KvError) -> Self {
            match error {
                KvError::Denied => Self::Denied,
                KvError::QuotaExceeded(which) => Self::QuotaExceeded(which),
                KvError::Unavailable(why) => Self::Unavailable(why),
            }
        }
    }
}

/// The value stored under `key`, if any.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    #[cfg(target_arch = "wasm32")]
    {
        host::get(key).map_err(Into::into)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        Err(KvError::Denied)
    }
}

/// Stores `value` under `key`, replacing what was there.
pub fn set(key: &str, value: &[u8]) -> Result<()> {
    #[cfg(target_arch = "wasm32")]
    {
        host::set(key, value).map_err(Into::into)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (key, value);
        Err(KvError::Denied)
    }
}

/// Removes `key`; removing a missing key is not an error.
pub fn delete(key: &str) -> Result<()> {
    #[cfg(target_arch = "wasm32")]
    {
        host::delete(key).map_err(Into::into)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        Err(KvError::Denied)
    }
}

/// Keys that start with `prefix`, in order, at most `limit` of them.
pub fn list_keys(prefix: &str, limit: u32) -> Result<Vec<String>> {
    #[cfg(target_arch = "wasm32")]
    {
        host::list_keys(prefix, limit).map_err(Into::into)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (prefix, limit);
        Err(KvError::Denied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_builds_are_denied_and_errors_map_to_plugin_errors() {
        assert_eq!(get("k"), Err(KvError::Denied));
        assert_eq!(set("k", b"v"), Err(KvError::Denied));
        assert_eq!(PluginError::from(KvError::Denied).kind(), "permanent");
        assert_eq!(
            PluginError::from(KvError::Unavailable("disk".into())).kind(),
            "retryable"
        );
    }
}
