//! How a mail connection is secured.

/// How a connection to a mail server is secured.
///
/// Pick what the server's port speaks: implicit TLS for IMAPS (993) and
/// SMTPS (465), STARTTLS for IMAP (143) and submission (587). `Plain` sends
/// credentials in the clear and is meant for loopback test servers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (IMAPS, SMTPS).
    Tls,
    /// A plain connection upgraded with STARTTLS before any credentials
    /// are sent; fails if the server does not offer it.
    StartTls,
    /// No TLS at all.
    Plain,
}
