//! Routing: work items and agent presence.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::{AgentId, CaseId, WorkItemId};
use crate::time::Timestamp;

/// A case waiting in a queue for an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkItem {
    /// The item's id.
    pub id: WorkItemId,
    /// The case to work on.
    pub case_id: CaseId,
    /// The queue it waits in (`"support-fi"`).
    pub queue: String,
    /// Higher is more urgent.
    pub priority: u32,
    /// When it was queued.
    pub created_at: Timestamp,
    /// The agent it is assigned to, once assigned.
    pub assigned_to: Option<AgentId>,
}

/// Whether an agent can take work, and how much per channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPresence {
    /// The agent.
    pub agent_id: AgentId,
    /// Their status.
    pub status: PresenceStatus,
    /// How many conversations they take at once, by channel (`"email"`,
    /// `"whatsapp"`).
    pub capacity: BTreeMap<String, u32>,
    /// When the status last changed.
    pub updated_at: Timestamp,
}

/// An agent's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// Taking new work.
    Available,
    /// Working, but not taking new work.
    Busy,
    /// Away for a while.
    Away,
    /// Not working.
    Offline,
}
