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

use std::path::{Path, PathBuf};

use silta_plugin_telegram::mapping;
use silta_sdk::PluginError;
use silta_sdk::json::to_pretty_string;
use silta_sdk::types::{HttpMeta, InboundEvent, Normalized, Timestamp, TransportMeta};

/// The channel account every fixture arrives on.
const CHANNEL_ACCOUNT: &str = "01890a5d-ac96-7000-8000-00000000c0de";

/// When every fixture arrived: 2026-11-23T20:00:00Z.
const RECEIVED_AT: Timestamp = Timestamp {
    seconds: 1_795_464_000,
    nanoseconds: 0,
};

fn event(body: Vec<u8>) -> InboundEvent {
    InboundEvent {
        channel_account: CHANNEL_ACCOUNT.to_owned(),
        received_at: RECEIVED_AT,
        transport: TransportMeta::Http(HttpMeta {
            method: "POST".to_owned(),
            path: "/v1/ingest/telegram".to_owned(),
            query: None,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        }),
        body,
    }
}

fn normalize(body: Vec<u8>) -> Result<Vec<Normalized>, PluginError> {
    mapping::normalize(&event(body))
}

fn fixture(group: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(group)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The payload fixtures of a group, sorted.
fn fixtures(group: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(group);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            // `.normalized.json` is the host's view, checked by the
            // compliance suite.
            name.ends_with(".json")
                && !name.ends_with(".expected.json")
                && !name.ends_with(".normalized.json")
        })
        .collect();
    paths.sort();
    paths
}

fn expected_path(fixture: &Path) -> PathBuf {
    let stem = fixture
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a UTF-8 file name");
    fixture.with_file_name(format!("{stem}.expected.json"))
}

/// Runs every fixture of `group`, checks each result with `check`, and
/// compares (or with `BLESS=1` rewrites) the expected files. Returns how
/// many fixtures ran.
fn run_group(group: &str, check: impl Fn(&Path, &Result<Vec<Normalized>, PluginError>)) -> usize {
    let paths = fixtures(group);
    silta_plugin_test::golden::assert_all(paths.iter().map(|path| {
        let result = normalize(std::fs::read(path).expect("read fixture"));
        check(path, &result);
        silta_plugin_test::golden::check(&expected_path(path), &to_pretty_string(&result))
            .map_err(|message| format!("{}: {message}", path.display()))
    }));
    paths.len()
}

#[test]
fn valid_payloads_normalize_as_expected() {
    let count = run_group("valid", |path, result| {
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
    let count = run_group("malformed", |path, result| match result {
        Err(error) => {
            assert_eq!(error.kind(), "bad-input", "{}: {error:?}", path.display());
            assert!(!error.message().is_empty(), "{}: no reason", path.display());
        }
        Ok(normalized) => panic!("{} should be refused, got {normalized:?}", path.display()),
    });
    assert!(count >= 20, "only {count} malformed fixtures");
}

#[test]
fn the_same_payload_normalizes_the_same_way_twice() {
    for path in fixtures("valid") {
        let body = std::fs::read(&path).expect("read fixture");
        assert_eq!(
            normalize(body.clone()),
            normalize(body),
            "{} is not deterministic",
            path.display()
        );
    }
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
