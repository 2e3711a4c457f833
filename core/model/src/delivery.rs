//! Delivery of the messages we send.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Where a sent message is. Mirrors the WIT `delivery-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting to be handed to the provider.
    Queued,
    /// The provider accepted it.
    Sent,
    /// It reached the recipient's device or mailbox.
    Delivered,
    /// The recipient read it.
    Read,
    /// Sending failed.
    Failed,
    /// The recipient's side refused it after acceptance (a DSN).
    Bounced,
}

// === impl DeliveryState ===

impl DeliveryState {
    /// True for states after which nothing more is expected to happen.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Read | DeliveryState::Failed | DeliveryState::Bounced
        )
    }
}

/// One step in a sent message's delivery history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryEvent {
    /// The state reached.
    pub state: DeliveryState,
    /// The provider's own code (`"131047"`, `"5.1.1"`).
    pub provider_code: Option<String>,
    /// The provider's explanation.
    pub detail: Option<String>,
    /// When the state was reached.
    pub at: Timestamp,
    /// Which sending attempt this is about, from 1.
    pub attempt: u32,
    /// The provider's id for the message, on the step where the provider
    /// took it (`sent`): what its console and status callbacks call it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
}

/// A provider's report about a message we sent (a status callback, a DSN).
/// Mirrors the WIT `delivery-update`; its `occurred-at` is `at` here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryUpdate {
    /// The provider's id of the message the report is about.
    pub provider_message_id: String,
    /// The state reported.
    pub state: DeliveryState,
    /// The provider's own code.
    pub provider_code: Option<String>,
    /// The provider's explanation.
    pub detail: Option<String>,
    /// When the state was reached.
    pub at: Timestamp,
}
