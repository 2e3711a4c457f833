//! What the store keeps besides the contact format's own records.

use serde::{Deserialize, Serialize};
use silta_model::{ChannelAccountId, Timestamp};

/// A raw inbound event to journal.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJournalEntry {
    /// The channel account that received it.
    pub channel_account: ChannelAccountId,
    /// When it was received.
    pub received_at: Timestamp,
    /// How it arrived (method, path, headers; mailbox and UID), as the
    /// pipeline describes it.
    pub transport: serde_json::Value,
    /// The raw bytes.
    pub body: Vec<u8>,
}

/// Where a journal entry is in processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalState {
    /// Accepted, not yet processed (or processing was interrupted).
    Pending,
    /// Processed; everything it produced is stored.
    Done,
    /// Processing failed; a dead letter says why.
    Dead,
}

impl JournalState {
    /// The name stored in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            JournalState::Pending => "pending",
            JournalState::Done => "done",
            JournalState::Dead => "dead",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(JournalState::Pending),
            "done" => Some(JournalState::Done),
            "dead" => Some(JournalState::Dead),
            _ => None,
        }
    }
}

/// A journaled raw inbound event.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// Position in the journal; the order of acceptance.
    pub seq: i64,
    /// The entry as accepted.
    pub entry: NewJournalEntry,
    /// Processing state.
    pub state: JournalState,
}

/// A channel account as registered in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelAccountRecord {
    /// The operator's name for it (the `{channel_account}` of the ingest URL).
    pub name: String,
    /// Its id, made once and kept, so idempotency keys stay stable.
    pub id: ChannelAccountId,
    /// The plugin serving it.
    pub plugin: String,
}

/// Which side of the pipeline a dead letter comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterSource {
    /// A journaled inbound event.
    Inbound,
    /// An outbox message.
    Outbound,
}

impl DeadLetterSource {
    /// The name stored in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterSource::Inbound => "inbound",
            DeadLetterSource::Outbound => "outbound",
        }
    }
}

/// A failure to record in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeadLetter {
    /// Inbound or outbound.
    pub source: DeadLetterSource,
    /// The journal entry, for inbound.
    pub journal_seq: Option<i64>,
    /// The outbox item, for outbound.
    pub outbox_id: Option<i64>,
    /// The channel account.
    pub channel_account: ChannelAccountId,
    /// The plugin that failed (or `"silta"` for the core's own stages).
    pub plugin: String,
    /// The stage that failed (`normalize`, `link`, `render`, `send`).
    pub stage: String,
    /// The error kind (`bad_input`, `trapped`, `deadline_exceeded`...).
    pub error_kind: String,
    /// The error message.
    pub message: String,
    /// When it failed.
    pub at: Timestamp,
}

/// An entry of the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Its id.
    pub id: i64,
    /// What failed.
    #[serde(flatten)]
    pub failure: NewDeadLetter,
    /// How many times it failed (replays that failed again add one).
    pub attempts: u32,
    /// When it first failed.
    pub first_failed_at: Timestamp,
}

/// Which dead letters to list or replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterFilter {
    /// Only this one.
    pub id: Option<i64>,
    /// Only from this plugin.
    pub plugin: Option<String>,
    /// Only this stage.
    pub stage: Option<String>,
    /// Only this error kind.
    pub error_kind: Option<String>,
    /// At most this many (oldest first).
    pub limit: Option<u32>,
}

/// An outbound message waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Its id.
    pub id: i64,
    /// The interaction it sends.
    pub interaction_id: silta_model::InteractionId,
    /// The channel account sending it.
    pub channel_account: ChannelAccountId,
    /// What to render, as the pipeline describes it.
    pub payload: serde_json::Value,
    /// Sending attempts so far.
    pub attempts: u32,
    /// Not before this time (milliseconds since the Unix epoch).
    pub next_attempt_ms: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

/// What became of an outbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Sent (or finally answered by the provider).
    Done,
    /// Gave up; a dead letter says why.
    Dead,
}

impl OutboxState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Done => "done",
            OutboxState::Dead => "dead",
        }
    }
}

/// An event to publish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// CloudEvents `type` (`silta.interaction.created`).
    pub event_type: String,
    /// CloudEvents `subject` (the record's id).
    pub subject: Option<String>,
    /// The payload.
    pub data: serde_json::Value,
}

/// A published event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Position in the event log; the SSE event id.
    pub seq: i64,
    /// CloudEvents `id`, a UUIDv7.
    pub id: String,
    /// CloudEvents `type`.
    pub event_type: String,
    /// CloudEvents `subject`.
    pub subject: Option<String>,
    /// CloudEvents `time`.
    pub time: Timestamp,
    /// The payload.
    pub data: serde_json::Value,
}

/// A webhook subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    /// Its id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The HMAC key the POSTs are signed with.
    pub secret: String,
    /// Event types it wants; empty means all.
    pub types: Vec<String>,
    /// The last event seq it acknowledged.
    pub cursor: i64,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Sizes of the queues, for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueDepths {
    /// Journal entries not yet processed.
    pub journal_pending: i64,
    /// Outbox items waiting.
    pub outbox_pending: i64,
    /// Dead letters.
    pub dead_letters: i64,
    /// The newest event's seq.
    pub last_event_seq: i64,
}

/// Whose interactions to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractionsOf {
    /// A party's, on every channel (its timeline).
    Party(silta_model::PartyId),
    /// A conversation's.
    Conversation(silta_model::ConversationId),
    /// A case's, on every channel.
    Case(silta_model::CaseId),
}

/// A position in a sorted listing, opaque to API clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Sort key of the last item returned (milliseconds).
    pub at_ms: i64,
    /// Id of the last item returned (breaks ties).
    pub id: String,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Where a polled mailbox stands: the last UID journaled under the
/// mailbox's UIDVALIDITY (IMAP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxCheckpoint {
    /// The mailbox's UIDVALIDITY when `last_uid` was taken.
    pub uid_validity: u32,
    /// The highest UID journaled.
    pub last_uid: u32,
}

/// Back-office work for one interaction and one back-office plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrichmentJob {
    /// Its id.
    pub id: i64,
    /// The interaction it enriches.
    pub interaction_id: silta_model::InteractionId,
    /// The back-office plugin.
    pub plugin: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Not before this time (milliseconds since the Unix epoch).
    pub next_attempt_ms: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
}
