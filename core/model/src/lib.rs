//! Silta's common contact format: parties, identities, channel accounts,
//! cases, conversations and interactions, as every part of Silta stores and
//! exchanges them.
//!
//! Plugins speak the WIT types in `sdk/wit/types.wit`; the host turns them
//! into these types, and this is where values are checked and normalized:
//! ids are UUIDv7, times RFC 3339 UTC, phone numbers E.164, languages BCP
//! 47, email domains lower case. Validating newtypes ([`EmailAddress`],
//! [`PhoneNumber`], [`Timestamp`], [`LanguageTag`], [`ContentHash`], the
//! ids) run the same checks when built in code and when read from JSON, so
//! a value of one of these types is always valid. Constructors take the
//! name of the field they read, and errors ([`ModelError`]) carry it.
//!
//! [`contact_format_schema`] publishes the format as JSON Schema; a copy is
//! checked in at `core/model/schema/contact-format.schema.json`.
//!
//! This crate has no runtime dependencies beyond serde and the validation
//! libraries, so plugins' test tools and other services can use it.

mod assurance;
mod backoffice;
mod case;
mod channel_account;
mod consent;
mod content_hash;
mod conversation;
mod delivery;
mod email;
mod email_headers;
mod error;
mod id;
mod idempotency;
mod identity;
mod identity_key;
mod identity_kind;
mod interaction;
mod language;
mod linking;
mod merge;
mod options;
mod part;
mod party;
mod phone;
mod provenance;
mod routing;
mod schema;
mod scope;
mod sla;
mod string_newtype;
mod text;
mod thread_key;
mod time;

pub use crate::assurance::Assurance;
pub use crate::backoffice::BackofficeLink;
pub use crate::case::{Case, CaseStatus};
pub use crate::channel_account::{ChannelAccount, RateLimit};
pub use crate::consent::{ChannelWindow, Consent, ConsentStatus};
pub use crate::content_hash::ContentHash;
pub use crate::conversation::Conversation;
pub use crate::delivery::{DeliveryEvent, DeliveryState, DeliveryUpdate};
pub use crate::email::EmailAddress;
pub use crate::email_headers::EmailHeaders;
pub use crate::error::{ModelError, Result};
pub use crate::id::{
    AgentId, CaseId, ChannelAccountId, ConversationId, IdentityId, InteractionId, LinkId, MergeId,
    PartyId, SlaPolicyId, WorkItemId,
};
pub use crate::idempotency::IdempotencyKey;
pub use crate::identity::Identity;
pub use crate::identity_key::IdentityKey;
pub use crate::identity_kind::IdentityKind;
pub use crate::interaction::{Direction, Interaction, InteractionKind, SenderRole};
pub use crate::language::LanguageTag;
pub use crate::linking::{Enrichment, LinkDecision, LinkingExplanation};
pub use crate::merge::{FieldDecision, MergeDecider, MergeEvidence, MergeRecord, PartyRecords};
pub use crate::options::NormalizeOptions;
pub use crate::part::{Attachment, InteractiveReply, Location, Part, Reaction, Template};
pub use crate::party::{AttributeSource, AttributeValue, Party, PartyNames, PartyStatus};
pub use crate::phone::{PhoneNumber, Region, parse_region};
pub use crate::provenance::Provenance;
pub use crate::routing::{AgentPresence, PresenceStatus, WorkItem};
pub use crate::schema::{SCHEMA_ID, contact_format_schema, contact_format_schema_json};
pub use crate::scope::IdentityScope;
pub use crate::sla::{SlaClock, SlaPolicy};
pub use crate::thread_key::ThreadKey;
pub use crate::time::Timestamp;
