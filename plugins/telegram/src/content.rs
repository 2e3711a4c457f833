//! One message's content → the parts of the contact format: text and
//! captions, files (by reference), locations, venues and contacts. Pure.
//!
//! Files are not downloaded here: an attachment's `url` is
//! `tg-file:<file_id>`, a reference only the Bot API resolves (`getFile`
//! with the bot token gives a download path valid for at least an hour).
//! The host does not fetch these yet (see README, "Not done"); the
//! `file_id` also lets an agent's reply re-send the same file, which
//! [`crate::outbound`] does.

use silta_sdk::PluginError;
use silta_sdk::types::{Attachment, Location, Part};

use crate::payload::{File, Message};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// The scheme of a file reference: `tg-file:<file_id>`.
pub const FILE_SCHEME: &str = "tg-file:";

/// Other content kinds Telegram documents, which this plugin keeps as an
/// interaction without parts (`telegram.type` says which), so nothing the
/// customer sent is lost.
pub const UNMAPPED_KINDS: [&str; 9] = [
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
    "paid_media",
    "giveaway",
    "giveaway_winners",
    "checklist",
];

/// What a message says, as parts, with the kind it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// `text`, `photo`, `document`, … (the message field it came from).
    pub kind: &'static str,
    /// The parts, caption first.
    pub parts: Vec<Part>,
    /// Facts worth keeping that have no part (a sticker's emoji).
    pub attributes: Vec<(String, String)>,
}

/// The content of `message` (found at `path`), or `None` for a message
/// without customer content (a service message: members joined, a title
/// changed, a message pinned). `keys` are the message's JSON keys, to
/// recognize the content kinds this plugin does not map.
pub fn of(path: &str, message: &Message, keys: &[&str]) -> Result<Option<Content>> {
    let mut content = Content {
        kind: "text",
        parts: Vec::new(),
        attributes: Vec::new(),
    };
    if let Some(text) = &message.text {
        if text.trim().is_empty() {
            return Err(PluginError::bad_input(format!("`{path}.text` is empty")));
        }
        content.parts.push(Part::Text(text.clone()));
        return Ok(Some(content));
    }
    if let Some(caption) = non_blank(message.caption.as_deref()) {
        content.parts.push(Part::Text(caption));
    }
    let (kind, attachment) = if let Some(sizes) = &message.photo {
        // The sizes come smallest first; pick the largest anyway.
        let largest = sizes
            .iter()
            .enumerate()
            .max_by_key(|(_, size)| u64::from(size.width) * u64::from(size.height))
            .ok_or_else(|| PluginError::bad_input(format!("`{path}.photo` is empty")))?;
        let (n, size) = largest;
        // Telegram re-encodes every photo as JPEG.
        let mut attachment = Attachment::from_url(
            "image/jpeg",
            file_ref(&format!("{path}.photo[{n}].file_id"), &size.file_id)?,
        );
        if let Some(bytes) = size.file_size {
            attachment = attachment.with_size_bytes(bytes);
        }
        ("photo", attachment)
    } else if let Some(file) = &message.animation {
        // Checked before `document`: Telegram sets both for an animation.
        (
            "animation",
            file_attachment(path, "animation", file, "video/mp4")?,
        )
    } else if let Some(file) = &message.document {
        (
            "document",
            file_attachment(path, "document", file, "application/octet-stream")?,
        )
    } else if let Some(file) = &message.audio {
        ("audio", file_attachment(path, "audio", file, "audio/mpeg")?)
    } else if let Some(file) = &message.video {
        ("video", file_attachment(path, "video", file, "video/mp4")?)
    } else if let Some(file) = &message.voice {
        ("voice", file_attachment(path, "voice", file, "audio/ogg")?)
    } else if let Some(file) = &message.video_note {
        (
            "video_note",
            file_attachment(path, "video_note", file, "video/mp4")?,
        )
    } else if let Some(sticker) = &message.sticker {
        let media_type = if sticker.is_animated {
            "application/x-tgsticker"
        } else if sticker.is_video {
            "video/webm"
        } else {
            "image/webp"
        };
        let mut attachment = Attachment::from_url(
            media_type,
            file_ref(&format!("{path}.sticker.file_id"), &sticker.file_id)?,
        );
        if let Some(bytes) = sticker.file_size {
            attachment = attachment.with_size_bytes(bytes);
        }
        if let Some(emoji) = non_blank(sticker.emoji.as_deref()) {
            content
                .attributes
                .push(("telegram.sticker_emoji".into(), emoji));
        }
        ("sticker", attachment)
    } else {
        return other(path, message, keys, content);
    };
    content.kind = kind;
    content.parts.push(Part::Attachment(attachment));
    Ok(Some(content))
}

