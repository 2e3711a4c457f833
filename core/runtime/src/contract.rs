//! The host-side view of the plugin contract: what goes into and comes out
//! of plugin calls, in terms of the common contact format.
//!
//! These are plain Rust types; [`crate::conversions`] is the only place that
//! maps them to and from the WIT-generated types.

use std::collections::BTreeMap;
use std::time::Duration;

use silta_model::{
    BackofficeLink, ChannelAccountId, ContentHash, DeliveryState, DeliveryUpdate, EmailHeaders,
    Identity, Interaction, InteractionId, Part, ThreadKey, Timestamp,
};

/// How a raw event reached the host.
#[derive(Debug, Clone, PartialEq)]
pub enum TransportMeta {
    /// An HTTP request (webhook).
    Http {
        /// Method.
        method: String,
        /// Path.
        path: String,
        /// Query string without `?`.
        query: Option<String>,
        /// Headers with lowercase names.
        headers: Vec<(String, String)>,
    },
    /// A message fetched over IMAP.
    Imap {
        /// Mailbox name.
        mailbox: String,
        /// UIDVALIDITY of the mailbox.
        uid_validity: u32,
        /// UID of the message.
        uid: u32,
        /// Flags at fetch time.
        flags: Vec<String>,
    },
    /// Anything else, as name/value pairs.
    Other(Vec<(String, String)>),
}

/// A raw inbound event exactly as the transport received it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEvent {
    /// Our channel account that received it.
    pub channel_account: ChannelAccountId,
    /// When it was received.
    pub received_at: Timestamp,
    /// Transport metadata.
    pub transport: TransportMeta,
    /// The raw bytes.
    pub body: Vec<u8>,
}

/// An interaction as normalized from a plugin, before the pipeline links it
/// to a party, conversation and case.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizedInteraction {
    /// The interaction, with id, provenance and idempotency key filled in.
    pub interaction: Interaction,
    /// The sender, normalized.
    pub sender: Identity,
    /// The recipients, normalized.
    pub recipients: Vec<Identity>,
    /// Inline attachment bytes by content hash, for the blob store.
    pub blobs: Vec<(ContentHash, Vec<u8>)>,
}

/// One thing a raw event contained.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalized {
    /// A message, note, event or call.
    Interaction(Box<NormalizedInteraction>),
    /// A provider's report about a message we sent.
    DeliveryUpdate(DeliveryUpdate),
}

/// An outbound message for a channel plugin to render. Serializable: the
/// outbox keeps it as JSON until it is sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutboundMessage {
    /// Our channel account that sends it.
    pub channel_account: String,
    /// The interaction id the host assigned.
    pub interaction_id: InteractionId,
    /// Who receives it.
    pub recipient: Identity,
    /// Who it is from, when the channel shows a sender.
    pub sender: Option<Identity>,
    /// Subject, for channels that have one.
    pub subject: Option<String>,
    /// Ordered content.
    pub parts: Vec<Part>,
    /// Thread keys of the conversation it continues; empty for a new thread.
    pub thread_keys: Vec<ThreadKey>,
    /// The provider message id being replied to.
    pub reply_to_provider_message_id: Option<String>,
    /// Email headers of the message being replied to.
    pub reply_to_email: Option<EmailHeaders>,
    /// Token to embed so the answer threads back.
    pub reply_token: String,
}

/// The bytes of an outbound message's attachments, by content hash. The
/// host reads them from its blob store and hands them to `render` inside
/// the attachment parts, so a plugin never fetches them itself.
pub type AttachmentBytes = std::collections::BTreeMap<ContentHash, Vec<u8>>;

/// An HTTP request for the host to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers (values may hold secret placeholders until sent).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// A complete RFC 5322 message and its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRequest {
    /// SMTP MAIL FROM.
    pub envelope_from: String,
    /// SMTP RCPT TO.
    pub envelope_to: Vec<String>,
    /// The message's Message-ID.
    pub message_id: String,
    /// The message bytes.
    pub raw: Vec<u8>,
}

/// What a rendered outbound message asks the transport to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportRequest {
    /// Send an HTTP request.
    Http(HttpRequest),
    /// Send an email.
    Email(EmailRequest),
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// The transport's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportResponse {
    /// HTTP response.
    Http(HttpResponse),
    /// SMTP reply code and text.
    Smtp {
        /// Reply code.
        code: u16,
        /// Reply text.
        text: String,
    },
}

/// What a transport response means for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// New delivery state.
    pub state: DeliveryState,
    /// The provider's id for the sent message.
    pub provider_message_id: Option<String>,
    /// The provider's own code.
    pub provider_code: Option<String>,
    /// Detail text.
    pub detail: Option<String>,
}

/// What a back-office system knows about a party.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Background {
    /// Name the system holds.
    pub display_name: Option<String>,
    /// Further identities (normalized).
    pub identities: Vec<Identity>,
    /// Records, with snapshots.
    pub links: Vec<BackofficeLink>,
    /// Other attributes.
    pub attributes: BTreeMap<String, String>,
}

/// Interaction direction, for activities.
pub use silta_model::Direction;

/// An interaction to record as an activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The interaction.
    pub interaction_id: InteractionId,
    /// Its case, if any.
    pub case_id: Option<String>,
    /// The party's records in that system.
    pub party_links: Vec<BackofficeLink>,
    /// Direction.
    pub direction: Direction,
    /// Channel name (`"email"`).
    pub channel: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Subject.
    pub subject: Option<String>,
    /// Plain text.
    pub text: String,
}

/// A ticket to create or update.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// The remote id when updating.
    pub remote_id: Option<String>,
    /// Our case.
    pub case_id: String,
    /// The party's records in that system.
    pub party_links: Vec<BackofficeLink>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: String,
    /// Priority.
    pub priority: Option<String>,
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PluginInfo {
    /// Id (must match the manifest).
    pub id: String,
    /// Version (must match the manifest).
    pub version: String,
    /// Human name.
    pub name: String,
    /// One paragraph.
    pub description: String,
    /// Identity kinds it produces or needs.
    pub identity_kinds: Vec<String>,
}

/// An error a plugin returned as a value. The host acts on the kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// Try again later.
    #[error("retryable: {message}")]
    Retryable {
        /// What happened.
        message: String,
        /// The provider's hint.
        retry_after: Option<Duration>,
    },
    /// Will not succeed if retried unchanged.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The input is malformed.
    #[error("bad input: {0}")]
    BadInput(String),
    /// Signature or credentials refused.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
}

impl PluginError {
    /// A short name of the kind, for metrics and dead-letter reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::Retryable { .. } => "retryable",
            PluginError::Permanent(_) => "permanent",
            PluginError::BadInput(_) => "bad_input",
            PluginError::Unauthorized(_) => "unauthorized",
        }
    }
}
