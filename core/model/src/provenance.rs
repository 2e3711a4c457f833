//! Where an interaction came from.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which plugin produced an interaction from which provider data, so a
/// surprising record can be traced to its raw event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The plugin's id (`"silta.whatsapp"`).
    pub plugin_id: String,
    /// The plugin's version.
    pub plugin_version: String,
    /// The provider (`"whatsapp-cloud"`, `"imap"`).
    pub provider: String,
    /// The provider's id of the message.
    pub provider_message_id: String,
    /// Where the raw event is kept (a content hash or a storage key).
    pub raw_blob_ref: Option<String>,
}
