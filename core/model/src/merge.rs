//! Merge records: parties are merged by record, never by delete.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::{
    AgentId, CaseId, ConversationId, IdentityId, InteractionId, LinkId, MergeId, PartyId,
};
use crate::identity_key::IdentityKey;
use crate::party::Party;
use crate::time::Timestamp;

/// A merge of parties into a survivor, with enough detail to undo it.
///
/// Auto-merges happen only when both sides carry attested assurance;
/// anything weaker is raised as a conflict for a person to decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRecord {
    /// The record's id.
    pub id: MergeId,
    /// The party that remains.
    pub survivor: PartyId,
    /// The parties merged into the survivor.
    pub merged: Vec<PartyId>,
    /// What moved to the survivor, per merged party; an unmerge moves
    /// exactly these back.
    pub moved: Vec<PartyRecords>,
    /// The survivor as it was before the merge, so that unmerging puts
    /// back the fields the merge decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survivor_before: Option<Party>,
    /// For each field that differed, which party's value was kept.
    pub field_decisions: Vec<FieldDecision>,
    /// Why the parties are the same.
    pub evidence: Vec<MergeEvidence>,
    /// The rule that decided (`"attested-identity-match"`, `"manual"`).
    pub rule: String,
    /// Who decided.
    pub decided_by: MergeDecider,
    /// When the merge happened.
    pub at: Timestamp,
    /// When the merge was undone, if it was.
    pub reverted_at: Option<Timestamp>,
}

// === impl MergeRecord ===

impl MergeRecord {
    /// True once the merge has been undone.
    #[must_use]
    pub fn is_reverted(&self) -> bool {
        self.reverted_at.is_some()
    }
}

/// Records of one party, by id: what a merge moved from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyRecords {
    /// The party they belonged to.
    pub party: Option<PartyId>,
    /// Identities.
    pub identities: Vec<IdentityId>,
    /// Conversations.
    pub conversations: Vec<ConversationId>,
    /// Interactions.
    pub interactions: Vec<InteractionId>,
    /// Cases.
    pub cases: Vec<CaseId>,
    /// Back-office links.
    pub links: Vec<LinkId>,
}

/// Which party's value a field kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDecision {
    /// The field (`"display_name"`, `"attributes.tier"`).
    pub field: String,
    /// The party whose value was kept.
    pub kept_from: PartyId,
    /// Why, when it was not the default rule.
    pub reason: Option<String>,
}

/// One reason to believe two parties are the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeEvidence {
    /// The identity both parties share, when the evidence is one.
    pub identity: Option<IdentityKey>,
    /// What was observed, for people.
    pub description: String,
}

/// Who decided a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MergeDecider {
    /// A rule, without a person.
    Automatic,
    /// An agent.
    Agent(AgentId),
}
