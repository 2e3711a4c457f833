//! SMTP out: one pooled lettre transport per account, and every outcome as
//! an SMTP reply.
//!
//! The outbox decides from the reply code whether to retry (4xx) or give up
//! (5xx), so [`SmtpSender::send`] never fails: connection, TLS and timeout
//! failures become `421` ("service not available", retryable) and bad
//! envelope addresses become `501`/`553`, as a server would answer them.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::error::{EmailError, Result};
use crate::security::Security;
use crate::tls::parse_pem_certificates;

/// The code for failures that never reached an SMTP reply (connection,
/// TLS, timeout): "service not available", which senders retry.
const CONNECTION_FAILED: u16 = 421;

/// How long a pooled connection may sit idle before it is closed (below
/// the usual 300 s server-side timeout).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// One SMTP account Silta sends through: a channel account's outbound side.
#[derive(Clone)]
pub struct SmtpAccount {
    /// Server host name or IP address (also the TLS server name).
    pub host: String,
    /// Server port (465 for SMTPS, 587 for submission with STARTTLS).
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    /// AUTH user name; AUTH is used when both this and `password` are set.
    pub username: Option<String>,
    /// AUTH password.
    pub password: Option<String>,
    /// The name sent in EHLO; the machine's host name when `None`.
    pub hello_name: Option<String>,
    /// Connections kept open and reused; 0 is taken as 1.
    pub pool_size: u32,
    /// Limit on each network step (connect, each command); a whole send is
    /// cut off after three times this.
    pub timeout: Duration,
    /// PEM certificates to trust in addition to the Mozilla roots.
    pub extra_root_pem: Option<Vec<u8>>,
}

impl fmt::Debug for SmtpAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpAccount")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("hello_name", &self.hello_name)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .field(
                "extra_root_pem",
                &self.extra_root_pem.as_ref().map(Vec::len),
            )
            .finish()
    }
}

/// The outcome of a send, as an SMTP reply: the server's own code and
/// text when it answered, a synthetic one otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReply {
    /// The reply code: 2xx accepted, 4xx retry later, 5xx permanent.
    pub code: u16,
    /// The reply text (lines joined with spaces).
    pub text: String,
}

// === impl SmtpReply ===

impl SmtpReply {
    /// Whether the message was accepted (2xx).
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// Whether sending again later may succeed (4xx).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    fn connection_failed(reason: impl fmt::Display) -> Self {
        Self {
            code: CONNECTION_FAILED,
            text: format!("connection failed: {reason}"),
        }
    }
}

/// Sends raw messages through one SMTP account over pooled connections.
///
/// Build it once per account and share it (it is cheap to clone; clones
/// share the pool).
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    deadline: Duration,
}

impl fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSender")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

// === impl SmtpSender ===

