//! Every top-level type survives JSON and back unchanged, and the JSON has
//! the documented shape.

mod support;

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use silta_model::{
    AgentPresence, BackofficeLink, Case, ChannelAccount, Conversation, DeliveryUpdate, IdentityKey,
    Interaction, MergeRecord, Part, Party, SlaPolicy, WorkItem,
};

/// Serializes, deserializes, compares; serializes again and compares the
/// JSON, so a lossy field shows up either way.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> serde_json::Value {
    let json = serde_json::to_value(value).expect("serialize");
    let back: T = serde_json::from_value(json.clone()).expect("deserialize own output");
    assert_eq!(&back, value);
    assert_eq!(serde_json::to_value(&back).expect("serialize again"), json);
    json
}

#[test]
fn party_round_trips() {
    let json = round_trip(&support::party());
    assert_eq!(json["languages"], serde_json::json!(["fi", "sv-FI"]));
    assert_eq!(json["status"], "active");
    assert_eq!(json["created_at"], "2026-11-18T11:06:40.123Z");
    round_trip(&support::merged_party());
}

#[test]
fn identity_round_trips() {
    let json = round_trip(&support::identity());
    assert_eq!(json["kind"], "whatsapp");
    assert_eq!(json["value"], "+358401234567");
    assert_eq!(json["assurance"], "channel_attested");
    let key = round_trip(&support::identity().key());
    assert_eq!(key["scope"], "global");
    round_trip::<IdentityKey>(&support::email_key("a@example.fi"));
}

#[test]
fn records_round_trip() {
    round_trip::<ChannelAccount>(&support::channel_account());
    round_trip::<Case>(&support::case());
    round_trip::<Conversation>(&support::conversation());
    round_trip::<BackofficeLink>(&support::backoffice_link());
    round_trip::<MergeRecord>(&support::merge_record());
    round_trip::<DeliveryUpdate>(&support::delivery_update());
    round_trip::<SlaPolicy>(&support::sla_policy());
    round_trip::<WorkItem>(&support::work_item());
    round_trip::<AgentPresence>(&support::agent_presence());
}

#[test]
fn rich_interaction_round_trips() {
    let interaction = support::interaction();
    let json = round_trip::<Interaction>(&interaction);
    let kinds: Vec<&str> = json["parts"]
        .as_array()
        .expect("parts array")
        .iter()
        .map(|part| {
            let object = part.as_object().expect("part object");
            assert_eq!(object.len(), 1, "one key per part: {part}");
            object.keys().next().map(String::as_str).unwrap_or_default()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "text",
            "html",
            "quoted",
            "attachment",
            "location",
            "interactive",
            "template",
            "reaction"
        ]
    );
    assert_eq!(
        json["recipients"][0]["value"], "Aino.Virtanen@example.fi",
        "recipients are normalized keys"
    );
    assert_eq!(json["recipients"][1]["value"], "+358401234567");
    assert_eq!(
        json["idempotency_key"]["provider_message_id"],
        "<m2/x@example.fi>"
    );
    for part in &interaction.parts {
        round_trip::<Part>(part);
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let mut json = serde_json::to_value(support::case()).expect("serialize");
    json["priority"] = serde_json::json!("high");
    let err = serde_json::from_value::<Case>(json).expect_err("unknown field");
    assert!(err.to_string().contains("priority"), "{err}");
}

#[test]
fn invalid_nested_values_are_rejected() {
    let mut json = serde_json::to_value(support::interaction()).expect("serialize");
    json["recipients"][0]["value"] = serde_json::json!("Aino Virtanen");
    assert!(serde_json::from_value::<Interaction>(json).is_err());

    let mut json = serde_json::to_value(support::party()).expect("serialize");
    json["languages"][0] = serde_json::json!("not a language");
    assert!(serde_json::from_value::<Party>(json).is_err());

    let mut json = serde_json::to_value(support::party()).expect("serialize");
    json["id"] = serde_json::json!("9b2f6c1e-3d4a-4f5b-8c6d-7e8f9a0b1c2d");
    assert!(serde_json::from_value::<Party>(json).is_err(), "v4 id");

    let mut json = serde_json::to_value(support::conversation()).expect("serialize");
    json["opened_at"] = serde_json::json!("last tuesday");
    assert!(serde_json::from_value::<Conversation>(json).is_err());
}
