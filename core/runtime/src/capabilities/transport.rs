//! Who actually sends a plugin's outbound HTTP, once the allow-list check
//! has passed and secrets are filled in.
//!
//! By default wasmtime-wasi-http's client sends it. Tests (and the SDK's
//! plugin test harness) install an [`HttpTransport`] that answers from
//! recorded exchanges instead, so a plugin runs against its real sandbox and
//! limits without a network.

use crate::manifest::PluginId;

/// One outbound request, as it leaves the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// Method.
    pub method: String,
    /// Absolute URL, secrets filled in.
    pub url: String,
    /// The URL with each filled-in secret shown as `{{secret:<name>}}`, when
    /// the URL holds one (a bot token in the path). Logs, errors and
    /// recordings use [`OutboundRequest::display_url`], never `url`.
    pub redacted_url: Option<String>,
    /// Headers; `sensitive` is set on values that hold a filled-in secret,
    /// which must never be written to a recording or a log.
    pub headers: Vec<OutboundHeader>,
    /// Body.
    pub body: Vec<u8>,
}

// === impl OutboundRequest ===

impl OutboundRequest {
    /// The URL fit for logs, errors and recordings: secrets redacted.
    #[must_use]
    pub fn display_url(&self) -> &str {
        self.redacted_url.as_deref().unwrap_or(&self.url)
    }
}

/// One header of an [`OutboundRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundHeader {
    /// Lowercase name.
    pub name: String,
    /// Value bytes.
    pub value: Vec<u8>,
    /// Holds a secret.
    pub sensitive: bool,
}

/// The answer to an [`OutboundRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a transport could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The request could not be sent (connection refused, DNS, TLS).
    #[error("could not send: {0}")]
    Unreachable(String),
    /// A replaying transport has no recording for this request.
    #[error("no recorded response for {method} {url}")]
    NotRecorded {
        /// Method.
        method: String,
        /// URL.
        url: String,
    },
}

/// Sends (or answers) a plugin's outbound HTTP.
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync + 'static {
    /// Send one request for `plugin`.
    async fn send(
        &self,
        plugin: &PluginId,
        request: OutboundRequest,
    ) -> Result<OutboundResponse, TransportError>;
}
