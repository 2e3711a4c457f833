//! One customer message's content → the parts of the contact format:
//! text, media attachments (by media id), location, interactive replies
//! and reactions. Pure.

use silta_sdk::PluginError;
use silta_sdk::types::{Attachment, InteractiveReply, Location, Part, Reaction};

use crate::payload::{Media, Message};

/// Where the Graph API answers for a media id: `GET {MEDIA_BASE}/{id}`
/// with the access token gives the media's short-lived download URL.
/// Unversioned, so the reference stays the same whatever `api_version`
/// the operator configures.
pub const MEDIA_BASE: &str = "https://graph.facebook.com";

/// The parts of `message`, in order; empty for a type this plugin does
/// not map (the interaction keeps `whatsapp.type` to say which).
pub fn parts(path: &str, message: &Message) -> Result<Vec<Part>, PluginError> {
    let missing = |key: &str| PluginError::missing(&format!("{path}.{key}"));
    let kind = message.kind.as_str();
    Ok(match kind {
        "text" => {
            let text = message.text.as_ref().ok_or_else(|| missing("text"))?;
            if text.body.trim().is_empty() {
                return Err(PluginError::bad_input(format!(
                    "`{path}.text.body` is empty"
                )));
            }
            vec![Part::Text(text.body.clone())]
        }
        "image" | "audio" | "video" | "document" | "sticker" => {
            let media = media_of(message, kind).ok_or_else(|| missing(kind))?;
            media_parts(&format!("{path}.{kind}"), media)?
        }
        "location" => {
            let location = message
                .location
                .as_ref()
                .ok_or_else(|| missing("location"))?;
            let part = Part::Location(Location {
                latitude: location.latitude,
                longitude: location.longitude,
                name: non_blank(location.name.as_deref()),
                address: non_blank(location.address.as_deref()),
            });
            silta_sdk::validate::part(&format!("{path}.location"), &part)?;
            vec![part]
        }
        "interactive" => {
            let interactive = message
                .interactive
                .as_ref()
                .ok_or_else(|| missing("interactive"))?;
            let choice = match interactive.kind.as_str() {
                "button_reply" => interactive.button_reply.as_ref(),
                "list_reply" => interactive.list_reply.as_ref(),
                other => {
                    return Err(PluginError::bad_input(format!(
                        "`{path}.interactive.type` must be button_reply or list_reply, got {other:?}"
                    )));
                }
            }
            .ok_or_else(|| missing(&format!("interactive.{}", interactive.kind)))?;
            vec![Part::Interactive(InteractiveReply {
                id: choice.id.clone(),
                title: choice.title.clone(),
            })]
        }
        "button" => {
            let button = message.button.as_ref().ok_or_else(|| missing("button"))?;
            vec![Part::Interactive(InteractiveReply {
                id: button
                    .payload
                    .clone()
                    .unwrap_or_else(|| button.text.clone()),
                title: button.text.clone(),
            })]
        }
        "reaction" => {
            let reaction = message
                .reaction
                .as_ref()
                .ok_or_else(|| missing("reaction"))?;
            silta_sdk::validate::provider_id(
                &format!("{path}.reaction.message_id"),
                &reaction.message_id,
            )?;
            vec![Part::Reaction(Reaction {
                // Empty: the customer took their reaction back.
                emoji: reaction.emoji.clone().unwrap_or_default(),
                provider_message_id: reaction.message_id.clone(),
            })]
        }
        // `unsupported`, `contacts`, `order`, `system`, ...: kept as an
        // interaction without parts, so nothing the customer did is lost.
        _ => Vec::new(),
    })
}

fn media_of<'m>(message: &'m Message, kind: &str) -> Option<&'m Media> {
    match kind {
        "image" => message.image.as_ref(),
        "audio" => message.audio.as_ref(),
        "video" => message.video.as_ref(),
        "document" => message.document.as_ref(),
        "sticker" => message.sticker.as_ref(),
        _ => None,
    }
}

