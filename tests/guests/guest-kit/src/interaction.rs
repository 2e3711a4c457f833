//! Builders for the records every guest returns.

use crate::silta::connector::types::{
    Assurance, Direction, Identity, IdentityKind, IdentityScope, Interaction, InteractionKind,
    Part, PluginError, PluginInfo, SenderRole, Timestamp,
};

/// What `describe` returns for a test guest: version `0.1.0`, name and id
/// alike, producing email identities.
pub fn plugin_info(id: &str, description: &str) -> PluginInfo {
    PluginInfo {
        id: id.to_owned(),
        version: "0.1.0".to_owned(),
        name: id.to_owned(),
        description: description.to_owned(),
        identity_kinds: vec![IdentityKind::Email],
    }
}

/// The smallest interaction the host accepts: an inbound customer message
/// from `sender_email` (global, channel-asserted) with one text part.
///
/// `occurred_at` is passed in rather than read from the wall clock because
/// `normalize` must be deterministic; guests hand over the event's
/// `received-at`.
pub fn text_interaction(
    sender_email: &str,
    provider_message_id: &str,
    occurred_at: Timestamp,
    text: impl Into<String>,
) -> Interaction {
    Interaction {
        kind: InteractionKind::Message,
        direction: Direction::Inbound,
        sender_role: SenderRole::Customer,
        sender: Identity {
            kind: IdentityKind::Email,
            value: sender_email.to_owned(),
            scope: IdentityScope::Global,
            assurance: Assurance::ChannelAsserted,
            display_name: None,
        },
        recipients: Vec::new(),
        provider_message_id: provider_message_id.to_owned(),
        occurred_at,
        subject: None,
        parts: vec![Part::Text(text.into())],
        thread_keys: Vec::new(),
        email: None,
        attributes: Vec::new(),
    }
}

/// The answer of a guest to an export it does not implement.
pub fn not_supported() -> PluginError {
    PluginError::Permanent("not supported".to_owned())
}
