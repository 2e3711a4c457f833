//! The checked-in JSON Schema matches the types. `BLESS=1` rewrites it.

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/contact-format.schema.json")
}

#[test]
fn checked_in_schema_is_current() {
    let generated = silta_model::contact_format_schema_json();
    let path = schema_path();
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write schema");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "schema drifted; run BLESS=1 cargo test -p silta-model (file: {})",
        path.display()
    );
}

#[test]
fn schema_has_every_top_level_type() {
    let schema = silta_model::contact_format_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let defs = schema["$defs"].as_object().expect("$defs");
    for name in [
        "Party",
        "Identity",
        "IdentityKey",
        "ChannelAccount",
        "Case",
        "Conversation",
        "Interaction",
        "Part",
        "BackofficeLink",
        "MergeRecord",
        "DeliveryUpdate",
        "SlaPolicy",
        "WorkItem",
        "AgentPresence",
    ] {
        assert!(defs.contains_key(name), "$defs lacks {name}");
    }
    let properties = schema["properties"].as_object().expect("properties");
    assert_eq!(properties["interaction"]["$ref"], "#/$defs/Interaction");
}

#[test]
fn string_newtypes_have_their_formats() {
    let schema = silta_model::contact_format_schema();
    let defs = &schema["$defs"];
    assert_eq!(defs["EmailAddress"]["format"], "email");
    assert_eq!(defs["PhoneNumber"]["pattern"], r"^\+[1-9][0-9]{6,14}$");
    assert_eq!(defs["PartyId"]["format"], "uuid");
    assert_eq!(defs["Timestamp"]["format"], "date-time");
    assert_eq!(defs["ContentHash"]["pattern"], "^sha256:[0-9a-f]{64}$");
    assert_eq!(defs["Party"]["additionalProperties"], false);
}
