//! Golden payload fixtures of a channel plugin, run natively through its
//! mapping: every payload under `tests/fixtures/{valid,malformed}/` beside
//! the JSON it must produce (`<name>.expected.json`, the
//! `silta_sdk::json` rendering of the result). `BLESS=1` rewrites the
//! expected files; review the diff before committing it.
//!
//! `<name>.normalized.json` files beside them are the host's view, checked
//! by the compliance suite through the real runtime; they are skipped here.
//!
//! ```no_run
//! use silta_plugin_test::payload_fixtures::{PayloadFixtures, http_event};
//! # fn normalize(_: &silta_sdk::types::InboundEvent) -> Result<Vec<silta_sdk::types::Normalized>, silta_sdk::PluginError> { Ok(vec![]) }
//! let fixtures = PayloadFixtures::of_crate(env!("CARGO_MANIFEST_DIR"), |body| {
//!     normalize(&http_event("/v1/ingest/shop", body))
//! });
//! fixtures.assert_valid_group(6);
//! fixtures.assert_malformed_group(6);
//! fixtures.assert_deterministic();
//! ```

use std::path::{Path, PathBuf};

use silta_sdk::PluginError;
use silta_sdk::json::to_pretty_string;
use silta_sdk::types::{HttpMeta, InboundEvent, Normalized, Timestamp, TransportMeta};

use crate::golden;

/// The channel account every fixture arrives on.
pub const CHANNEL_ACCOUNT: &str = "01890a5d-ac96-7000-8000-00000000c0de";

/// When every fixture arrived: 2026-11-23T20:00:00Z.
pub const RECEIVED_AT: Timestamp = Timestamp {
    seconds: 1_795_464_000,
    nanoseconds: 0,
};

/// What normalizing one payload gave.
pub type Outcome = Result<Vec<Normalized>, PluginError>;

/// A JSON `POST` to `path` on [`CHANNEL_ACCOUNT`] at [`RECEIVED_AT`].
#[must_use]
pub fn http_event(path: &str, body: Vec<u8>) -> InboundEvent {
    post(path, "application/json", body)
}

/// A form `POST` (`application/x-www-form-urlencoded`) to `path` on
/// [`CHANNEL_ACCOUNT`] at [`RECEIVED_AT`].
#[must_use]
pub fn form_event(path: &str, body: Vec<u8>) -> InboundEvent {
    post(path, "application/x-www-form-urlencoded", body)
}

/// An event a host component hands over itself (Silta's web chat
/// gateway), with transport metadata `other(meta)`, on
/// [`CHANNEL_ACCOUNT`] at [`RECEIVED_AT`].
#[must_use]
pub fn other_event(meta: &[(&str, &str)], body: Vec<u8>) -> InboundEvent {
    InboundEvent {
        channel_account: CHANNEL_ACCOUNT.to_owned(),
        received_at: RECEIVED_AT,
        transport: TransportMeta::Other(
            meta.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        body,
    }
}

fn post(path: &str, content_type: &str, body: Vec<u8>) -> InboundEvent {
    InboundEvent {
        channel_account: CHANNEL_ACCOUNT.to_owned(),
        received_at: RECEIVED_AT,
        transport: TransportMeta::Http(HttpMeta {
            method: "POST".to_owned(),
            path: path.to_owned(),
            query: None,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
        }),
        body,
    }
}

/// A crate's payload fixtures and how to normalize one.
pub struct PayloadFixtures<F> {
    dir: PathBuf,
    normalize: F,
}

// === impl PayloadFixtures ===

impl<F: Fn(Vec<u8>) -> Outcome> PayloadFixtures<F> {
    /// The fixtures under `<crate_dir>/tests/fixtures/`, normalized by
    /// `normalize` (the plugin's mapping, without the host's signature
    /// check).
    pub fn of_crate(crate_dir: impl AsRef<Path>, normalize: F) -> Self {
        Self {
            dir: crate_dir.as_ref().join("tests/fixtures"),
            normalize,
        }
    }

    /// The payloads of `group` (`valid`, `malformed`), sorted: `.json`
    /// bodies, and `.form` ones (`application/x-www-form-urlencoded`).
    #[must_use]
    pub fn payloads(&self, group: &str) -> Vec<PathBuf> {
        let dir = self.dir.join(group);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                (name.ends_with(".json") || name.ends_with(".form"))
                    && !name.ends_with(".expected.json")
                    && !name.ends_with(".normalized.json")
            })
            .collect();
        paths.sort();
        paths
    }

    /// Normalizes the payload at `path`.
    pub fn run(&self, path: &Path) -> Outcome {
        let body = std::fs::read(path)
            .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        (self.normalize)(body)
    }

    /// Every valid payload normalizes to its expected file; at least
    /// `at_least` of them.
    pub fn assert_valid_group(&self, at_least: usize) {
        let count = self.check_group("valid", |path, outcome| {
            assert!(
                outcome.is_ok(),
                "{} should normalize: {outcome:?}",
                path.display()
            );
        });
        assert!(count >= at_least, "only {count} valid fixtures");
    }

    /// Every malformed payload is refused as bad input with a reason (its
    /// expected file shows which); at least `at_least` of them.
    pub fn assert_malformed_group(&self, at_least: usize) {
        let count = self.check_group("malformed", |path, outcome| match outcome {
            Err(error) => {
                assert_eq!(error.kind(), "bad-input", "{}: {error:?}", path.display());
                assert!(!error.message().is_empty(), "{}: no reason", path.display());
            }
            Ok(normalized) => panic!("{} should be refused, got {normalized:?}", path.display()),
        });
        assert!(count >= at_least, "only {count} malformed fixtures");
    }

    /// Every valid payload normalizes the same way twice (the host replays
    /// events from its journal).
    pub fn assert_deterministic(&self) {
        for path in self.payloads("valid") {
            assert_eq!(
                self.run(&path),
                self.run(&path),
                "{} is not deterministic",
                path.display()
            );
        }
    }

    /// Runs every payload of `group`, checks each outcome with `check`, and
    /// compares (or with `BLESS=1` rewrites) the expected files, failing
    /// once with every mismatch. Returns how many payloads ran.
    pub fn check_group(&self, group: &str, check: impl Fn(&Path, &Outcome)) -> usize {
        let paths = self.payloads(group);
        golden::assert_all(paths.iter().map(|path| {
            let outcome = self.run(path);
            check(path, &outcome);
            golden::check(&expected_path(path), &to_pretty_string(&outcome))
                .map_err(|message| format!("{}: {message}", path.display()))
        }));
        paths.len()
    }
}

/// `<name>.expected.json` beside the payload `<name>.json` or `<name>.form`.
#[must_use]
pub fn expected_path(payload: &Path) -> PathBuf {
    let stem = payload
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    payload.with_file_name(format!("{stem}.expected.json"))
}
