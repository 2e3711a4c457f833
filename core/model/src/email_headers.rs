//! Email headers that matter for threading and display.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::identity_key::IdentityKey;

/// RFC 5322 headers that matter for threading and display. Message ids
/// keep their angle brackets (`<abc@example.fi>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailHeaders {
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// `In-Reply-To`, usually one id.
    pub in_reply_to: Vec<String>,
    /// `References`, oldest first.
    pub references: Vec<String>,
    /// `Subject`, decoded.
    pub subject: Option<String>,
    /// `Auto-Submitted` (RFC 3834); anything but `no` means a machine sent
    /// it, so we must not auto-reply.
    pub auto_submitted: Option<String>,
    /// `Reply-To`: where answers go, when not to the sender. A reply from
    /// Silta goes to the first of these. (Absent in records stored before
    /// it existed, which read as empty.)
    #[serde(default)]
    pub reply_to: Vec<IdentityKey>,
}

// === impl EmailHeaders ===

impl EmailHeaders {
    /// Where an answer to this message goes: the first `Reply-To`, if any.
    #[must_use]
    pub fn answer_to(&self) -> Option<&IdentityKey> {
        self.reply_to.first()
    }

    /// True when `Auto-Submitted` says a machine sent the message.
    #[must_use]
    pub fn is_auto_submitted(&self) -> bool {
        self.auto_submitted
            .as_deref()
            .is_some_and(|value| !value.trim().eq_ignore_ascii_case("no"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_submitted() {
        let mut headers = EmailHeaders::default();
        assert!(!headers.is_auto_submitted());
        headers.auto_submitted = Some("No".into());
        assert!(!headers.is_auto_submitted());
        headers.auto_submitted = Some("auto-replied".into());
        assert!(headers.is_auto_submitted());
    }
}
