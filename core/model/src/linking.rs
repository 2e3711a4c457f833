//! Why an interaction sits where it does, and whether its back-office
//! background has arrived.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::identity_key::IdentityKey;
use crate::thread_key::ThreadKey;

/// The decisions that placed an interaction: its party, conversation and
/// case, each with the rule that decided and what it matched. Written once,
/// when the interaction is linked; `GET /v1/interactions/{id}/explain`
/// shows it beside any merge that moved the interaction since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkingExplanation {
    /// How the sender's party was found or created.
    pub party: LinkDecision,
    /// How the conversation was found or started.
    pub conversation: LinkDecision,
    /// How the case was found or opened.
    pub case: LinkDecision,
}

/// One linking decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkDecision {
    /// The rule that decided (`"known-identity"`,
    /// `"attested-identity-match"`, `"thread-key"`, `"open-case-of-party"`).
    pub rule: String,
    /// The identity the decision rests on, when it rests on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityKey>,
    /// The thread key that matched, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_key: Option<ThreadKey>,
    /// The decision in words, for people.
    pub detail: String,
}

/// Where an interaction's back-office enrichment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum Enrichment {
    /// Back-office lookups for it are queued or being retried.
    Pending,
    /// Every configured back office has answered.
    Done,
    /// A back office refused for good; the reason says why.
    Failed {
        /// The plugin and its error.
        reason: String,
    },
}
