//! The frames the gateway sends a widget (see `PROTOCOL.md`), serialized
//! once and shared by every open widget of a visitor.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use silta_model::{DeliveryState, Direction, Interaction, Part, SenderRole};

/// A frame, serialized once: its `type` and its JSON.
#[derive(Debug, Clone)]
pub struct Frame {
    kind: &'static str,
    json: Arc<str>,
}

impl Frame {
    /// Its `type` (the SSE event name).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The frame as JSON text.
    #[must_use]
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// A message as the widget shows it.
#[derive(Debug, Clone, Serialize)]
pub struct WidgetMessage {
    /// The interaction id.
    pub id: String,
    /// The widget's own id for a visitor's message.
    pub client_id: Option<String>,
    /// `visitor`, `agent` or `bot`.
    pub from: &'static str,
    /// The text.
    pub text: String,
    /// Files, by name, type and size.
    pub attachments: Vec<serde_json::Value>,
    /// When it was written (RFC 3339).
    pub at: String,
    /// An agent message's delivery state: `sent`, `delivered` or `read`.
    pub state: Option<&'static str>,
}

impl WidgetMessage {
    /// The widget's view of `interaction`, or `None` for what the visitor
    /// must not see yet (an agent's reply not sent, or failed) or at all
    /// (notes, events).
    #[must_use]
    pub fn of(interaction: &Interaction) -> Option<Self> {
        if interaction.kind != silta_model::InteractionKind::Message {
            return None;
        }
        let (from, state) = match interaction.direction {
            Direction::Inbound => ("visitor", None),
            Direction::Outbound => {
                let from = match interaction.sender_role {
                    SenderRole::Bot => "bot",
                    _ => "agent",
                };
                (from, Some(shown_state(interaction)?))
            }
        };
        let mut texts = Vec::new();
        let mut attachments = Vec::new();
        for part in &interaction.parts {
            match part {
                Part::Text(text) => texts.push(text.as_str()),
                Part::Attachment(attachment) => attachments.push(json!({
                    "name": attachment.filename,
                    "media_type": attachment.media_type,
                    "size": attachment.size_bytes,
                })),
                _ => {}
            }
        }
        Some(Self {
            id: interaction.id.to_string(),
            client_id: interaction.attributes.get("webchat.client_id").cloned(),
            from,
            text: texts.join("\n\n"),
            attachments,
            at: interaction.occurred_at.to_string(),
            state,
        })
    }
}

/// The furthest an agent message got (`sent`, `delivered`, `read`), or
/// `None` before it was sent.
fn shown_state(interaction: &Interaction) -> Option<&'static str> {
    interaction
        .delivery
        .iter()
        .filter_map(|step| match step.state {
            DeliveryState::Sent => Some((1, "sent")),
            DeliveryState::Delivered => Some((2, "delivered")),
            DeliveryState::Read => Some((3, "read")),
            _ => None,
        })
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, name)| name)
}

/// The frame of `kind` with the fields of `value` (an object).
fn frame(kind: &'static str, mut value: serde_json::Value) -> Frame {
    value["type"] = kind.into();
    Frame {
        kind,
        json: Arc::from(value.to_string()),
    }
}

/// `{"type": "history", ...}`.
#[must_use]
pub fn history(visitor: &str, messages: &[WidgetMessage]) -> Frame {
    frame(
        "history",
        json!({ "visitor_id": visitor, "messages": messages }),
    )
}

/// `{"type": "message", ...}`.
#[must_use]
pub fn message(message: &WidgetMessage) -> Frame {
    frame("message", json!({ "message": message }))
}

/// `{"type": "accepted", ...}`.
#[must_use]
pub fn accepted(client_id: &str, journal_seq: i64) -> Frame {
    frame(
        "accepted",
        json!({ "client_id": client_id, "journal_seq": journal_seq }),
    )
}

/// `{"type": "rejected", ...}`.
#[must_use]
pub fn rejected(client_id: &str, status: u16, reason: &str) -> Frame {
    frame(
        "rejected",
        json!({ "client_id": client_id, "status": status, "reason": reason }),
    )
}

/// `{"type": "typing", ...}`.
#[must_use]
pub fn typing(active: bool) -> Frame {
    frame("typing", json!({ "active": active }))
}

/// `{"type": "error", ...}`.
#[must_use]
pub fn error(reason: &str) -> Frame {
    frame("error", json!({ "reason": reason }))
}
