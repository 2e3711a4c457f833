//! The published JSON Schema of the contact format.
//!
//! The schema is generated from the Rust types, so it cannot disagree with
//! what the code accepts; a checked-in copy
//! (`core/model/schema/contact-format.schema.json`) lets other languages use
//! it, and a test fails when the two drift apart.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use crate::{
    AgentPresence, BackofficeLink, Case, ChannelAccount, Conversation, DeliveryUpdate,
    EmailAddress, Identity, IdentityKey, Interaction, MergeRecord, Part, Party, PhoneNumber,
    SlaPolicy, WorkItem,
};

/// `$id` of the published schema.
pub const SCHEMA_ID: &str = "https://silta.invalid/schema/contact-format.schema.json";

/// Builds the JSON Schema (draft 2020-12) of the contact format.
///
/// Every record type is under `$defs` by its Rust name (`#/$defs/Party`).
/// The root describes a document with one optional property per top-level
/// record (`party`, `interaction`, ...), which is mostly useful for
/// validating fixtures; other schemas should refer to the `$defs`.
///
/// The schema describes the canonical form Silta writes. Deserialization
/// also accepts some non-canonical spellings (an email domain in upper case,
/// a phone number with spaces) and normalizes them.
///
/// Object keys are sorted, so the serialized text is stable.
#[must_use]
pub fn contact_format_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut properties = Map::new();
    add::<Party>(&mut generator, &mut properties, "party");
    add::<Identity>(&mut generator, &mut properties, "identity");
    add::<IdentityKey>(&mut generator, &mut properties, "identity_key");
    add::<ChannelAccount>(&mut generator, &mut properties, "channel_account");
    add::<Case>(&mut generator, &mut properties, "case");
    add::<Conversation>(&mut generator, &mut properties, "conversation");
    add::<Interaction>(&mut generator, &mut properties, "interaction");
    add::<Part>(&mut generator, &mut properties, "part");
    add::<BackofficeLink>(&mut generator, &mut properties, "backoffice_link");
    add::<MergeRecord>(&mut generator, &mut properties, "merge_record");
    add::<DeliveryUpdate>(&mut generator, &mut properties, "delivery_update");
    add::<SlaPolicy>(&mut generator, &mut properties, "sla_policy");
    add::<WorkItem>(&mut generator, &mut properties, "work_item");
    add::<AgentPresence>(&mut generator, &mut properties, "agent_presence");
    // Identity values are plain strings (their format depends on the kind),
    // so these two are not reached from the records; list them for other
    // schemas to refer to.
    generator.subschema_for::<EmailAddress>();
    generator.subschema_for::<PhoneNumber>();

    let mut root = Map::new();
    if let Some(meta) = generator.settings().meta_schema.as_deref() {
        root.insert("$schema".into(), meta.into());
    }
    root.insert("$id".into(), SCHEMA_ID.into());
    root.insert("title".into(), "Silta contact format".into());
    root.insert(
        "description".into(),
        "Parties, identities, channel accounts, cases, conversations and interactions as Silta \
         stores and publishes them. Ids are UUIDv7, times RFC 3339 UTC, phone numbers E.164, \
         languages BCP 47."
            .into(),
    );
    root.insert("type".into(), "object".into());
    root.insert("properties".into(), Value::Object(properties));
    root.insert("additionalProperties".into(), false.into());
    root.insert(
        "$defs".into(),
        Value::Object(generator.take_definitions(true)),
    );
    tidy(Value::Object(root))
}

/// [`contact_format_schema`] as pretty JSON with a trailing newline, the
/// form of the checked-in file.
#[must_use]
pub fn contact_format_schema_json() -> String {
    let value = contact_format_schema();
    // Serializing a `Value` cannot fail: its keys are strings.
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Adds `T` to the definitions and a property referring to it.
fn add<T: JsonSchema>(
    generator: &mut SchemaGenerator,
    properties: &mut Map<String, Value>,
    name: &str,
) {
    let reference = generator.subschema_for::<T>();
    properties.insert(name.to_owned(), reference.to_value());
}

/// Rebuilds `value` with object keys in sorted order, whatever map type
/// `serde_json` was built with (`preserve_order` keeps insertion order), and
/// with rustdoc links in descriptions reduced to their text.
fn tidy(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| match value {
                        Value::String(text) if key == "description" => {
                            (key, Value::String(strip_doc_links(&text)))
                        }
                        other => (key, tidy(other)),
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(tidy).collect()),
        other => other,
    }
}

/// Turns rustdoc links into their text: ``[`Merged`](PartyStatus::Merged)``
/// and ``[`IdentityKey`]`` become `` `Merged` `` and `` `IdentityKey` ``.
/// Links to URLs and brackets around anything but code are left alone.
fn strip_doc_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("[`") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find("`]") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let label = &after[..=close];
        let tail = &after[close + 2..];
        match tail.strip_prefix('(').and_then(|t| t.split_once(')')) {
            Some((target, remaining)) if !target.contains("://") => {
                out.push_str(label);
                rest = remaining;
            }
            Some(_) => {
                // A real URL: keep the Markdown link.
                out.push('[');
                out.push_str(label);
                out.push(']');
                rest = tail;
            }
            None => {
                out.push_str(label);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A `{"type": "string"}` schema with a description and optional `format`
/// and `pattern`, for the validated string newtypes.
pub(crate) fn string_schema(
    description: &str,
    format: Option<&str>,
    pattern: Option<&str>,
) -> Schema {
    let mut map = Map::new();
    map.insert("type".into(), "string".into());
    map.insert("description".into(), description.into());
    if let Some(format) = format {
        map.insert("format".into(), format.into());
    }
    if let Some(pattern) = pattern {
        map.insert("pattern".into(), pattern.into());
    }
    Schema::from(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_links_become_plain_code() {
        assert_eq!(
            strip_doc_links("status [`Merged`](PartyStatus::Merged) and [`IdentityKey`]."),
            "status `Merged` and `IdentityKey`."
        );
        assert_eq!(
            strip_doc_links("see [`RFC`](https://example.invalid/rfc) or [1, 2]"),
            "see [`RFC`](https://example.invalid/rfc) or [1, 2]"
        );
        assert_eq!(strip_doc_links("odd [`open"), "odd [`open");
    }

    #[test]
    fn keys_are_sorted() {
        let value = tidy(serde_json::json!({"b": 1, "a": {"d": 2, "c": 3}}));
        assert_eq!(
            serde_json::to_string(&value).ok().as_deref(),
            Some(r#"{"a":{"c":3,"d":2},"b":1}"#)
        );
    }
}
