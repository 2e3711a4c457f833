//! The operator's settings for this plugin (non-secret: endpoints, account
//! names, feature switches), from the plugin's section of the Silta config.
//!
//! Without the `config` capability every key reads as absent. In a native
//! build there is no host, and every key reads as absent too.

use crate::types::PluginError;

/// The value of `key`, if the operator set it.
#[must_use]
pub fn get(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::base::silta::connector::config::get(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        None
    }
}

/// Every key and value the operator set.
#[must_use]
pub fn get_all() -> Vec<(String, String)> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::base::silta::connector::config::get_all()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Vec::new()
    }
}

/// The value of `key`, or a permanent error telling the operator which key
/// to set (a retry cannot help until they do). Blank values count as
/// missing.
pub fn require(key: &str) -> Result<String, PluginError> {
    match get(key) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(missing(key)),
    }
}

/// The error [`require`] returns for `key`.
#[must_use]
pub fn missing(key: &str) -> PluginError {
    PluginError::Permanent(format!(
        "config key `{key}` is not set; set it in this plugin's `config` table in the Silta \
         configuration and grant the plugin the `config` capability"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_builds_have_no_config() {
        assert_eq!(get("endpoint"), None);
        assert!(get_all().is_empty());
        let error = require("endpoint").unwrap_err();
        assert_eq!(error.kind(), "permanent");
        assert!(error.message().contains("`endpoint`"), "{error:?}");
    }
}
