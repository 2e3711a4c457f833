//! The crate's errors.

use std::error::Error as StdError;

/// A boxed error from a [`MailSink`](crate::MailSink) implementation.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The crate's result type.
pub type Result<T, E = EmailError> = std::result::Result<T, E>;

/// Everything that can go wrong in the email transports.
///
/// The IMAP workers never return these to the caller: they log them and
/// reconnect. They surface from constructors ([`SmtpSender::new`]) and in
/// logs.
///
/// [`SmtpSender::new`]: crate::SmtpSender::new
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// `extra_root_pem` held no certificate, or one rustls rejects.
    #[error("extra_root_pem: {reason} (expected one or more PEM \"CERTIFICATE\" blocks)")]
    InvalidRootCertificate {
        /// What was wrong with it.
        reason: String,
    },
    /// The TLS client configuration could not be built.
    #[error("TLS setup failed: {source}")]
    TlsConfig {
        /// The rustls error.
        #[source]
        source: rustls::Error,
    },
    /// The host is not a valid DNS name or IP address for TLS.
    #[error("invalid TLS server name {host:?}")]
    InvalidServerName {
        /// The configured host.
        host: String,
    },
    /// Connecting, the TLS handshake or reading/writing the socket failed.
    #[error("{context} {host}:{port}: {source}")]
    Io {
        /// What was being done ("connect to", "TLS handshake with", ...).
        context: &'static str,
        /// The server host.
        host: String,
        /// The server port.
        port: u16,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The IMAP server refused STARTTLS or answered it unexpectedly.
    #[error("IMAP server {host}:{port} refused STARTTLS: {reply}")]
    StartTlsRefused {
        /// The server host.
        host: String,
        /// The server port.
        port: u16,
        /// The server's reply line.
        reply: String,
    },
    /// An IMAP command failed.
    #[error("IMAP {command} failed: {source}")]
    Imap {
        /// The command ("LOGIN", "SELECT INBOX", "UID FETCH", ...).
        command: String,
        /// The `imap` crate's error (boxed: it is large).
        #[source]
        source: Box<imap::Error>,
    },
    /// The selected mailbox reported no UIDVALIDITY, so UIDs cannot be
    /// checkpointed.
    #[error("mailbox {mailbox:?} reports no UIDVALIDITY")]
    NoUidValidity {
        /// The mailbox.
        mailbox: String,
    },
    /// The SMTP transport could not be built from its account.
    #[error("SMTP account {host}:{port}: {source}")]
    SmtpConfig {
        /// The server host.
        host: String,
        /// The server port.
        port: u16,
        /// lettre's error.
        #[source]
        source: lettre::transport::smtp::Error,
    },
    /// The sink failed; the message is retried later.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// A [`MailSink`](crate::MailSink) could not accept a message or read a
/// checkpoint. The IMAP worker keeps the message on the server, unacknowledged,
/// and retries it later.
#[derive(Debug, thiserror::Error)]
#[error("mail sink failed: {message}")]
pub struct SinkError {
    message: String,
    #[source]
    source: Option<BoxError>,
}

// === impl SinkError ===

impl SinkError {
    /// A sink error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A sink error caused by `source` (a store error, say).
    pub fn with_source(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The message this error was made with.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl EmailError {
    /// An [`EmailError::Imap`] for `command`.
    pub(crate) fn imap(command: impl Into<String>, source: imap::Error) -> Self {
        Self::Imap {
            command: command.into(),
            source: Box::new(source),
        }
    }
}
