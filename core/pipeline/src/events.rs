//! The events Silta publishes, as rows of the store's event log.
//!
//! Types follow CloudEvents' reverse-DNS convention; `subject` is the id of
//! the record the event is about. The data is the record in the common
//! contact format, so a subscriber needs no second request.

use serde_json::json;
use silta_model::{Case, Conversation, Interaction, MergeRecord, Party, PartyId};
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
/// A new identity matched one another party holds, without the evidence
/// to link them; a person decides (merge, or leave apart).
pub const IDENTITY_CONFLICT: &str = "silta.identity.conflict";
/// Parties were merged into a survivor.
pub const PARTY_MERGED: &str = "silta.party.merged";
/// A merge was undone.
pub const PARTY_UNMERGED: &str = "silta.party.unmerged";
/// A back office answered a lookup of a party (links and identities).
pub const PARTY_ENRICHED: &str = "silta.party.enriched";
/// Every back office has answered for an interaction.
pub const INTERACTION_ENRICHED: &str = "silta.interaction.enriched";
/// A case changed (status, conversations, ticket).
pub const CASE_UPDATED: &str = "silta.case.updated";
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

/// `silta.identity.conflict`: `identity` is claimed for `new_party` but
/// held (or matched) by `existing_party`.
#[must_use]
pub fn identity_conflict(
    identity: &silta_model::IdentityKey,
    existing_party: PartyId,
    new_party: PartyId,
    evidence: &serde_json::Value,
) -> NewEvent {
    NewEvent {
        event_type: IDENTITY_CONFLICT.into(),
        subject: Some(new_party.to_string()),
        data: json!({
            "identity": identity,
            "existing_party": existing_party,
            "party": new_party,
            "evidence": evidence,
        }),
    }
}

/// `silta.party.merged`.
#[must_use]
pub fn party_merged(merge: &MergeRecord) -> NewEvent {
    NewEvent {
        event_type: PARTY_MERGED.into(),
        subject: Some(merge.survivor.to_string()),
        data: json!({ "merge": merge }),
    }
}

/// `silta.party.unmerged`.
#[must_use]
pub fn party_unmerged(merge: &MergeRecord) -> NewEvent {
    NewEvent {
        event_type: PARTY_UNMERGED.into(),
        subject: Some(merge.survivor.to_string()),
        data: json!({ "merge": merge }),
    }
}

/// `silta.party.enriched`: `plugin` answered a lookup of the party.
#[must_use]
pub fn party_enriched(
    party: PartyId,
    plugin: &str,
    links: &[silta_model::BackofficeLink],
) -> NewEvent {
    NewEvent {
        event_type: PARTY_ENRICHED.into(),
        subject: Some(party.to_string()),
        data: json!({ "party_id": party, "plugin": plugin, "backoffice_links": links }),
    }
}

/// `silta.interaction.enriched`.
#[must_use]
pub fn interaction_enriched(interaction: &Interaction) -> NewEvent {
    NewEvent {
        event_type: INTERACTION_ENRICHED.into(),
        subject: Some(interaction.id.to_string()),
        data: json!({ "interaction": interaction }),
    }
}

/// `silta.case.updated`.
#[must_use]
pub fn case_updated(case: &Case) -> NewEvent {
    NewEvent {
        event_type: CASE_UPDATED.into(),
        subject: Some(case.id.to_string()),
        data: json!({ "case": case }),
    }
}
