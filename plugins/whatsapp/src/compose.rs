//! An outbound message's parts → the one Cloud API message type that
//! carries them: `text`, `image`/`video`/`audio`/`document`/`sticker` (by
//! link, with the text as caption), `interactive` reply buttons,
//! `location`, `reaction` or `template`. A combination WhatsApp cannot
//! carry in one message is refused as `permanent`, never cut. Pure.

use serde_json::{Value, json};
use silta_sdk::types::{
    Attachment, InteractiveReply, Location, Part, PluginError, Reaction, Template,
};
use silta_sdk::validate;

use crate::outbound::template_json;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// The Cloud API's limit on a text body.
pub const MAX_TEXT_CHARS: usize = 4096;
/// The limit on a media caption and an interactive body.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// Reply buttons per interactive message.
pub const MAX_BUTTONS: usize = 3;
/// The limit on a reply button's title.
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
/// The limit on a reply button's id.
pub const MAX_BUTTON_ID_CHARS: usize = 256;

/// What one WhatsApp message carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Content<'m> {
    /// A text message.
    Text(String),
    /// A media message by link, with an optional caption.
    Media(&'m Attachment, Option<String>),
    /// A text body with reply buttons.
    Buttons(String, Vec<&'m InteractiveReply>),
    /// A location pin.
    Location(&'m Location),
    /// A reaction to a message.
    Reaction(&'m Reaction),
    /// An approved template: the only content outside the 24-hour window.
    Template(&'m Template),
}

/// The content of `parts`. Quoted history is left out (the customer has
/// it in the chat).
pub fn content(parts: &[Part]) -> Result<Content<'_>> {
    let mut texts = Vec::new();
    let mut attachments = Vec::new();
    let mut buttons = Vec::new();
    let mut others = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        match part {
            Part::Text(text) if !text.trim().is_empty() => texts.push(text.as_str()),
            Part::Text(_) | Part::Quoted(_) => {}
            Part::Attachment(attachment) => attachments.push(attachment),
            Part::Interactive(choice) => buttons.push(choice),
            Part::Html(_) => {
                return Err(PluginError::permanent(format!(
                    "parts[{n}] is HTML; WhatsApp carries plain text only (send a text part)"
                )));
            }
            Part::Location(_) | Part::Reaction(_) | Part::Template(_) => others.push(part),
        }
    }
    let text = (!texts.is_empty()).then(|| texts.join("\n\n"));
    match (
        others.as_slice(),
        attachments.as_slice(),
        buttons.is_empty(),
    ) {
        ([], [], true) => match text {
            Some(text) => Ok(Content::Text(limit("text", text, MAX_TEXT_CHARS)?)),
            None => Err(PluginError::bad_input(
                "the message has nothing to send: no text, attachment, location, reaction, buttons or template",
            )),
        },
        ([], [attachment], true) => media(attachment, text),
        ([], [], false) => {
            let body = text.ok_or_else(|| {
                PluginError::permanent(
                    "WhatsApp reply buttons need a text part as the message body",
                )
            })?;
            interactive(
                limit("the buttons' body", body, MAX_CAPTION_CHARS)?,
                buttons,
            )
        }
        ([only], [], true) if text.is_none() => Ok(match *only {
            Part::Location(location) => Content::Location(location),
            Part::Reaction(reaction) => {
                validate::provider_id(
                    "reaction.provider_message_id",
                    &reaction.provider_message_id,
                )?;
                Content::Reaction(reaction)
            }
            Part::Template(template) => Content::Template(template),
            _ => return Err(mixed()),
        }),
        _ => Err(mixed()),
    }
}

fn mixed() -> PluginError {
    PluginError::permanent(
        "WhatsApp carries one kind of content per message: text, one attachment (with the text as caption), text with up to 3 reply buttons, a location, a reaction or a template alone",
    )
}

/// One attachment by link; the text becomes its caption where WhatsApp
/// shows one.
fn media(attachment: &Attachment, caption: Option<String>) -> Result<Content<'_>> {
    let url = attachment.url.as_deref().ok_or_else(|| {
        PluginError::permanent(
            "the attachment has no url; this plugin sends WhatsApp media by link (an https URL Meta can fetch)",
        )
    })?;
    validate::http_url("attachment.url", url)
        .map_err(|error| PluginError::permanent(error.message().to_owned()))?;
    let kind = media_kind(&attachment.media_type);
    let caption = match caption {
        Some(_) if matches!(kind, "audio" | "sticker") => {
            return Err(PluginError::permanent(format!(
                "WhatsApp shows no caption on {kind}; send the text as a message of its own"
            )));
        }
        Some(caption) => Some(limit("caption", caption, MAX_CAPTION_CHARS)?),
        None => None,
    };
    Ok(Content::Media(attachment, caption))
}

fn interactive(body: String, buttons: Vec<&InteractiveReply>) -> Result<Content<'_>> {
    if buttons.len() > MAX_BUTTONS {
        return Err(PluginError::permanent(format!(
            "{} reply buttons; WhatsApp shows at most {MAX_BUTTONS}",
            buttons.len()
        )));
    }
    for button in &buttons {
        let title_chars = button.title.chars().count();
        if button.id.trim().is_empty() || button.id.chars().count() > MAX_BUTTON_ID_CHARS {
            return Err(PluginError::permanent(format!(
                "reply button {:?}: the id must be 1 to {MAX_BUTTON_ID_CHARS} characters",
                button.title
            )));
        }
        if button.title.trim().is_empty() || title_chars > MAX_BUTTON_TITLE_CHARS {
            return Err(PluginError::permanent(format!(
                "reply button {:?}: the title must be 1 to {MAX_BUTTON_TITLE_CHARS} characters",
                button.title
            )));
        }
    }
    Ok(Content::Buttons(body, buttons))
}

