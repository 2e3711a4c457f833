//! The webhook payload of the WhatsApp Business Cloud API, as Meta
//! documents it: a `whatsapp_business_account` notification whose
//! `entry[].changes[].value` holds `metadata`, `contacts[]`, `messages[]`
//! and `statuses[]`.
//!
//! Only what the mapping reads is declared; unknown fields are ignored
//! (Meta adds fields without notice). Messages and statuses are read one
//! by one with [`parse_at`], so an error names the element
//! (`` `entry[0].changes[0].value.messages[1]`: missing field `from` ``).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use silta_sdk::PluginError;

/// The top level of every webhook.
#[derive(Debug, Deserialize)]
pub struct Notification {
    /// Always `whatsapp_business_account` for this product.
    pub object: String,
    /// One entry per WhatsApp Business Account.
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// The changes of one WhatsApp Business Account.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    pub id: String,
    /// What happened.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change; only `field: "messages"` carries messages and statuses.
#[derive(Debug, Deserialize)]
pub struct Change {
    /// `messages`, or another subscription (`account_update`,
    /// `message_template_status_update`, ...) this plugin does not read.
    pub field: String,
    /// The change's content; its shape depends on `field`.
    #[serde(default)]
    pub value: Option<Value>,
}

/// The `value` of a `messages` change.
#[derive(Debug, Deserialize)]
pub struct MessagesValue {
    /// Always `whatsapp`.
    pub messaging_product: String,
    /// Our business phone number the change is about.
    pub metadata: Metadata,
    /// The customers who sent `messages`, with their profile names.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Customer messages, read one by one as [`Message`].
    #[serde(default)]
    pub messages: Vec<Value>,
    /// Status reports on messages we sent, read one by one as [`Status`].
    #[serde(default)]
    pub statuses: Vec<Value>,
}

/// Our business phone number.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    /// The number as shown to customers (`15550783881`).
    #[serde(default)]
    pub display_phone_number: Option<String>,
    /// The Graph API id of the number; messages are sent through it.
    pub phone_number_id: String,
}

/// A customer's profile as WhatsApp shares it.
#[derive(Debug, Deserialize)]
pub struct Contact {
    /// The customer's WhatsApp id: their phone number in international
    /// form, digits only.
    pub wa_id: String,
    /// The profile.
    #[serde(default)]
    pub profile: Option<Profile>,
}

/// A customer's WhatsApp profile.
#[derive(Debug, Deserialize)]
pub struct Profile {
    /// The name the customer set.
    #[serde(default)]
    pub name: Option<String>,
}