impl SmtpSender {
    /// A sender for `account`. Connects lazily, on the first send.
    ///
    /// # Errors
    ///
    /// [`EmailError::InvalidRootCertificate`] for a bad `extra_root_pem`,
    /// [`EmailError::SmtpConfig`] when lettre rejects the TLS settings.
    pub fn new(account: &SmtpAccount) -> Result<Self> {
        let config_err = |source| EmailError::SmtpConfig {
            host: account.host.clone(),
            port: account.port,
            source,
        };
        let tls = match account.security {
            Security::Plain => Tls::None,
            Security::Tls => {
                Tls::Wrapper(tls_parameters(account).map_err(|e| e.into_email(config_err))?)
            }
            Security::StartTls => {
                Tls::Required(tls_parameters(account).map_err(|e| e.into_email(config_err))?)
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&account.host)
            .port(account.port)
            .tls(tls)
            .timeout(Some(account.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(account.pool_size.max(1))
                    .idle_timeout(POOL_IDLE_TIMEOUT),
            );
        if let (Some(user), Some(password)) = (&account.username, &account.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        if let Some(name) = &account.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            deadline: account.timeout.saturating_mul(3),
        })
    }

    /// Sends `raw` (a complete RFC 5322 message) from `envelope_from`
    /// (empty for the null reverse-path `<>`) to `envelope_to`.
    ///
    /// Never fails; see [`SmtpReply`] and the module docs for the codes.
    pub async fn send(&self, envelope_from: &str, envelope_to: &[String], raw: &[u8]) -> SmtpReply {
        let envelope = match envelope(envelope_from, envelope_to) {
            Ok(envelope) => envelope,
            Err(reply) => return reply,
        };
        let reply = match tokio::time::timeout(
            self.deadline,
            self.transport
                .send_raw(&envelope, without_final_line_end(raw)),
        )
        .await
        {
            Err(_) => SmtpReply::connection_failed(format!("timed out after {:?}", self.deadline)),
            Ok(Ok(response)) => SmtpReply {
                code: response.code().into(),
                text: response.message().collect::<Vec<_>>().join(" "),
            },
            Ok(Err(error)) => reply_for(&error),
        };
        tracing::debug!(code = reply.code, text = %reply.text, recipients = envelope_to.len(), "SMTP send");
        reply
    }
}

/// Why TLS parameters could not be built.
enum TlsSetupError {
    Pem(EmailError),
    Lettre(lettre::transport::smtp::Error),
}

impl TlsSetupError {
    fn into_email(
        self,
        config_err: impl FnOnce(lettre::transport::smtp::Error) -> EmailError,
    ) -> EmailError {
        match self {
            Self::Pem(e) => e,
            Self::Lettre(e) => config_err(e),
        }
    }
}

fn tls_parameters(account: &SmtpAccount) -> Result<TlsParameters, TlsSetupError> {
    let mut builder = TlsParameters::builder(account.host.clone());
    if let Some(pem) = &account.extra_root_pem {
        for der in parse_pem_certificates(pem).map_err(TlsSetupError::Pem)? {
            let cert = Certificate::from_der(der.to_vec()).map_err(TlsSetupError::Lettre)?;
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build_rustls().map_err(TlsSetupError::Lettre)
}

/// The envelope, or the reply a server would give for a bad address.
fn envelope(from: &str, to: &[String]) -> Result<Envelope, SmtpReply> {
    let from = match bare(from) {
        "" => None,
        address => Some(address.parse::<Address>().map_err(|e| SmtpReply {
            code: 553,
            text: format!("5.1.7 invalid sender address {address:?}: {e}"),
        })?),
    };
    let to = to
        .iter()
        .map(|rcpt| {
            let rcpt = bare(rcpt);
            rcpt.parse::<Address>().map_err(|e| SmtpReply {
                code: 553,
                text: format!("5.1.3 invalid recipient address {rcpt:?}: {e}"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(from, to).map_err(|e| SmtpReply {
        code: 501,
        text: format!("5.5.4 invalid envelope: {e}"),
    })
}

/// `raw` without its final line end. lettre always ends DATA with
/// `\r\n.\r\n`, which would otherwise add an empty line to every message
/// that (correctly) ends with CRLF; this way the server stores exactly `raw`.
fn without_final_line_end(raw: &[u8]) -> &[u8] {
    raw.strip_suffix(b"\r\n")
        .or_else(|| raw.strip_suffix(b"\n"))
        .unwrap_or(raw)
}

/// `addr` without surrounding whitespace and angle brackets.
fn bare(addr: &str) -> &str {
    let addr = addr.trim();
    addr.strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(addr)
}

/// The reply for a failed send: the server's reply if there was one, else
/// a connection failure.
fn reply_for(error: &lettre::transport::smtp::Error) -> SmtpReply {
    match error.status() {
        Some(code) => SmtpReply {
            code: code.into(),
            text: error
                .source()
                .map_or_else(|| error.to_string(), ToString::to_string),
        },
        None => SmtpReply::connection_failed(chain(error)),
    }
}

/// `error` and its sources, joined with ": ".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_final_line_end_is_left_to_lettre() {
        assert_eq!(without_final_line_end(b"a\r\n\r\n"), b"a\r\n");
        assert_eq!(without_final_line_end(b"a\n"), b"a");
        assert_eq!(without_final_line_end(b"a"), b"a");
    }

    #[test]
    fn bad_addresses_map_to_5xx() {
        let bad_from = envelope("not an address", &["a@example.test".to_owned()]).unwrap_err();
        assert_eq!(bad_from.code, 553);
        let bad_to = envelope("a@example.test", &["nope".to_owned()]).unwrap_err();
        assert_eq!(bad_to.code, 553);
        let none = envelope("a@example.test", &[]).unwrap_err();
        assert_eq!(none.code, 501);
        assert!(envelope("<a@example.test>", &[" <b@example.test> ".to_owned()]).is_ok());
        assert!(envelope("", &["b@example.test".to_owned()]).is_ok());
    }
}