/// The caption (if any) as text, then the media as an attachment whose
/// URL is the Graph API's reference for the media id.
fn media_parts(path: &str, media: &Media) -> Result<Vec<Part>, PluginError> {
    let id = media.id.trim();
    let plausible_id = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !plausible_id {
        return Err(PluginError::bad_input(format!(
            "`{path}.id` must be a Graph media id (letters and digits), got {:?}",
            media.id
        )));
    }
    let media_type = media.mime_type.trim();
    let plausible_type = media_type
        .split_once('/')
        .is_some_and(|(kind, subtype)| !kind.is_empty() && !subtype.trim().is_empty());
    if !plausible_type {
        return Err(PluginError::bad_input(format!(
            "`{path}.mime_type` must be a media type such as image/jpeg, got {:?}",
            media.mime_type
        )));
    }
    let mut attachment = Attachment::from_url(media_type, format!("{MEDIA_BASE}/{id}"));
    if let Some(filename) = non_blank(media.filename.as_deref()) {
        attachment = attachment.with_filename(filename);
    }
    let mut parts = Vec::with_capacity(2);
    if let Some(caption) = non_blank(media.caption.as_deref()) {
        parts.push(Part::Text(caption));
    }
    parts.push(Part::Attachment(attachment));
    Ok(parts)
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

    fn message(value: serde_json::Value) -> Message {
        let mut base = json!({"from": "358401234567", "id": "wamid.A", "timestamp": "1795464000"});
        if let (Some(base), Some(extra)) = (base.as_object_mut(), value.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(base).expect("a message")
    }

    #[test]
    fn media_is_referenced_by_its_graph_id_with_the_caption_first() {
        let parts = parts(
            "m",
            &message(json!({"type": "document", "document": {
                "id": "1003383421387256", "mime_type": "application/pdf",
                "caption": " Invoice ", "filename": "invoice.pdf", "sha256": "x"}})),
        )
        .expect("parts");
        let [Part::Text(caption), Part::Attachment(attachment)] = parts.as_slice() else {
            panic!("caption and attachment, got {parts:?}");
        };
        assert_eq!(caption, "Invoice");
        assert_eq!(
            attachment.url.as_deref(),
            Some("https://graph.facebook.com/1003383421387256")
        );
        assert_eq!(attachment.media_type, "application/pdf");
        assert_eq!(attachment.filename.as_deref(), Some("invoice.pdf"));
    }

    #[test]
    fn choices_become_interactive_parts() {
        let list = message(json!({"type": "interactive", "interactive": {
            "type": "list_reply", "list_reply": {"id": "slot-2", "title": "Tue 10:00", "description": "x"}}}));
        assert_eq!(
            parts("m", &list).expect("parts"),
            vec![Part::Interactive(InteractiveReply {
                id: "slot-2".into(),
                title: "Tue 10:00".into()
            })]
        );
        let button = message(json!({"type": "button", "button": {"text": "Stop promotions"}}));
        assert_eq!(
            parts("m", &button).expect("parts"),
            vec![Part::Interactive(InteractiveReply {
                id: "Stop promotions".into(),
                title: "Stop promotions".into()
            })]
        );
    }

    #[test]
    fn a_removed_reaction_has_an_empty_emoji() {
        let removed = message(json!({"type": "reaction", "reaction": {"message_id": "wamid.B"}}));
        assert_eq!(
            parts("m", &removed).expect("parts"),
            vec![Part::Reaction(Reaction {
                emoji: String::new(),
                provider_message_id: "wamid.B".into()
            })]
        );
    }

    #[test]
    fn missing_content_is_bad_input_naming_the_field() {
        for (value, reason) in [
            (json!({"type": "text"}), "`m.text` is missing"),
            (json!({"type": "image"}), "`m.image` is missing"),
            (
                json!({"type": "image", "image": {"id": "../x", "mime_type": "image/jpeg"}}),
                "`m.image.id` must be a Graph media id",
            ),
            (
                json!({"type": "interactive", "interactive": {"type": "nfm_reply"}}),
                "must be button_reply or list_reply",
            ),
        ] {
            let error = parts("m", &message(value)).unwrap_err();
            assert_eq!(error.kind(), "bad-input");
            assert!(error.message().contains(reason), "{error:?}");
        }
        let unknown = message(json!({"type": "order", "order": {}}));
        assert_eq!(parts("m", &unknown).expect("kept"), Vec::new());
    }
}