/// Venues, locations, contacts, the unmapped kinds, or nothing.
fn other(
    path: &str,
    message: &Message,
    keys: &[&str],
    mut content: Content,
) -> Result<Option<Content>> {
    if let Some(venue) = &message.venue {
        // Checked before `location`: Telegram sets both for a venue.
        content.kind = "venue";
        content.parts.push(location(
            &format!("{path}.venue.location"),
            venue.location.latitude,
            venue.location.longitude,
            non_blank(Some(&venue.title)),
            non_blank(Some(&venue.address)),
        )?);
    } else if let Some(at) = &message.location {
        content.kind = "location";
        content.parts.push(location(
            &format!("{path}.location"),
            at.latitude,
            at.longitude,
            None,
            None,
        )?);
    } else if let Some(contact) = &message.contact {
        content.kind = "contact";
        let name = match non_blank(contact.last_name.as_deref()) {
            Some(last) => format!("{} {last}", contact.first_name.trim()),
            None => contact.first_name.trim().to_owned(),
        };
        let phone = contact.phone_number.trim();
        if phone.is_empty() {
            return Err(PluginError::bad_input(format!(
                "`{path}.contact.phone_number` is empty"
            )));
        }
        // No part carries a contact card; the text says it and the
        // attributes keep it machine-readable. The phone number is the
        // sender's claim, so it is not an identity of anyone.
        content
            .parts
            .push(Part::Text(format!("Shared contact: {name}, {phone}")));
        content
            .attributes
            .push(("telegram.contact_phone_number".into(), phone.to_owned()));
        content
            .attributes
            .push(("telegram.contact_name".into(), name));
        if let Some(user_id) = contact.user_id {
            content
                .attributes
                .push(("telegram.contact_user_id".into(), user_id.to_string()));
        }
    } else if let Some(kind) = UNMAPPED_KINDS.iter().find(|kind| keys.contains(kind)) {
        content.kind = kind;
    } else if content.parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(content))
}

/// A file as an attachment by reference.
fn file_attachment(path: &str, kind: &str, file: &File, default_type: &str) -> Result<Attachment> {
    let field = format!("{path}.{kind}");
    let media_type = match file.mime_type.as_deref().map(str::trim) {
        None | Some("") => default_type,
        Some(given) => {
            let plausible = given
                .split_once('/')
                .is_some_and(|(top, sub)| !top.is_empty() && !sub.trim().is_empty())
                && !given.chars().any(char::is_control);
            if !plausible {
                return Err(PluginError::bad_input(format!(
                    "`{field}.mime_type` must be a media type such as application/pdf, got {given:?}"
                )));
            }
            given
        }
    };
    let mut attachment = Attachment::from_url(
        media_type,
        file_ref(&format!("{field}.file_id"), &file.file_id)?,
    );
    if let Some(name) = non_blank(file.file_name.as_deref()) {
        attachment = attachment.with_filename(name);
    }
    if let Some(bytes) = file.file_size {
        attachment = attachment.with_size_bytes(bytes);
    }
    Ok(attachment)
}

