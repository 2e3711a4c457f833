//! An agent's reply → a request to the host's web chat gateway.
//!
//! The gateway is part of the host, at the reserved origin
//! [`GATEWAY_ORIGIN`]: the host hands the request to the gateway of the
//! reply's channel account and never looks the name up on a network. The
//! body names the interaction; the gateway shows it to the visitor whose
//! conversation holds it, now if their widget is open, or from history
//! when they come back.
//!
//! Web chat shows text and files: text and attachment parts go through
//! (the attachment by content hash, which the widget shows by name and
//! size), anything else is refused as a permanent error naming the part.

use serde_json::json;
use silta_sdk::types::{HttpRequest, OutboundMessage, Part, PluginError, TransportRequest};

/// The gateway's reserved origin (the `.internal` top-level domain is
/// reserved for private use and never delegated).
pub const GATEWAY_ORIGIN: &str = "http://webchat.internal";
/// The gateway's delivery path.
pub const DELIVER_PATH: &str = "/v1/deliver";

/// The gateway request for `message`.
pub fn render(message: &OutboundMessage) -> Result<TransportRequest, PluginError> {
    let mut texts = Vec::new();
    let mut attachments = Vec::new();
    for (index, part) in message.parts.iter().enumerate() {
        match part {
            Part::Text(text) => texts.push(text.as_str()),
            Part::Attachment(attachment) => attachments.push(json!({
                "name": attachment.filename,
                "media_type": attachment.media_type,
                "size": attachment.size_bytes,
                "blob": attachment.content_hash,
            })),
            other => {
                return Err(PluginError::permanent(format!(
                    "web chat shows text and files; part {index} is {}",
                    part_name(other)
                )));
            }
        }
    }
    if texts.iter().all(|t| t.trim().is_empty()) && attachments.is_empty() {
        return Err(PluginError::permanent(
            "the reply is empty: web chat needs text or a file",
        ));
    }
    let body = json!({
        "interaction_id": message.interaction_id,
        "text": texts.join("\n\n"),
        "attachments": attachments,
    });
    Ok(TransportRequest::Http(
        HttpRequest::post(format!("{GATEWAY_ORIGIN}{DELIVER_PATH}"))
            .with_header("content-type", "application/json")
            .with_body(body.to_string().into_bytes()),
    ))
}

fn part_name(part: &Part) -> &'static str {
    match part {
        Part::Text(_) => "text",
        Part::Html(_) => "HTML (send the text instead)",
        Part::Quoted(_) => "quoted history",
        Part::Attachment(_) => "an attachment",
        Part::Location(_) => "a location",
        Part::Interactive(_) => "an interactive reply",
        Part::Template(_) => "a template",
        Part::Reaction(_) => "a reaction",
    }
}