/// One customer message.
#[derive(Debug, Deserialize)]
pub struct Message {
    /// The sender's wa_id.
    pub from: String,
    /// The provider message id (`wamid.…`).
    pub id: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// `text`, `image`, `audio`, `video`, `document`, `sticker`,
    /// `location`, `interactive`, `button`, `reaction`, `unsupported`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Set when the message replies to (or forwards) another.
    #[serde(default)]
    pub context: Option<Context>,
    /// `type: text`.
    #[serde(default)]
    pub text: Option<Text>,
    /// `type: image`.
    #[serde(default)]
    pub image: Option<Media>,
    /// `type: audio` (a voice note has `voice: true`).
    #[serde(default)]
    pub audio: Option<Media>,
    /// `type: video`.
    #[serde(default)]
    pub video: Option<Media>,
    /// `type: document`.
    #[serde(default)]
    pub document: Option<Media>,
    /// `type: sticker`.
    #[serde(default)]
    pub sticker: Option<Media>,
    /// `type: location`.
    #[serde(default)]
    pub location: Option<Location>,
    /// `type: interactive`: a reply button or list row the customer chose.
    #[serde(default)]
    pub interactive: Option<Interactive>,
    /// `type: button`: a template's quick-reply button the customer chose.
    #[serde(default)]
    pub button: Option<Button>,
    /// `type: reaction`.
    #[serde(default)]
    pub reaction: Option<Reaction>,
    /// `type: unsupported`: why WhatsApp could not pass the message on.
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

/// What a message replies to.
#[derive(Debug, Deserialize)]
pub struct Context {
    /// The wamid of the message replied to (absent for a forward).
    #[serde(default)]
    pub id: Option<String>,
    /// The message was forwarded.
    #[serde(default)]
    pub forwarded: bool,
    /// The message was forwarded more than five times.
    #[serde(default)]
    pub frequently_forwarded: bool,
}

/// A text message's content.
#[derive(Debug, Deserialize)]
pub struct Text {
    /// The text.
    pub body: String,
}

/// A media message's content: the media by its id, which the Graph API
/// resolves (with the access token) to a short-lived download URL.
#[derive(Debug, Deserialize)]
pub struct Media {
    /// The media id.
    pub id: String,
    /// The media type (`image/jpeg`, `audio/ogg; codecs=opus`).
    pub mime_type: String,
    /// The caption of an image, video or document.
    #[serde(default)]
    pub caption: Option<String>,
    /// A document's file name.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A shared location.
#[derive(Debug, Deserialize)]
pub struct Location {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// A place name.
    #[serde(default)]
    pub name: Option<String>,
    /// A street address.
    #[serde(default)]
    pub address: Option<String>,
}

/// An interactive reply.
#[derive(Debug, Deserialize)]
pub struct Interactive {
    /// `button_reply` or `list_reply`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The reply button chosen.
    #[serde(default)]
    pub button_reply: Option<Choice>,
    /// The list row chosen.
    #[serde(default)]
    pub list_reply: Option<Choice>,
}

/// A button or list row, as we sent it.
#[derive(Debug, Deserialize)]
pub struct Choice {
    /// Our id of the choice.
    pub id: String,
    /// Its label.
    pub title: String,
}

/// A template quick-reply button.
#[derive(Debug, Deserialize)]
pub struct Button {
    /// The payload we gave the button.
    #[serde(default)]
    pub payload: Option<String>,
    /// Its label.
    pub text: String,
}

/// A reaction to a message.
#[derive(Debug, Deserialize)]
pub struct Reaction {
    /// The wamid reacted to.
    pub message_id: String,
    /// The emoji; absent or empty when the customer removed a reaction.
    #[serde(default)]
    pub emoji: Option<String>,
}

/// A status report on a message we sent.
#[derive(Debug, Deserialize)]
pub struct Status {
    /// The wamid of our message.
    pub id: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// Why it failed.
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

/// An error as the webhook reports it.
#[derive(Debug, Deserialize)]
pub struct ApiError {
    /// Meta's error code (`131047`).
    pub code: i64,
    /// Its short title.
    #[serde(default)]
    pub title: Option<String>,
    /// Its message.
    #[serde(default)]
    pub message: Option<String>,
    /// More detail.
    #[serde(default)]
    pub error_data: Option<ErrorData>,
}

/// The detail of an [`ApiError`].
#[derive(Debug, Deserialize)]
pub struct ErrorData {
    /// A sentence saying what went wrong.
    #[serde(default)]
    pub details: Option<String>,
}

// === impl ApiError ===

impl ApiError {
    /// `title: details`, or whichever of title, message and details exist.
    #[must_use]
    pub fn describe(&self) -> Option<String> {
        let title = self.title.as_deref().or(self.message.as_deref());
        let details = self
            .error_data
            .as_ref()
            .and_then(|data| data.details.as_deref());
        match (title, details) {
            (Some(title), Some(details)) if title != details => Some(format!("{title}: {details}")),
            (Some(text), _) | (None, Some(text)) => Some(text.to_owned()),
            (None, None) => None,
        }
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
        let error = parse_at::<Message>("messages[1]", json!({"id": "wamid.x"})).unwrap_err();
        assert_eq!(error.kind(), "bad-input");
        assert!(
            error.message().starts_with("`messages[1]`: missing field"),
            "{error:?}"
        );
    }

    #[test]
    fn describes_errors() {
        let error: ApiError = serde_json::from_value(json!({
            "code": 131047,
            "title": "Re-engagement message",
            "error_data": {"details": "More than 24 hours have passed."}
        }))
        .expect("an error");
        assert_eq!(
            error.describe().as_deref(),
            Some("Re-engagement message: More than 24 hours have passed.")
        );
        let bare: ApiError = serde_json::from_value(json!({"code": 1})).expect("an error");
        assert_eq!(bare.describe(), None);
    }
}
