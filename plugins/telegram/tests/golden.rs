//! Golden fixtures: every webhook `Update` under
//! `tests/fixtures/{valid,malformed}/` beside the normalized JSON it must
//! produce (`<name>.expected.json`, the `silta_sdk::json` rendering of
//! `mapping::normalize`'s interactions). Valid payloads must normalize
//! (some to nothing: updates without a customer message); malformed ones
//! must give a bad-input error.
//!
//! The secret-token check needs the host and is not part of these fixtures
//! (see `tests/bot_api.rs` and the compliance suite).
//!
//! `BLESS=1 cargo test -p silta-plugin-telegram --test golden` rewrites the
//! expected files; review the diff before committing it.

use std::path::Path;

use silta_plugin_telegram::mapping;
use silta_plugin_test::payload_fixtures::{Outcome, PayloadFixtures, http_event};
use silta_sdk::types::Normalized;

fn fixtures() -> PayloadFixtures<impl Fn(Vec<u8>) -> Outcome> {
    PayloadFixtures::of_crate(env!("CARGO_MANIFEST_DIR"), |body| {
        mapping::normalize(&http_event("/v1/ingest/telegram", body))
    })
}

fn fixture(group: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(group)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn normalize(body: Vec<u8>) -> Outcome {
    mapping::normalize(&http_event("/v1/ingest/telegram", body))
}

#[test]
fn valid_payloads_normalize_as_expected() {
    let count = fixtures().check_group("valid", |path, result| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match result {
            Ok(out) if name.contains("ignored") || name.starts_with("unknown-update") => {
                assert!(
                    out.is_empty(),
                    "{name} carries no customer message: {out:?}"
                );
            }
            Ok(out) => assert_eq!(out.len(), 1, "{name}: one interaction, got {out:?}"),
            Err(error) => panic!("{name} should normalize: {error:?}"),
        }
    });
    assert!(count >= 20, "only {count} valid fixtures");
}

#[test]
fn malformed_payloads_are_bad_input_with_a_reason() {
    fixtures().assert_malformed_group(20);
}

#[test]
fn the_same_payload_normalizes_the_same_way_twice() {
    fixtures().assert_deterministic();
}

fn provider_message_id(body: Vec<u8>) -> String {
    match normalize(body).expect("normalizes").as_slice() {
        [Normalized::Interaction(message)] => message.provider_message_id.clone(),
        other => panic!("one interaction, got {other:?}"),
    }
}

#[test]
fn an_edit_is_a_separate_version_of_the_same_message() {
    let original = provider_message_id(fixture("valid", "text.json"));
    let edited = provider_message_id(fixture("valid", "edited-text.json"));
    assert_eq!(original, "123456789:41");
    assert_eq!(edited, "123456789:41:edit:1795463945");
    let normalized = normalize(fixture("valid", "edited-text.json")).expect("normalizes");
    let [Normalized::Interaction(edit)] = normalized.as_slice() else {
        panic!("one interaction");
    };
    assert!(
        edit.attributes
            .contains(&("telegram.edit_of".to_owned(), original)),
        "{:?}",
        edit.attributes
    );
}

#[test]
fn errors_name_the_field() {
    for (name, field) in [
        (
            "message-missing-chat.json",
            "`message`: missing field `chat`",
        ),
        ("chat-id-not-a-number.json", "`message.chat.id`"),
        ("photo-without-file-id.json", "`message.photo[0]`"),
        (
            "reply-without-message-id.json",
            "`message.reply_to_message`",
        ),
        (
            "edited-without-edit-date.json",
            "`edited_message.edit_date`",
        ),
    ] {
        let error = normalize(fixture("malformed", name)).unwrap_err();
        assert!(error.message().contains(field), "{name}: {error:?}");
    }
}
