//! The ordered parts of an interaction.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::content_hash::ContentHash;
use crate::language::LanguageTag;

/// One ordered part of an interaction. Mirrors the WIT `part`.
///
/// In JSON a part is an object with one key naming the kind:
/// `{"text": "Hei!"}`, `{"attachment": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Plain text.
    Text(String),
    /// HTML, as received; sanitize before showing.
    Html(String),
    /// Quoted earlier history, kept apart from the new text.
    Quoted(String),
    /// A file, by reference.
    Attachment(Attachment),
    /// A shared location.
    Location(Location),
    /// A choice from buttons or a list.
    Interactive(InteractiveReply),
    /// A provider-approved template.
    Template(Template),
    /// A reaction to another message.
    Reaction(Reaction),
}

/// A file, by reference. The bytes live in content storage under
/// [`content_hash`](Attachment::content_hash); the model never carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// The file name the sender gave.
    pub filename: Option<String>,
    /// The media type (`"application/pdf"`).
    pub media_type: String,
    /// The size, when known.
    pub size_bytes: Option<u64>,
    /// The hash the bytes are stored under, once they are stored.
    pub content_hash: Option<ContentHash>,
    /// Where the bytes can be fetched, when they are not stored yet.
    pub url: Option<String>,
    /// `Content-ID` of an inline image.
    pub content_id: Option<String>,
    /// Shown inline rather than as a download.
    pub inline: bool,
}

/// A shared location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Degrees north, -90 to 90.
    pub latitude: f64,
    /// Degrees east, -180 to 180.
    pub longitude: f64,
    /// A place name.
    pub name: Option<String>,
    /// A street address.
    pub address: Option<String>,
}

/// A choice the customer made from buttons or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractiveReply {
    /// The choice's id, as we sent it.
    pub id: String,
    /// The choice's label.
    pub title: String,
}

/// A provider-approved message template (WhatsApp outside the 24 h window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The template's name at the provider.
    pub name: String,
    /// The template's language.
    pub language: LanguageTag,
    /// Values for the template's placeholders, in order.
    pub parameters: Vec<String>,
}

/// A reaction (emoji) to another message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    /// The emoji.
    pub emoji: String,
    /// The provider's id of the message reacted to.
    pub provider_message_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_externally_tagged() {
        let text = Part::Text("Hei!".into());
        assert_eq!(
            serde_json::to_string(&text).expect("serialize"),
            r#"{"text":"Hei!"}"#
        );
        let reaction: Part =
            serde_json::from_str(r#"{"reaction":{"emoji":"👍","provider_message_id":"wamid.1"}}"#)
                .expect("valid part");
        assert_eq!(
            reaction,
            Part::Reaction(Reaction {
                emoji: "👍".into(),
                provider_message_id: "wamid.1".into()
            })
        );
    }

    #[test]
    fn attachment_hash_is_validated() {
        let bad = r#"{"attachment":{"filename":null,"media_type":"text/plain","size_bytes":3,
            "content_hash":"sha256:nothex","url":null,"content_id":null,"inline":false}}"#;
        assert!(serde_json::from_str::<Part>(bad).is_err());
        let unknown = r#"{"attachment":{"filename":null,"media_type":"text/plain","size_bytes":3,
            "content_hash":null,"url":null,"content_id":null,"inline":false,"content":[1,2]}}"#;
        assert!(
            serde_json::from_str::<Part>(unknown).is_err(),
            "raw bytes have no place in the model"
        );
    }
}
