//! A small blocking HTTP client over `wasi:http/outgoing-handler`, for
//! plugins that call an API themselves (a CRM lookup, fetching a token).
//!
//! A channel's outbound message is not sent from here: `render` returns a
//! request and the host's transport sends it, with retries. Every request
//! goes through the host's allow-list: the manifest must request `http` and
//! list the origin in `allowed_hosts`, and the operator must grant both,
//! otherwise [`HttpError::Denied`]. The host never follows redirects for a
//! plugin; a `3xx` comes back as a [`Response`]. In a native build there is
//! no host and every request is denied.
//!
//! ```no_run
//! use silta_sdk::http::Request;
//!
//! # fn lookup() -> Result<(), silta_sdk::types::PluginError> {
//! let token = silta_sdk::secrets::open("api-token")?;
//! let response = Request::get("https://crm.example.com/api/contacts?email=a@b.fi")
//!     .header("authorization", format!("Bearer {}", token.header_placeholder()))
//!     .send()?;
//! if response.status == 404 {
//!     return Ok(());
//! }
//! # Ok(())
//! # }
//! ```

#[cfg(target_arch = "wasm32")]
mod client;

use std::time::Duration;

use crate::types::{HttpRequest, PluginError};

/// Largest response body read by default (8 MiB); see
/// [`Request::max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 << 20;

/// An HTTP request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a request does nothing until `send` is called"]
pub struct Request {
    /// Method (`GET`, `POST`, ...).
    pub method: String,
    /// Absolute `http` or `https` URL.
    pub url: String,
    /// Headers in order; values may hold secret placeholders.
    pub headers: Vec<(String, String)>,
    /// Body; empty for none.
    pub body: Vec<u8>,
    /// Limit on connecting, on the first response byte and on each pause
    /// between bytes; `None` leaves it to the host (whose call deadline
    /// applies in any case).
    pub timeout: Option<Duration>,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case, values as (lossy) UTF-8.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The host refused the destination: `http` is not granted or the
    /// origin is not in the allowed hosts.
    #[error(
        "request to {url} denied by the host: add its origin to the manifest's `allowed_hosts` (with the \"http\" capability) and have the operator grant it"
    )]
    Denied {
        /// Where the request was going.
        url: String,
    },
    /// The request itself is malformed (URL, method or a header).
    #[error("invalid request to {url}: {reason}")]
    InvalidRequest {
        /// Where the request was going.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Connecting or waiting for the response took too long.
    #[error("request to {url} timed out: {detail}")]
    Timeout {
        /// Where the request was going.
        url: String,
        /// Which wait ran out.
        detail: String,
    },
    /// DNS, connection, TLS or protocol trouble.
    #[error("request to {url} failed: {detail}")]
    Network {
        /// Where the request was going.
        url: String,
        /// The `wasi:http` error.
        detail: String,
    },
    /// The response body was larger than [`Request::max_response_bytes`].
    #[error("response from {url} is larger than {limit_bytes} bytes")]
    ResponseTooLarge {
        /// Where the request went.
        url: String,
        /// The limit in force.
        limit_bytes: usize,
    },
}

/// Denied, invalid and oversized are permanent (something must change);
/// timeouts and network trouble are retryable.
impl From<HttpError> for PluginError {
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Timeout { .. } | HttpError::Network { .. } => {
                PluginError::retryable(error.to_string())
            }
            HttpError::Denied { .. }
            | HttpError::InvalidRequest { .. }
            | HttpError::ResponseTooLarge { .. } => PluginError::Permanent(error.to_string()),
        }
    }
}

// === impl Request ===

impl Request {
    /// A request with no headers, an empty body and the default limits.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// A `GET`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    /// Sets the connect, first-byte and between-bytes timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the largest response body accepted.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Sends the request and waits for the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        #[cfg(target_arch = "wasm32")]
        {
            client::send(&self)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Err(HttpError::Denied { url: self.url })
        }
    }
}

/// A rendered request (what `render` returns), to send from the plugin.
impl From<HttpRequest> for Request {
    fn from(request: HttpRequest) -> Self {
        Self {
            headers: request.headers,
            body: request.body,
            ..Self::new(request.method, request.url)
        }
    }
}

// === impl Response ===

impl Response {
    /// The first value of header `name`, ignoring case.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the status is 2xx.
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as (lossy) UTF-8 text.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; a body that is not JSON is bad input from the
    /// provider.
    pub fn json(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            PluginError::BadInput(format!("the response body is not JSON: {error}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_requests_and_denies_natively() {
        let request = Request::post("https://api.example.test/x")
            .json(&serde_json::json!({"a": 1}))
            .timeout(Duration::from_secs(2));
        assert_eq!(
            request.headers,
            vec![("content-type".into(), "application/json".into())]
        );
        assert_eq!(request.body, br#"{"a":1}"#);
        let error = request.send().unwrap_err();
        assert!(matches!(error, HttpError::Denied { .. }));
        assert_eq!(PluginError::from(error).kind(), "permanent");
        let network = HttpError::Network {
            url: "u".into(),
            detail: "d".into(),
        };
        assert_eq!(PluginError::from(network).kind(), "retryable");
    }

    #[test]
    fn rendered_requests_convert() {
        let rendered = HttpRequest::post("https://x.test").with_header("a", "b");
        let request = Request::from(rendered);
        assert_eq!(request.method, "POST");
        assert_eq!(request.headers.len(), 1);
        assert_eq!(request.max_response_bytes, DEFAULT_MAX_RESPONSE_BYTES);
    }
}
