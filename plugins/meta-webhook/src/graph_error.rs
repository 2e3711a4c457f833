//! The Graph API's error body, the same for every Meta product:
//!
//! ```json
//! {"error": {"message": "(#100) ...", "type": "OAuthException", "code": 100,
//!            "error_subcode": 2018001, "error_data": {"details": "..."},
//!            "fbtrace_id": "AbCdEf123456"}}
//! ```
//!
//! Reading it is shared; what a code means for a message (retry, refuse,
//! renew the token) is each plugin's own `response` module, since the
//! products document different codes.

use serde::Deserialize;

/// Most bytes of an unreadable error body kept as a detail.
pub const MAX_DETAIL_BYTES: usize = 256;

/// The Graph error code of an invalid or expired access token.
pub const INVALID_TOKEN_CODE: i64 = 190;

/// A Graph API error body's `error`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GraphError {
    /// Meta's error code (`100`, `190`, `131047`).
    pub code: i64,
    /// The human-readable message.
    #[serde(default)]
    pub message: Option<String>,
    /// `OAuthException`, `GraphMethodException`, ...
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The finer code some errors carry (`2018001`: no matching user).
    #[serde(default)]
    pub error_subcode: Option<i64>,
    /// More detail (WhatsApp's `error_data.details`).
    #[serde(default)]
    pub error_data: Option<ErrorData>,
    /// Meta's trace id, for a support ticket.
    #[serde(default)]
    pub fbtrace_id: Option<String>,
    /// Meta's own hint that the same call may succeed later.
    #[serde(default)]
    pub is_transient: bool,
}

/// The `error_data` of a [`GraphError`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorData {
    /// A sentence saying what went wrong.
    #[serde(default)]
    pub details: Option<String>,
}

#[derive(Deserialize)]
struct Failure {
    error: GraphError,
}

// === impl GraphError ===

impl GraphError {
    /// The `error` of a Graph error body; `None` when the body is not one
    /// (an HTML error page, an empty body).
    #[must_use]
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Failure>(body)
            .ok()
            .map(|failure| failure.error)
    }

    /// `(code) message: details [subcode N]`, for an outcome's detail or an
    /// error's message.
    #[must_use]
    pub fn describe(&self) -> String {
        let message = self.message.as_deref().unwrap_or("Graph API error");
        let mut text = format!("({}) {message}", self.code);
        if let Some(details) = self.error_data.as_ref().and_then(|d| d.details.as_deref())
            && !details.is_empty()
        {
            text = format!("{text}: {details}");
        }
        if let Some(subcode) = self.error_subcode {
            text = format!("{text} [subcode {subcode}]");
        }
        text
    }
}

/// The start of an unreadable error body, as text (at most
/// [`MAX_DETAIL_BYTES`], cut on a character boundary); `None` when blank.
#[must_use]
pub fn body_detail(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut end = text.len().min(MAX_DETAIL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_describes_a_graph_error() {
        let body = br#"{"error":{"message":"(#551) This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041,"fbtrace_id":"A1"}}"#;
        let error = GraphError::parse(body).expect("a Graph error");
        assert_eq!(error.code, 551);
        assert_eq!(error.kind.as_deref(), Some("OAuthException"));
        assert_eq!(error.fbtrace_id.as_deref(), Some("A1"));
        assert_eq!(
            error.describe(),
            "(551) (#551) This person isn't available right now. [subcode 1545041]"
        );
        let whatsapp = br#"{"error":{"message":"m","code":131047,"error_data":{"details":"d"}}}"#;
        assert_eq!(
            GraphError::parse(whatsapp).expect("error").describe(),
            "(131047) m: d"
        );
        assert_eq!(GraphError::parse(b"<html>"), None);
        assert_eq!(
            GraphError::parse(br#"{"error":{"message":"no code"}}"#),
            None
        );
    }

    #[test]
    fn an_unreadable_body_is_cut_on_a_character() {
        assert_eq!(body_detail(b"  "), None);
        let long = "é".repeat(MAX_DETAIL_BYTES);
        let detail = body_detail(long.as_bytes()).expect("text");
        assert!(detail.len() <= MAX_DETAIL_BYTES && detail.chars().all(|c| c == 'é'));
    }
}
