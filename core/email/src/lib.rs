//! Silta's native email transports.
//!
//! Mail is host-native in Silta (see DESIGN.md §2): the core speaks IMAP and
//! SMTP itself and hands raw RFC 5322 bytes to the email channel plugin, which
//! only maps them. This crate holds both directions and knows nothing of the
//! store or the pipeline; the pipeline plugs in through [`MailSink`] and calls
//! [`SmtpSender::send`].
//!
//! - **IMAP in** ([`spawn_imap`]): one worker per mailbox; fetches mail above
//!   the sink's [`Checkpoint`], delivers it in UID order, and marks it
//!   `\Seen` or moves it only after the sink made it durable. IDLE or
//!   polling; reconnects with backoff; UIDVALIDITY changes restart the
//!   mailbox from UID 1.
//! - **SMTP out** ([`SmtpSender`]): a pooled lettre transport per account;
//!   every outcome, including connection failures, is an [`SmtpReply`].
//!
//! TLS is rustls everywhere (Mozilla roots compiled in, plus an optional
//! private CA per account); no OpenSSL is linked.

mod error;
mod imap_session;
mod imap_source;
mod imap_stream;
mod security;
mod smtp;
mod stop;
mod tls;

pub use error::{BoxError, EmailError, Result, SinkError};
pub use imap_source::{AfterIngest, Checkpoint, FetchedMessage, ImapAccount, MailSink, spawn_imap};
pub use security::Security;
pub use smtp::{SmtpAccount, SmtpReply, SmtpSender};
