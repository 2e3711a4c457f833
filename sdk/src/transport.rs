//! Helpers on the transport records: reading headers of inbound webhooks
//! and provider responses, and building rendered HTTP requests.
//!
//! Header names are compared without regard to case; the host hands them
//! over in lower case.

use std::time::Duration;

use crate::types::{HttpMeta, HttpRequest, HttpResponse, InboundEvent, TransportMeta};

/// The first value of header `name` in `headers`, ignoring case.
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

// === impl InboundEvent ===

impl InboundEvent {
    /// The HTTP request line and headers, when the event came in over HTTP
    /// (a webhook).
    #[must_use]
    pub fn http(&self) -> Option<&HttpMeta> {
        match &self.transport {
            TransportMeta::Http(meta) => Some(meta),
            TransportMeta::Imap(_) | TransportMeta::Other(_) => None,
        }
    }

    /// The first value of HTTP header `name`; `None` when absent or when
    /// the event did not come over HTTP.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.http().and_then(|meta| meta.header(name))
    }
}

// === impl HttpMeta ===

impl HttpMeta {
    /// The first value of header `name`.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

// === impl HttpRequest ===

impl HttpRequest {
    /// A request with no headers and an empty body.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `POST` with no headers and an empty body.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// The same request with one more header. A value may hold a secret's
    /// [`header_placeholder`](crate::secrets::Secret::header_placeholder),
    /// which the host fills in when the request leaves.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same request with `body`.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of header `name`.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

// === impl HttpResponse ===

impl HttpResponse {
    /// An answer with `status`, `headers` and `body`, as the host hands it
    /// to `interpret-response` (what a plugin's tests feed it).
    #[must_use]
    pub fn new(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: body.into(),
        }
    }

    /// The first value of header `name`.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the status is 2xx.
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After` in its delay-seconds form (`120`). The HTTP-date form
    /// is not read (it needs a clock, and `interpret-response` should not).
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        let seconds: u64 = self.header("retry-after")?.trim().parse().ok()?;
        Some(Duration::from_secs(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Timestamp;

    #[test]
    fn headers_ignore_case() {
        let event = InboundEvent {
            channel_account: "acct".into(),
            received_at: Timestamp {
                seconds: 0,
                nanoseconds: 0,
            },
            transport: TransportMeta::Http(HttpMeta {
                method: "POST".into(),
                path: "/hook".into(),
                query: None,
                headers: vec![("x-silta-signature".into(), "sha256=00".into())],
            }),
            body: Vec::new(),
        };
        assert_eq!(event.header("X-Silta-Signature"), Some("sha256=00"));
        assert_eq!(event.header("missing"), None);
        let request = HttpRequest::post("https://x.test")
            .with_header("Content-Type", "application/json")
            .with_body("{}");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.body, b"{}");
    }

    #[test]
    fn retry_after_seconds() {
        let response = HttpResponse {
            status: 429,
            headers: vec![("retry-after".into(), " 7 ".into())],
            body: Vec::new(),
        };
        assert_eq!(response.retry_after(), Some(Duration::from_secs(7)));
        assert!(!response.is_success());
        let dated = HttpResponse {
            headers: vec![("retry-after".into(), "Wed, 21 Oct 2026 07:28:00 GMT".into())],
            ..response
        };
        assert_eq!(dated.retry_after(), None);
    }
}
