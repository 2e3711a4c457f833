//! Channel accounts: our endpoints.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::ChannelAccountId;

/// One of our endpoints on a channel: a mailbox, a WhatsApp number, a bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelAccount {
    /// The account's id.
    pub id: ChannelAccountId,
    /// A name for people (`"Support mailbox"`).
    pub name: String,
    /// The kind of channel (`"email"`, `"whatsapp"`, `"webhook"`).
    pub channel: String,
    /// The plugin that speaks to the provider.
    pub plugin_id: String,
    /// The address customers use (`"support@example.fi"`, `"+358401234567"`).
    pub address: Option<String>,
    /// How fast we may send, when the provider limits it.
    pub limits: Option<RateLimit>,
}

/// A token-bucket rate limit on sending.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained messages per second (may be below one: 0.5 is one every
    /// two seconds).
    pub per_second: f64,
    /// Messages that may go at once before the rate applies.
    pub burst: u32,
}