/// The Cloud API message type for a media type.
#[must_use]
pub fn media_kind(media_type: &str) -> &'static str {
    let media_type = media_type.trim().to_ascii_lowercase();
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    match essence.split_once('/') {
        Some(("image", "webp")) => "sticker",
        Some(("image", _)) => "image",
        Some(("video", _)) => "video",
        Some(("audio", _)) => "audio",
        _ => "document",
    }
}

fn limit(what: &str, text: String, max: usize) -> Result<String> {
    let chars = text.chars().count();
    if chars > max {
        return Err(PluginError::permanent(format!(
            "the {what} is {chars} characters; WhatsApp takes at most {max}"
        )));
    }
    Ok(text)
}

// === impl Content ===

impl Content<'_> {
    /// The message `type` and the object under that key.
    #[must_use]
    pub fn into_json(self) -> (&'static str, Value) {
        match self {
            Content::Text(body) => ("text", json!({ "body": body, "preview_url": false })),
            Content::Media(attachment, caption) => {
                let kind = media_kind(&attachment.media_type);
                let mut media = json!({ "link": attachment.url });
                if let Some(caption) = caption {
                    media["caption"] = caption.into();
                }
                if kind == "document"
                    && let Some(filename) = &attachment.filename
                {
                    media["filename"] = filename.as_str().into();
                }
                (kind, media)
            }
            Content::Buttons(body, buttons) => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|b| json!({ "type": "reply", "reply": { "id": b.id, "title": b.title } }))
                    .collect();
                (
                    "interactive",
                    json!({ "type": "button", "body": { "text": body }, "action": { "buttons": buttons } }),
                )
            }
            Content::Location(location) => {
                let mut value =
                    json!({ "latitude": location.latitude, "longitude": location.longitude });
                if let Some(name) = &location.name {
                    value["name"] = name.as_str().into();
                }
                if let Some(address) = &location.address {
                    value["address"] = address.as_str().into();
                }
                ("location", value)
            }
            Content::Reaction(reaction) => (
                "reaction",
                json!({ "message_id": reaction.provider_message_id, "emoji": reaction.emoji }),
            ),
            Content::Template(template) => ("template", template_json(template)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(parts: &[Part]) -> Result<(&'static str, Value)> {
        content(parts).map(Content::into_json)
    }

    fn button(id: &str, title: &str) -> Part {
        Part::Interactive(InteractiveReply {
            id: id.into(),
            title: title.into(),
        })
    }

    #[test]
    fn media_by_link_with_the_text_as_caption() {
        let pdf = Attachment::from_url("application/pdf", "https://cdn.example.fi/i.pdf")
            .with_filename("invoice.pdf");
        let parts = [Part::Text("Your invoice".into()), Part::Attachment(pdf)];
        assert_eq!(
            json_of(&parts).expect("media"),
            (
                "document",
                json!({"link": "https://cdn.example.fi/i.pdf", "caption": "Your invoice", "filename": "invoice.pdf"})
            )
        );
        assert_eq!(media_kind("image/jpeg"), "image");
        assert_eq!(media_kind("image/webp"), "sticker");
        assert_eq!(media_kind("audio/ogg; codecs=opus"), "audio");
        assert_eq!(media_kind("video/mp4"), "video");
        let voice = Attachment::from_url("audio/ogg", "https://cdn.example.fi/v.ogg");
        let error = content(&[Part::Text("hi".into()), Part::Attachment(voice)]).unwrap_err();
        assert!(error.message().contains("no caption on audio"), "{error:?}");
        let inline = Attachment::from_bytes("image/png", vec![1, 2, 3]);
        let error = content(&[Part::Attachment(inline)]).unwrap_err();
        assert!(error.message().contains("by link"), "{error:?}");
    }

    #[test]
    fn buttons_need_a_body_and_fit_whatsapps_limits() {
        let parts = [
            Part::Text("Which slot?".into()),
            button("slot-1", "Mon 9:00"),
            button("slot-2", "Tue 10:00"),
        ];
        let (kind, value) = json_of(&parts).expect("buttons");
        assert_eq!(kind, "interactive");
        assert_eq!(value["type"], "button");
        assert_eq!(value["body"]["text"], "Which slot?");
        assert_eq!(value["action"]["buttons"][1]["reply"]["id"], "slot-2");
        assert!(
            content(&[button("a", "A")])
                .unwrap_err()
                .message()
                .contains("text part")
        );
        let four = [
            Part::Text("?".into()),
            button("a", "A"),
            button("b", "B"),
            button("c", "C"),
            button("d", "D"),
        ];
        assert!(content(&four).unwrap_err().message().contains("at most 3"));
        let long = [
            Part::Text("?".into()),
            button("a", "A title far too long for it"),
        ];
        assert!(content(&long).unwrap_err().message().contains("1 to 20"));
    }

    #[test]
    fn what_whatsapp_cannot_carry_is_refused_not_cut() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            content(&[Part::Text(long)]).unwrap_err().kind(),
            "permanent"
        );
        assert!(
            content(&[Part::Html("<b>x</b>".into())])
                .unwrap_err()
                .message()
                .contains("HTML")
        );
        assert_eq!(content(&[]).unwrap_err().kind(), "bad-input");
        let template = Part::Template(Template {
            name: "t".into(),
            language: "fi".into(),
            parameters: Vec::new(),
        });
        let error = content(&[Part::Text("and also".into()), template.clone()]).unwrap_err();
        assert!(error.message().contains("one kind of content"), "{error:?}");
        assert_eq!(
            json_of(&[Part::Quoted("> old".into()), template]).expect("template"),
            ("template", json!({"name": "t", "language": {"code": "fi"}}))
        );
    }

    #[test]
    fn locations_and_reactions_go_alone() {
        let pin = Part::Location(Location {
            latitude: 60.17,
            longitude: 24.94,
            name: Some("Kauppatori".into()),
            address: None,
        });
        assert_eq!(
            json_of(&[pin]).expect("location"),
            (
                "location",
                json!({"latitude": 60.17, "longitude": 24.94, "name": "Kauppatori"})
            )
        );
        let thumbs = Part::Reaction(Reaction {
            emoji: "👍".into(),
            provider_message_id: "wamid.IN".into(),
        });
        assert_eq!(
            json_of(&[thumbs]).expect("reaction"),
            ("reaction", json!({"message_id": "wamid.IN", "emoji": "👍"}))
        );
    }
}
