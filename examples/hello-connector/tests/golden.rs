//! Golden fixtures for the mapping, run natively: every payload in
//! `tests/fixtures/valid/` and `tests/fixtures/malformed/` sits beside
//! `NAME.expected.json`, the `silta_sdk::json` rendering of what
//! `mapping::normalize` returns for it. Valid payloads must normalize;
//! malformed ones must be bad input with a reason.
//!
//! After an intended change, rewrite the expected files and review the diff:
//!
//! ```sh
//! BLESS=1 cargo test --test golden --target-dir ../../target
//! ```
//!
//! (`NAME.normalized.json` beside them is the host's view, checked by
//! the compliance suite in `tests/plugin.rs`, through the real runtime.)

use std::path::{Path, PathBuf};

use hello_connector::mapping;
use silta_sdk::PluginError;
use silta_sdk::json::to_pretty_string;
use silta_sdk::types::{HttpMeta, InboundEvent, Normalized, Timestamp, TransportMeta};

/// Every fixture arrives on this account at 2026-11-23T20:00:00Z.
fn event(body: Vec<u8>) -> InboundEvent {
    InboundEvent {
        channel_account: "01890a5d-ac96-7000-8000-00000000c0de".to_owned(),
        received_at: Timestamp {
            seconds: 1_795_464_000,
            nanoseconds: 0,
        },
        transport: TransportMeta::Http(HttpMeta {
            method: "POST".to_owned(),
            path: "/v1/ingest".to_owned(),
            query: None,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        }),
        body,
    }
}

/// The payloads of a group, sorted (not the `*.expected.json` and
/// `*.normalized.json` beside them).
fn payloads(group: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(group);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            let name = path.to_string_lossy();
            name.ends_with(".json")
                && !name.ends_with(".expected.json")
                && !name.ends_with(".normalized.json")
        })
        .collect();
    paths.sort();
    paths
}

/// Normalizes every payload of `group`, hands each result to `check`, and
/// compares its rendering with the expected file (or, with `BLESS=1`,
/// rewrites the file). Returns how many payloads ran.
fn run_group(group: &str, check: impl Fn(&Path, &Result<Vec<Normalized>, PluginError>)) -> usize {
    let paths = payloads(group);
    silta_plugin_test::golden::assert_all(paths.iter().map(|path| {
        let body = std::fs::read(path).expect("read the payload");
        let result = mapping::normalize(&event(body));
        check(path, &result);
        silta_plugin_test::golden::check(
            &path.with_extension("expected.json"),
            &to_pretty_string(&result),
        )
        .map_err(|message| format!("{}: {message}", path.display()))
    }));
    paths.len()
}

#[test]
fn valid_greetings_normalize_as_expected() {
    let count = run_group("valid", |path, result| {
        assert!(result.is_ok(), "{}: {result:?}", path.display());
    });
    assert!(count >= 2, "only {count} valid fixtures");
}

#[test]
fn malformed_greetings_are_bad_input_with_a_reason() {
    let count = run_group("malformed", |path, result| match result {
        Err(error) => {
            assert_eq!(error.kind(), "bad-input", "{}: {error:?}", path.display());
            assert!(!error.message().is_empty(), "{}", path.display());
        }
        Ok(out) => panic!("{} should be refused, got {out:?}", path.display()),
    });
    assert!(count >= 2, "only {count} malformed fixtures");
}
