//! Cases: the matters we handle, across channels.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::backoffice::BackofficeLink;
use crate::id::{CaseId, ChannelAccountId, ConversationId, PartyId};
use crate::sla::SlaClock;
use crate::time::Timestamp;

/// A matter for a party, spanning conversations on any channel. Owns the
/// SLA clock and the link to the back-office ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The case's id.
    pub id: CaseId,
    /// The party the case is about.
    pub party_id: PartyId,
    /// Where the case stands.
    pub status: CaseStatus,
    /// A short title.
    pub subject: Option<String>,
    /// When the case was opened.
    pub opened_at: Timestamp,
    /// When the case was closed.
    pub closed_at: Option<Timestamp>,
    /// Deadlines, when a policy applies.
    pub sla: Option<SlaClock>,
    /// The ticket in the back office, when there is one.
    pub backoffice_ticket: Option<BackofficeLink>,
    /// Conversations that belong to the case.
    pub conversation_ids: Vec<ConversationId>,
    /// When a message last came in or went out on the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<Timestamp>,
    /// The channel account the customer wrote on last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_inbound_channel: Option<ChannelAccountId>,
    /// The channel account we answered on last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_outbound_channel: Option<ChannelAccountId>,
}

// === impl Case ===

impl Case {
    /// A new open case of `party`, opened at `at`, with no conversations
    /// yet.
    #[must_use]
    pub fn open(party: PartyId, subject: Option<String>, at: Timestamp) -> Self {
        Self {
            id: CaseId::new(),
            party_id: party,
            status: CaseStatus::Open,
            subject,
            opened_at: at,
            closed_at: None,
            sla: None,
            backoffice_ticket: None,
            conversation_ids: Vec::new(),
            last_activity_at: None,
            last_inbound_channel: None,
            last_outbound_channel: None,
        }
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Waiting for us.
    Open,
    /// Waiting for the customer or a third party.
    Pending,
    /// We consider it done; the customer may still reopen it.
    Resolved,
    /// Done for good.
    Closed,
}

// === impl CaseStatus ===

impl CaseStatus {
    /// The status as JSON writes it (`"open"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Pending => "pending",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Closed => "closed",
        }
    }
}
