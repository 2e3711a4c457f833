//! Thread keys: what ties a message to a conversation.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A key the host threads messages on. Mirrors the WIT `thread-key`.
///
/// A conversation collects the keys of its messages; a new message joins
/// the conversation that already holds one of its keys.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ThreadKey {
    /// RFC 5322 `Message-ID` of a message.
    MessageId(String),
    /// `In-Reply-To` of a message.
    InReplyTo(String),
    /// One entry of `References`.
    References(String),
    /// A token Silta put into an address or payload of its own reply.
    ReplyToken(String),
    /// The provider's own conversation or thread id.
    ProviderThread(String),
    /// The provider message id a message replies to.
    ReplyToProviderMessage(String),
}

// === impl ThreadKey ===

impl ThreadKey {
    /// The key's text, whatever its kind.
    #[must_use]
    pub fn value(&self) -> &str {
        match self {
            ThreadKey::MessageId(value)
            | ThreadKey::InReplyTo(value)
            | ThreadKey::References(value)
            | ThreadKey::ReplyToken(value)
            | ThreadKey::ProviderThread(value)
            | ThreadKey::ReplyToProviderMessage(value) => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_and_json_form() {
        let key = ThreadKey::InReplyTo("<a@example.fi>".into());
        assert_eq!(key.value(), "<a@example.fi>");
        assert_eq!(
            serde_json::to_string(&key).expect("serialize"),
            r#"{"in_reply_to":"<a@example.fi>"}"#
        );
        assert_eq!(ThreadKey::ReplyToken("t1".into()).value(), "t1");
    }
}
