//! Consent and channel windows: may we write to this identity, and how.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Whether the party agreed to be contacted on an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// The party agreed.
    Granted,
    /// The party refused or withdrew.
    Denied,
    /// Nobody asked, or the answer was lost.
    Unknown,
}

/// A consent decision and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The decision.
    pub status: ConsentStatus,
    /// The legal basis or how it was given (`"web form 2026-03"`,
    /// `"contract"`).
    pub basis: Option<String>,
    /// When the decision was recorded.
    pub at: Timestamp,
}

/// A provider's window for free-form messages.
///
/// WhatsApp, for one, lets a business send free-form messages only for 24
/// hours after the customer's last message; outside it only approved
/// templates go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelWindow {
    /// Until when free-form messages are allowed; `None` when no window is
    /// open.
    pub open_until: Option<Timestamp>,
}

// === impl ChannelWindow ===

impl ChannelWindow {
    /// True when free-form messages are allowed at `now`.
    #[must_use]
    pub fn is_open_at(&self, now: Timestamp) -> bool {
        self.open_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::from_unix("t", seconds, 0).expect("in range")
    }

    #[test]
    fn window_is_open_until_its_end() {
        let window = ChannelWindow {
            open_until: Some(at(1000)),
        };
        assert!(window.is_open_at(at(999)));
        assert!(!window.is_open_at(at(1000)));
        assert!(!ChannelWindow { open_until: None }.is_open_at(at(0)));
    }
}
