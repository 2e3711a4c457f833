//! Interactions: messages, notes, events and calls.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::backoffice::BackofficeLink;
use crate::delivery::DeliveryEvent;
use crate::email_headers::EmailHeaders;
use crate::id::{CaseId, ConversationId, InteractionId, PartyId};
use crate::idempotency::IdempotencyKey;
use crate::identity_key::IdentityKey;
use crate::linking::{Enrichment, LinkingExplanation};
use crate::part::Part;
use crate::provenance::Provenance;
use crate::thread_key::ThreadKey;
use crate::time::Timestamp;

/// One thing that happened with a party: a message, a note, an event or a
/// call.
///
/// Sender and recipients are [`IdentityKey`]s: they exist as soon as a
/// plugin reports the message, before the identities are looked up, and
/// they stay meaningful if the identities are later merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    /// The interaction's id.
    pub id: InteractionId,
    /// What it is.
    pub kind: InteractionKind,
    /// Which way it went.
    pub direction: Direction,
    /// Who sent it.
    pub sender_role: SenderRole,
    /// The sender's identity.
    pub sender: IdentityKey,
    /// The recipients' identities.
    pub recipients: Vec<IdentityKey>,
    /// The conversation it belongs to, once threaded.
    pub conversation_id: Option<ConversationId>,
    /// The case it belongs to, once assigned.
    pub case_id: Option<CaseId>,
    /// The party on the other side, once resolved.
    pub party_id: Option<PartyId>,
    /// The subject, where the channel has one.
    pub subject: Option<String>,
    /// The content, in order.
    pub parts: Vec<Part>,
    /// Email headers, for email.
    pub email: Option<EmailHeaders>,
    /// Keys to thread on.
    pub thread_keys: Vec<ThreadKey>,
    /// When it happened, by the provider's clock.
    pub occurred_at: Timestamp,
    /// When Silta received or created it.
    pub received_at: Timestamp,
    /// Delivery history, for outbound messages.
    pub delivery: Vec<DeliveryEvent>,
    /// Which plugin produced it from what.
    pub provenance: Provenance,
    /// The key that makes recording it idempotent. Interactions created
    /// inside Silta (notes) use provider `"silta"` and their own id.
    pub idempotency_key: IdempotencyKey,
    /// Why it was threaded into its conversation.
    pub threading_reason: Option<String>,
    /// Provider-specific facts worth keeping (`"telegram.chat_id"`).
    pub attributes: BTreeMap<String, String>,
    /// Why it was linked to its party, conversation and case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linking: Option<LinkingExplanation>,
    /// Whether its back-office enrichment has finished; absent when no
    /// back office is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Enrichment>,
    /// Back-office records made of it (a CRM activity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backoffice_links: Vec<BackofficeLink>,
}

// === impl Interaction ===

impl Interaction {
    /// The concatenated text parts, for previews and search.
    #[must_use]
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .parts
            .iter()
            .filter_map(|part| match part {
                Part::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        texts.join("\n")
    }
}

/// What an interaction is. Mirrors the WIT `interaction-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    /// A message to or from the party.
    Message,
    /// An internal note; the party never sees it.
    Note,
    /// Something that happened (joined, left, read, typing).
    Event,
    /// A phone or video call.
    Call,
}

/// Which way an interaction went. Mirrors the WIT `direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the party to us.
    Inbound,
    /// From us to the party.
    Outbound,
}

/// Who sent an interaction. Mirrors the WIT `sender-role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SenderRole {
    /// The party.
    Customer,
    /// One of our agents.
    Agent,
    /// An automated responder.
    Bot,
    /// Silta itself or the provider.
    System,
}
