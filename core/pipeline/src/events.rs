//! The events Silta publishes, as rows of the store's event log.
//!
//! Types follow CloudEvents' reverse-DNS convention; `subject` is the id of
//! the record the event is about. The data is the record in the common
//! contact format, so a subscriber needs no second request.

use serde_json::json;
use silta_model::{Case, Conversation, Interaction, Party};
use silta_store::records::NewEvent;

/// A new interaction was recorded (inbound or outbound).
pub const INTERACTION_CREATED: &str = "silta.interaction.created";
/// An outbound interaction's delivery history changed.
pub const DELIVERY_UPDATED: &str = "silta.interaction.delivery_updated";
/// A party was created for an identity never seen before.
pub const PARTY_CREATED: &str = "silta.party.created";
/// A conversation was started.
pub const CONVERSATION_STARTED: &str = "silta.conversation.started";
/// A case was opened.
pub const CASE_OPENED: &str = "silta.case.opened";
/// Something was dead-lettered.
pub const DEAD_LETTERED: &str = "silta.dead_letter.created";

/// `silta.interaction.created`.
#[must_use]
pub fn interaction_created(interaction: &Interaction, channel_account: &str) -> NewEvent {
    NewEvent {
        event_type: INTERACTION_CREATED.into(),
        subject: Some(interaction.id.to_string()),
        data: json!({ "channel_account": channel_account, "interaction": interaction }),
    }
}

/// `silta.interaction.delivery_updated`.
#[must_use]
pub fn delivery_updated(interaction: &Interaction) -> NewEvent {
    NewEvent {
        event_type: DELIVERY_UPDATED.into(),
        subject: Some(interaction.id.to_string()),
        data: json!({
            "interaction_id": interaction.id,
            "conversation_id": interaction.conversation_id,
            "party_id": interaction.party_id,
            "delivery": interaction.delivery,
        }),
    }
}

/// `silta.party.created`.
#[must_use]
pub fn party_created(party: &Party) -> NewEvent {
    NewEvent {
        event_type: PARTY_CREATED.into(),
        subject: Some(party.id.to_string()),
        data: json!({ "party": party }),
    }
}

/// `silta.conversation.started`.
#[must_use]
pub fn conversation_started(conversation: &Conversation) -> NewEvent {
    NewEvent {
        event_type: CONVERSATION_STARTED.into(),
        subject: Some(conversation.id.to_string()),
        data: json!({ "conversation": conversation }),
    }
}

/// `silta.case.opened`.
#[must_use]
pub fn case_opened(case: &Case) -> NewEvent {
    NewEvent {
        event_type: CASE_OPENED.into(),
        subject: Some(case.id.to_string()),
        data: json!({ "case": case }),
    }
}

/// `silta.dead_letter.created`.
#[must_use]
pub fn dead_lettered(id: i64, letter: &silta_store::records::NewDeadLetter) -> NewEvent {
    NewEvent {
        event_type: DEAD_LETTERED.into(),
        subject: Some(id.to_string()),
        data: json!({ "id": id, "dead_letter": letter }),
    }
}
