//! The Messenger Platform webhook payload, as Meta documents it for both
//! Facebook Messenger (`object: "page"`) and Instagram messaging
//! (`object: "instagram"`): `entry[].messaging[]`, each element one event
//! with a `sender`, a `recipient`, a `timestamp` (Unix milliseconds) and
//! one of `message`, `postback`, `reaction`, `delivery`, `read`, ...
//!
//! Only what the mapping reads is declared; unknown fields are ignored
//! (Meta adds fields without notice). Events are read one by one with
//! [`parse_at`], so an error names the element
//! (`` `entry[0].messaging[1].sender`: missing field `id` ``).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use silta_sdk::PluginError;

/// The top level of every webhook.
#[derive(Debug, Deserialize)]
pub struct Notification {
    /// `page` (Messenger) or `instagram`.
    pub object: String,
    /// One entry per Page or Instagram professional account: an array,
    /// read element by element as [`Entry`].
    pub entry: Value,
}

/// The events of one Page or Instagram professional account.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// The Page id (Messenger) or the Instagram professional account id.
    pub id: String,
    /// Messaging events: an array, read element by element as [`Event`].
    /// Absent for other subscriptions (`changes[]`: feed, mentions) and
    /// for `standby[]` (another app of the Handover Protocol has the
    /// thread), which this plugin does not read.
    #[serde(default)]
    pub messaging: Option<Value>,
}

/// A party of an event, by its id.
#[derive(Debug, Deserialize)]
pub struct Party {
    /// A page-scoped id (PSID), an Instagram-scoped id (IGSID), or our
    /// Page / Instagram account id.
    pub id: String,
}

/// One messaging event.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// Who acted: the customer (our own account for an echo).
    pub sender: Party,
    /// Who was addressed: our Page or Instagram account (the customer for
    /// an echo).
    #[serde(default)]
    pub recipient: Option<Party>,
    /// Unix milliseconds; absent on some delivery and read events.
    #[serde(default)]
    pub timestamp: Option<Value>,
    /// A message (or an echo of one we sent).
    #[serde(default)]
    pub message: Option<Message>,
    /// A button, Get Started, persistent menu item or ice breaker tapped.
    #[serde(default)]
    pub postback: Option<Postback>,
    /// A reaction to a message, or its removal.
    #[serde(default)]
    pub reaction: Option<Reaction>,
    /// Our messages reached the customer's device.
    #[serde(default)]
    pub delivery: Option<Delivery>,
    /// The customer read our messages.
    #[serde(default)]
    pub read: Option<Read>,
}

/// A message.
#[derive(Debug, Deserialize)]
pub struct Message {
    /// The message id (`m_…`).
    pub mid: String,
    /// The text, if any.
    #[serde(default)]
    pub text: Option<String>,
    /// Media and other attachments.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// A quick reply the customer tapped (the text is its title).
    #[serde(default)]
    pub quick_reply: Option<QuickReply>,
    /// The message or story this one replies to.
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
    /// An echo: a message our own Page or account sent.
    #[serde(default)]
    pub is_echo: bool,
    /// Instagram: the customer unsent the message `mid`.
    #[serde(default)]
    pub is_deleted: bool,
    /// Instagram: content the API cannot pass on.
    #[serde(default)]
    pub is_unsupported: bool,
}

/// An attachment of a message.
#[derive(Debug, Deserialize)]
pub struct Attachment {
    /// `image`, `video`, `audio`, `file`, `location` (Messenger), `share`,
    /// `story_mention`, `ig_reel`, `reel`, `template`, `fallback`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// What the attachment holds; its shape depends on `type`.
    #[serde(default)]
    pub payload: Option<AttachmentPayload>,
    /// The title of a `fallback` (a shared link).
    #[serde(default)]
    pub title: Option<String>,
}

/// The payload of an attachment.
#[derive(Debug, Deserialize)]
pub struct AttachmentPayload {
    /// Where Meta serves the media (a short-lived CDN URL).
    #[serde(default)]
    pub url: Option<String>,
    /// Messenger: a sticker's id (the thumbs-up is `369239263222822`).
    #[serde(default)]
    pub sticker_id: Option<Value>,
    /// A Messenger `location` attachment.
    #[serde(default)]
    pub coordinates: Option<Coordinates>,
    /// The title of a shared post or reel.
    #[serde(default)]
    pub title: Option<String>,
}

/// A shared location.
#[derive(Debug, Deserialize)]
pub struct Coordinates {
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub long: f64,
}

/// A quick reply the customer tapped.
#[derive(Debug, Deserialize)]
pub struct QuickReply {
    /// The payload we gave the quick reply.
    pub payload: String,
}

/// What a message replies to.
#[derive(Debug, Deserialize)]
pub struct ReplyTo {
    /// The message replied to.
    #[serde(default)]
    pub mid: Option<String>,
    /// Instagram: the story replied to.
    #[serde(default)]
    pub story: Option<Story>,
}

/// An Instagram story.
#[derive(Debug, Deserialize)]
pub struct Story {
    /// The story's media id.
    #[serde(default)]
    pub id: Option<String>,
    /// Where Meta serves the story's media (expires with the story).
    #[serde(default)]
    pub url: Option<String>,
}

/// A postback: a button the customer tapped.
#[derive(Debug, Deserialize)]
pub struct Postback {
    /// The postback's id (Messenger, Instagram since v11.0).
    #[serde(default)]
    pub mid: Option<String>,
    /// The button's label.
    #[serde(default)]
    pub title: Option<String>,
    /// The payload we gave the button.
    #[serde(default)]
    pub payload: Option<String>,
}

/// A reaction to a message.
#[derive(Debug, Deserialize)]
pub struct Reaction {
    /// The message reacted to.
    pub mid: String,
    /// `react` or `unreact`.
    pub action: String,
    /// The emoji (absent on `unreact`).
    #[serde(default)]
    pub emoji: Option<String>,
    /// Its name: `like`, `love`, `smile`, `wow`, `sad`, `angry`, `other`.
    #[serde(default)]
    pub reaction: Option<String>,
}

/// Our messages reached the customer.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    /// The messages delivered; Meta may leave it out.
    #[serde(default)]
    pub mids: Vec<String>,
    /// Every message sent before this time (Unix milliseconds) was
    /// delivered.
    pub watermark: Value,
}

/// The customer read our messages.
#[derive(Debug, Deserialize)]
pub struct Read {
    /// Instagram (`messaging_seen`): the message read.
    #[serde(default)]
    pub mid: Option<String>,
    /// Messenger: every message sent before this time (Unix
    /// milliseconds) was read.
    #[serde(default)]
    pub watermark: Option<Value>,
}

/// The elements of an array at `path`; anything else is bad input.
pub fn array_at(path: &str, value: Value) -> Result<Vec<Value>, PluginError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(PluginError::bad_input(format!(
            "`{path}` must be an array, got {}",
            match other {
                Value::Object(_) => "an object",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))),
    }
}

/// Reads `value` as `T`; a mismatch is bad input naming `path`.
pub fn parse_at<T: DeserializeOwned>(path: &str, value: Value) -> Result<T, PluginError> {
    serde_json::from_value(value)
        .map_err(|error| PluginError::bad_input(format!("`{path}`: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_element() {
        let error =
            parse_at::<Event>("entry[0].messaging[1]", json!({"timestamp": 1})).unwrap_err();
        assert_eq!(error.kind(), "bad-input");
        assert!(
            error
                .message()
                .starts_with("`entry[0].messaging[1]`: missing field `sender`"),
            "{error:?}"
        );
    }
}
