//! How records map to columns.

use serde::Serialize;
use serde::de::DeserializeOwned;
use silta_model::{IdentityKey, IdentityScope, Timestamp};

use crate::error::{Result, StoreError};

/// A record as its JSON document.
pub(crate) fn to_json<T: Serialize>(what: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|err| StoreError::Corrupt {
        what,
        key: String::new(),
        reason: err.to_string(),
    })
}

/// A record from its JSON document.
pub(crate) fn from_json<T: DeserializeOwned>(
    what: &'static str,
    key: &str,
    raw: &str,
) -> Result<T> {
    serde_json::from_str(raw).map_err(StoreError::corrupt(what, key))
}

/// The scope column: `global`, `channel_account:<name>`, `app:<name>`.
pub(crate) fn scope_column(scope: &IdentityScope) -> String {
    match scope {
        IdentityScope::Global => "global".to_owned(),
        IdentityScope::ChannelAccount(name) => format!("channel_account:{name}"),
        IdentityScope::App(name) => format!("app:{name}"),
    }
}

/// The (kind, scope, value) columns of an identity key.
pub(crate) fn key_columns(key: &IdentityKey) -> (String, String, String) {
    (
        key.kind().name().to_owned(),
        scope_column(key.scope()),
        key.value().to_owned(),
    )
}

/// Milliseconds since the Unix epoch, the sort key of timed records.
pub(crate) fn millis(at: &Timestamp) -> i64 {
    at.as_datetime().timestamp_millis()
}

/// A timestamp column.
pub(crate) fn parse_time(what: &'static str, raw: &str) -> Result<Timestamp> {
    Timestamp::parse_rfc3339(what, raw).map_err(|err| StoreError::Corrupt {
        what,
        key: raw.to_owned(),
        reason: err.to_string(),
    })
}
