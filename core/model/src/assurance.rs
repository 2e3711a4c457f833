//! How sure we are that a party controls an identity.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How sure we are that the party controls the identity, weakest first.
///
/// The order matters: merges are automatic only when both sides are
/// attested ([`is_attested`](Assurance::is_attested)), and a stronger
/// assurance replaces a weaker one. Mirrors the WIT `assurance`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// Nothing backs it (typed into a form).
    Unverified,
    /// The channel says so but does not prove it (an email `From`).
    ChannelAsserted,
    /// The channel proves it (a WhatsApp number, a Telegram user id).
    ChannelAttested,
    /// Signed by the customer's own site with a shared secret.
    HmacVerified,
    /// Checked by a person.
    AgentVerified,
}

// === impl Assurance ===

impl Assurance {
    /// True from [`ChannelAttested`](Assurance::ChannelAttested) up: strong
    /// enough to link parties without a person deciding.
    #[must_use]
    pub fn is_attested(self) -> bool {
        self >= Assurance::ChannelAttested
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_attestation() {
        assert!(Assurance::Unverified < Assurance::ChannelAsserted);
        assert!(Assurance::ChannelAsserted < Assurance::ChannelAttested);
        assert!(Assurance::ChannelAttested < Assurance::HmacVerified);
        assert!(Assurance::HmacVerified < Assurance::AgentVerified);
        assert!(!Assurance::Unverified.is_attested());
        assert!(!Assurance::ChannelAsserted.is_attested());
        assert!(Assurance::ChannelAttested.is_attested());
        assert!(Assurance::HmacVerified.is_attested());
        assert!(Assurance::AgentVerified.is_attested());
    }

    #[test]
    fn json_form() {
        assert_eq!(
            serde_json::to_string(&Assurance::HmacVerified).expect("serialize"),
            "\"hmac_verified\""
        );
    }
}
