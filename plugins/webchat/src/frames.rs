//! The frames a widget sends, as the gateway hands them over (see
//! `core/webchat/PROTOCOL.md`). Parsing checks shape and limits; the
//! meaning is [`crate::mapping`]'s.

use serde::Deserialize;
use silta_sdk::types::PluginError;

use crate::gateway::is_token_like;

/// Most characters of a message's text.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Most message ids in one receipt.
pub const MAX_RECEIPT_IDS: usize = 100;
/// The longest `client_id`.
pub const MAX_CLIENT_ID_LEN: usize = 64;
/// The longest frame accepted.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// One frame from the widget.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Frame {
    /// Something the visitor wrote.
    Message(Message),
    /// The widget showed (or the visitor read) agent messages.
    Receipt(Receipt),
}

/// A `message` frame.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The widget's id for it, the same on every resend.
    pub client_id: String,
    /// What the visitor typed; may be empty when there are attachments.
    #[serde(default)]
    pub text: String,
    /// Files the visitor uploaded first.
    #[serde(default)]
    pub attachments: Vec<Upload>,
    /// A signed-in user's identity token, from the site.
    #[serde(default)]
    pub identity_token: Option<String>,
}

/// An uploaded file, by its blob.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// `sha256:<hex>`, as `POST /uploads` answered.
    pub blob: String,
    /// The file's name on the visitor's machine.
    #[serde(default)]
    pub name: Option<String>,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
}

/// A `receipt` frame.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Message ids (interaction ids) of agent messages.
    pub ids: Vec<String>,
    /// What happened to them.
    pub state: ReceiptState,
}

/// What a receipt reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptState {
    /// The widget showed them.
    Delivered,
    /// The visitor had the chat open and in view when they were shown.
    Read,
}

/// Parse and check one frame.
pub fn parse(body: &[u8]) -> Result<Frame, PluginError> {
    if body.len() > MAX_FRAME_BYTES {
        return Err(PluginError::bad_input(format!(
            "the frame is {} bytes; the limit is {MAX_FRAME_BYTES}",
            body.len()
        )));
    }
    let frame: Frame = serde_json::from_slice(body)
        .map_err(|error| PluginError::bad_input(format!("not a web chat frame: {error}")))?;
    match &frame {
        Frame::Message(message) => check_message(message)?,
        Frame::Receipt(receipt) => check_receipt(receipt)?,
    }
    Ok(frame)
}

fn check_message(message: &Message) -> Result<(), PluginError> {
    if !is_token_like(&message.client_id, MAX_CLIENT_ID_LEN) {
        return Err(PluginError::bad_input(format!(
            "`client_id` must be 1–{MAX_CLIENT_ID_LEN} characters of A–Z a–z 0–9 _ -"
        )));
    }
    let chars = message.text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(PluginError::bad_input(format!(
            "`text` is {chars} characters; the limit is {MAX_TEXT_CHARS}"
        )));
    }
    if message.text.trim().is_empty() && message.attachments.is_empty() {
        return Err(PluginError::bad_input(
            "the message is empty: it needs text or an attachment",
        ));
    }
    if message.attachments.len() > MAX_ATTACHMENTS {
        return Err(PluginError::bad_input(format!(
            "{} attachments; the limit is {MAX_ATTACHMENTS}",
            message.attachments.len()
        )));
    }
    for (index, upload) in message.attachments.iter().enumerate() {
        if !is_blob_hash(&upload.blob) {
            return Err(PluginError::bad_input(format!(
                "`attachments[{index}].blob` must be `sha256:` and 64 lowercase hex digits"
            )));
        }
        if !is_media_type(&upload.media_type) {
            return Err(PluginError::bad_input(format!(
                "`attachments[{index}].media_type` must be a media type such as image/png, got {:?}",
                upload.media_type
            )));
        }
        if upload
            .name
            .as_ref()
            .is_some_and(|name| name.chars().count() > 255 || name.chars().any(char::is_control))
        {
            return Err(PluginError::bad_input(format!(
                "`attachments[{index}].name` must be at most 255 characters, without control characters"
            )));
        }
    }
    Ok(())
}

fn check_receipt(receipt: &Receipt) -> Result<(), PluginError> {
    if receipt.ids.is_empty() || receipt.ids.len() > MAX_RECEIPT_IDS {
        return Err(PluginError::bad_input(format!(
            "a receipt names 1–{MAX_RECEIPT_IDS} message ids, got {}",
            receipt.ids.len()
        )));
    }
    if let Some(bad) = receipt.ids.iter().find(|id| !is_uuid(id)) {
        return Err(PluginError::bad_input(format!(
            "receipt id {bad:?} is not a message id"
        )));
    }
    Ok(())
}

/// `sha256:` and 64 lowercase hex digits: a content hash as the host
/// writes it (the host's parser also takes upper case and spaces, which
/// the gateway never sends).
#[must_use]
pub fn is_blob_hash(value: &str) -> bool {
    silta_sdk::validate::content_hash("blob", value).is_ok_and(|canonical| canonical == value)
}

/// `type/subtype`, lowercase token characters, without parameters.
fn is_media_type(value: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&-^_.+".contains(&b))
    };
    value
        .split_once('/')
        .is_some_and(|(kind, sub)| token(kind) && token(sub))
}

/// A UUID in its hyphenated lowercase form (interaction ids are UUIDv7).
fn is_uuid(value: &str) -> bool {
    value.len() == 36
        && value.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_needs_content_and_a_sane_client_id() {
        let err = |body: &str| parse(body.as_bytes()).expect_err(body).message().to_owned();
        assert!(err(r#"{"type":"message","client_id":"c-1","text":"  "}"#).contains("empty"));
        assert!(err(r#"{"type":"message","client_id":"c 1","text":"hi"}"#).contains("client_id"));
        assert!(
            err(r#"{"type":"message","client_id":"c-1","text":"hi","extra":1}"#)
                .contains("unknown field")
        );
        assert!(err(r#"{"type":"typing","active":true}"#).contains("unknown variant"));
        assert!(parse(br#"{"type":"message","client_id":"c-1","text":"hi"}"#).is_ok());
    }

    #[test]
    fn blob_hashes_and_media_types_are_checked() {
        assert!(is_blob_hash(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_blob_hash(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_blob_hash("sha256:abc"));
        assert!(is_media_type("application/vnd.ms-excel"));
        assert!(!is_media_type("text/html; charset=utf-8"));
        assert!(!is_media_type("text"));
    }

    #[test]
    fn receipts_name_message_ids() {
        assert!(parse(br#"{"type":"receipt","ids":[],"state":"read"}"#).is_err());
        assert!(parse(br#"{"type":"receipt","ids":["x"],"state":"read"}"#).is_err());
        assert!(parse(
            br#"{"type":"receipt","ids":["0193b6a0-7c1e-7d2a-9f00-0123456789ab"],"state":"seen"}"#
        )
        .is_err());
        assert!(parse(
            br#"{"type":"receipt","ids":["0193b6a0-7c1e-7d2a-9f00-0123456789ab"],"state":"read"}"#
        )
        .is_ok());
    }
}
