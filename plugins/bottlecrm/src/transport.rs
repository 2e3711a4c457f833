//! How the operations reach BottleCRM: the [`Transport`] trait, and
//! [`HostTransport`], which sends through the host (`wasi:http`) with the
//! operator's token as `Authorization: JWT <token>`.
//!
//! The operations take any `Transport`, so their logic is tested natively
//! with scripted answers; the component tests drive `HostTransport` in the
//! real runtime.

use std::time::Duration;

use serde_json::Value;
use silta_sdk::PluginError;
use silta_sdk::http::Request;
use silta_sdk::secrets::Secret;

/// The secret holding the API token (a JWT from `POST /api/auth/login/`).
pub const TOKEN_SECRET: &str = "api-token";

/// Each request's connect, first-byte and between-bytes limit. The plugin's
/// deadline (manifest `deadline_ms`) bounds the whole call.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// BottleCRM's list answers carry every user and country: allow some room.
const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// An HTTP method the API is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Create, or comment on a contact.
    Post,
    /// Replace a case.
    Put,
}

/// BottleCRM's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After` in seconds, when the answer had one.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends one API request; `path` starts after `/api` (`/contacts/?email=a%40b.fi`).
pub trait Transport {
    /// Sends it; `Err` only when no answer came (network, timeout, denied).
    fn send(&self, method: Method, path: &str, body: Option<&Value>)
    -> Result<Answer, PluginError>;
}

/// The host's `wasi:http`, towards the configured `url`.
pub struct HostTransport {
    api: String,
    authorization: String,
}

// === impl HostTransport ===

impl HostTransport {
    /// Opens the token secret; fails `permanent` when it is not granted or
    /// not configured.
    pub fn open(api: &str) -> Result<HostTransport, PluginError> {
        let token = Secret::open(TOKEN_SECRET)?;
        Ok(HostTransport {
            api: api.to_owned(),
            // The host puts the token in place of the placeholder as the
            // request leaves; the plugin never sees it.
            authorization: format!("JWT {}", token.header_placeholder()),
        })
    }
}

impl Transport for HostTransport {
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, PluginError> {
        let method = match method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        };
        let mut request = Request::new(method, format!("{}{path}", self.api))
            .header("authorization", self.authorization.as_str())
            .header("accept", "application/json")
            .timeout(REQUEST_TIMEOUT)
            .max_response_bytes(MAX_RESPONSE_BYTES);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send()?;
        let retry_after = response
            .header("retry-after")
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        Ok(Answer {
            status: response.status,
            retry_after,
            body: response.body,
        })
    }
}

/// `value` percent-encoded for a query string (everything but RFC 3986's
/// unreserved characters).
pub fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query_value("+358401234567"), "%2B358401234567");
        assert_eq!(query_value("a.b@example.fi"), "a.b%40example.fi");
        assert_eq!(
            query_value("Where? #1 & ä"),
            "Where%3F%20%231%20%26%20%C3%A4"
        );
    }

    #[test]
    fn without_a_host_the_token_cannot_be_opened() {
        let error = HostTransport::open("http://h/api").err().unwrap();
        assert_eq!(error.kind(), "permanent");
        assert!(error.message().contains(TOKEN_SECRET), "{error:?}");
    }
}
