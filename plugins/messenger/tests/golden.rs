//! Golden fixtures: every webhook under `tests/fixtures/{valid,malformed}/`
//! beside the normalized JSON it must produce (`<name>.expected.json`, the
//! `silta_sdk::json` rendering of `mapping::normalize`'s interactions and
//! delivery updates). Valid payloads must normalize; malformed ones must
//! give a bad-input error.
//!
//! The signature and the window marks need the host and are not part of
//! these fixtures (see `tests/graph.rs` and the compliance suite).
//!
//! `BLESS=1 cargo test -p silta-plugin-messenger --test golden` rewrites the
//! expected files; review the diff before committing it.

use std::path::{Path, PathBuf};

use silta_plugin_messenger::mapping;
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
            path: "/v1/ingest/messenger".to_owned(),
            query: None,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        }),
        body,
    }
}

fn normalize(body: Vec<u8>) -> Result<Vec<Normalized>, PluginError> {
    mapping::normalize(&event(body)).map(|inbound| inbound.normalized)
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
        assert!(
            result.is_ok(),
            "{} should normalize: {result:?}",
            path.display()
        );
    });
    assert!(count >= 25, "only {count} valid fixtures");
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
    assert!(count >= 25, "only {count} malformed fixtures");
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

#[test]
fn one_webhook_gives_every_entry_s_events() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/batch-two-entries.json");
    let inbound = mapping::normalize(&event(std::fs::read(path).expect("fixture"))).expect("ok");
    let kinds: Vec<&str> = inbound
        .normalized
        .iter()
        .map(|n| match n {
            Normalized::Interaction(_) => "interaction",
            Normalized::DeliveryUpdate(_) => "delivery-update",
        })
        .collect();
    assert_eq!(kinds, ["interaction", "interaction", "delivery-update"]);
    let customers: Vec<&str> = inbound
        .contacts
        .iter()
        .map(|c| c.user_id.as_str())
        .collect();
    assert_eq!(customers, ["6830112345678901", "7012345678901234"]);
}

#[test]
fn echoes_and_bare_read_watermarks_give_nothing() {
    for name in [
        "echo-ignored",
        "instagram-echo-ignored",
        "read-watermark-ignored",
    ] {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/valid/{name}.json"));
        let inbound =
            mapping::normalize(&event(std::fs::read(path).expect("fixture"))).expect("ok");
        assert!(inbound.normalized.is_empty(), "{name}: {inbound:?}");
        assert!(
            inbound.contacts.is_empty(),
            "{name}: an echo opens no window"
        );
    }
}