/// `tg-file:<file_id>`, after checking the id looks like one (Telegram's
/// are URL-safe base64).
pub fn file_ref(field: &str, file_id: &str) -> Result<String> {
    let plausible = !file_id.is_empty()
        && file_id.len() <= 256
        && file_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !plausible {
        return Err(PluginError::bad_input(format!(
            "`{field}` must be a Telegram file id (letters, digits, `_` and `-`), got {file_id:?}"
        )));
    }
    Ok(format!("{FILE_SCHEME}{file_id}"))
}

fn location(
    field: &str,
    latitude: f64,
    longitude: f64,
    name: Option<String>,
    address: Option<String>,
) -> Result<Part> {
    let part = Part::Location(Location {
        latitude,
        longitude,
        name,
        address,
    });
    silta_sdk::validate::part(field, &part)?;
    Ok(part)
}

fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content(extra: serde_json::Value) -> Result<Option<Content>> {
        let mut base = json!({"message_id": 7, "date": 1795464000,
            "chat": {"id": 1, "type": "private"}});
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        let keys: Vec<String> = base
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let message: Message = serde_json::from_value(base.clone()).expect("a message");
        of("message", &message, &keys)
    }

    #[test]
    fn the_largest_photo_is_kept_by_reference_after_the_caption() {
        let got = content(json!({"caption": "The box", "photo": [
            {"file_id": "small", "file_unique_id": "a", "width": 90, "height": 67, "file_size": 1200},
            {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 98000},
            {"file_id": "mid", "file_unique_id": "c", "width": 320, "height": 240}]}))
        .expect("ok")
        .expect("content");
        assert_eq!(got.kind, "photo");
        let [Part::Text(caption), Part::Attachment(photo)] = got.parts.as_slice() else {
            panic!("caption then photo: {got:?}");
        };
        assert_eq!(caption, "The box");
        assert_eq!(photo.url.as_deref(), Some("tg-file:big"));
        assert_eq!(photo.media_type, "image/jpeg");
        assert_eq!(photo.size_bytes, Some(98000));
    }

    #[test]
    fn an_animation_is_not_a_document_and_a_venue_not_a_location() {
        let file = json!({"file_id": "gif1", "file_unique_id": "u", "mime_type": "video/mp4"});
        let got = content(json!({"animation": file, "document": file}))
            .expect("ok")
            .expect("content");
        assert_eq!(got.kind, "animation");
        let at = json!({"latitude": 60.17, "longitude": 24.94});
        let got = content(json!({"location": at,
            "venue": {"location": at, "title": "Kauppatori", "address": "Helsinki"}}))
        .expect("ok")
        .expect("content");
        assert_eq!(got.kind, "venue");
    }

    #[test]
    fn service_messages_have_no_content_and_polls_no_parts() {
        let joined =
            content(json!({"new_chat_members": [{"id": 5, "is_bot": false, "first_name": "A"}]}));
        assert_eq!(joined.expect("ok"), None);
        let poll = content(json!({"poll": {"id": "1", "question": "?"}}))
            .expect("ok")
            .expect("kept");
        assert_eq!((poll.kind, poll.parts.len()), ("poll", 0));
    }

    #[test]
    fn bad_content_is_bad_input_naming_the_field() {
        for (extra, reason) in [
            (json!({"text": "  "}), "`message.text` is empty"),
            (json!({"photo": []}), "`message.photo` is empty"),
            (
                json!({"document": {"file_id": "../etc", "file_unique_id": "u"}}),
                "`message.document.file_id` must be a Telegram file id",
            ),
            (
                json!({"document": {"file_id": "x", "file_unique_id": "u", "mime_type": "pdf"}}),
                "`message.document.mime_type` must be a media type",
            ),
            (
                json!({"location": {"latitude": 91.0, "longitude": 0.0}}),
                "latitude must be within",
            ),
        ] {
            let error = content(extra).unwrap_err();
            assert_eq!(error.kind(), "bad-input");
            assert!(error.message().contains(reason), "{error:?}");
        }
    }
}
