//! Silta's durable pipeline: what happens to a message between the
//! provider and the store, in both directions.
//!
//! Inbound ([`inbound`]): [`inbound::Inbound::accept`] runs the channel's
//! plugin to verify and normalize the raw event, journals it (durable,
//! group commit) and only then acknowledges it. Processing links each
//! interaction to a party, conversation and case ([`linking`]) and
//! publishes events, one transaction per journal entry, in order per party
//! and in parallel across parties. Every step is idempotent and replays
//! from the journal after a crash; a plugin failure dead-letters the entry
//! ([`dlq`]). Mail fetched over IMAP enters through [`mail_sink`], with
//! the mailbox checkpoint in the journal entry's commit.
//!
//! Outbound ([`outbound`]): replies and proactive messages are written to
//! the outbox with their interaction; [`sender`] renders them through the
//! channel's plugin, sends them with [`http_client`] (or the channel
//! account's SMTP server for email), and retries with
//! [`backoff`] or dead-letters them.
//!
//! Events ([`events`]) are rows in the store's event log, written in the
//! same transaction as what they describe; [`webhooks`] POSTs them to
//! subscribers as signed [`cloudevents`], never skipping one.

pub use silta_backoff as backoff;
pub mod cases;
pub mod channels;
pub mod cloudevents;
pub mod dlq;
pub mod enrichment;
mod error;
pub mod events;
mod failure;
pub mod http_client;
pub mod identity_resolution;
pub mod inbound;
pub mod kv;
pub mod linking;
pub mod local_transport;
pub mod mail_sink;
pub mod merge;
pub mod metrics;
pub mod outbound;
pub mod send_limiter;
pub mod sender;
pub mod shutdown;
pub mod transport_meta;
pub mod webhooks;

pub use error::{PipelineError, Result};
