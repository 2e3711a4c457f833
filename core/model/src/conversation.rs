//! Conversations: threads on one channel account.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::{CaseId, ChannelAccountId, ConversationId, PartyId};
use crate::thread_key::ThreadKey;
use crate::time::Timestamp;

/// A thread with a party on one of our channel accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// The conversation's id.
    pub id: ConversationId,
    /// Our endpoint the thread runs on.
    pub channel_account_id: ChannelAccountId,
    /// The party on the other side.
    pub party_id: PartyId,
    /// The case the thread belongs to, once there is one.
    pub case_id: Option<CaseId>,
    /// The keys the conversation started with (its first message's). The
    /// store also holds every key claimed later (each message's own ids,
    /// the reply tokens of Silta's replies) without copying them here, so
    /// a long conversation does not grow with every message.
    pub thread_keys: Vec<ThreadKey>,
    /// Why messages were threaded here (`"in_reply_to matched"`), for
    /// people checking a surprising thread.
    pub threading_reason: Option<String>,
    /// The subject, where the channel has one.
    pub subject: Option<String>,
    /// When the conversation started.
    pub opened_at: Timestamp,
    /// When its latest interaction happened.
    pub last_activity_at: Timestamp,
}
