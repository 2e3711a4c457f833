//! `lookup` natively, against Tryton answers: every
//! `tests/fixtures/lookup/{valid,malformed,errors}/NAME.json` gives the
//! identities (and config) of one lookup and the answers Tryton gives, in
//! order; `NAME.expected.json` holds the calls the plugin made and what it
//! returned. `BLESS=1` rewrites the expected files (review the diff).
//!
//! A fixture:
//!
//! ```json
//! { "config": { "max_orders": "2" },
//!   "identities": [ { "kind": "email", "value": "aino@example.fi" },
//!                   { "kind": "erp_customer", "value": "2", "scope": "tryton" } ],
//!   "answers": [ { "status": 200, "body": { "id": 1, "result": [] } } ] }
//! ```
//!
//! `body` is the JSON Tryton answered, or a string for an answer that is
//! not JSON. The answers are interpreted by the plugin's own `rpc`
//! module, so HTTP statuses and Tryton errors go through the real mapping.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use silta_plugin_test::golden;
use silta_plugin_tryton::lookup::lookup;
use silta_plugin_tryton::rpc::{self, Rpc};
use silta_plugin_tryton::settings::Settings;
use silta_sdk::json::ToJson;
use silta_sdk::types::{Assurance, Identity, IdentityKind, IdentityScope, PluginError};

/// Answers calls from the fixture, in order, and keeps what was asked.
struct Scripted {
    settings: Settings,
    answers: VecDeque<(u16, Vec<u8>)>,
    calls: Vec<Value>,
}

impl Rpc for Scripted {
    fn call(&mut self, method: &str, params: Value) -> Result<Value, PluginError> {
        self.calls
            .push(json!({ "method": method, "params": params }));
        let (status, body) = self.answers.pop_front().unwrap_or_else(|| {
            panic!(
                "the fixture has no answer for call {}: {method}",
                self.calls.len()
            )
        });
        rpc::interpret(&self.settings, method, status, None, &body)
    }
}

fn settings(config: &Value) -> Settings {
    let mut map = BTreeMap::from([
        ("url".to_owned(), "http://127.0.0.1:18000".to_owned()),
        ("database".to_owned(), "silta".to_owned()),
    ]);
    if let Some(config) = config.as_object() {
        for (key, value) in config {
            map.insert(
                key.clone(),
                value
                    .as_str()
                    .expect("config values are strings")
                    .to_owned(),
            );
        }
    }
    Settings::from_config(|key| map.get(key).cloned()).expect("the fixture's config is valid")
}

fn identity(value: &Value) -> Identity {
    let kind = value["kind"].as_str().expect("identity kind");
    let kind =
        IdentityKind::from_name(kind).unwrap_or_else(|| panic!("unknown identity kind {kind:?}"));
    let identity = Identity::new(kind, value["value"].as_str().expect("identity value"))
        .with_assurance(Assurance::ChannelAttested);
    match value["scope"].as_str() {
        Some(app) => identity.with_scope(IdentityScope::App(app.to_owned())),
        None => identity,
    }
}

/// Runs one fixture and compares with its expected file.
fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fixture: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let identities: Vec<Identity> = fixture["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .map(identity)
        .collect();
    let answers = fixture["answers"]
        .as_array()
        .map(|answers| {
            answers
                .iter()
                .map(|answer| {
                    let status =
                        u16::try_from(answer["status"].as_u64().unwrap_or(200)).expect("status");
                    let body = match &answer["body"] {
                        Value::String(raw) => raw.clone().into_bytes(),
                        body => body.to_string().into_bytes(),
                    };
                    (status, body)
                })
                .collect()
        })
        .unwrap_or_default();
    let settings = settings(&fixture["config"]);
    let mut rpc = Scripted {
        settings: settings.clone(),
        answers,
        calls: Vec::new(),
    };
    let result = lookup(&settings, &identities, &mut rpc);
    if !rpc.answers.is_empty() {
        return Err(format!(
            "{}: {} answers were not asked for",
            path.display(),
            rpc.answers.len()
        ));
    }
    let out = json!({ "calls": rpc.calls, "result": result.to_json() });
    let text = serde_json::to_string_pretty(&out).expect("JSON") + "\n";
    golden::check(&path.with_extension("expected.json"), &text)
        .map_err(|message| format!("{}: {message}", path.display()))
}

fn fixtures(group: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lookup")
        .join(group);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "json")
                && !path.to_string_lossy().ends_with(".expected.json")
        })
        .collect();
    paths.sort();
    paths
}

fn run(group: &str) -> Vec<PathBuf> {
    let paths = fixtures(group);
    golden::assert_all(paths.iter().map(|path| check(path)));
    paths
}

#[test]
fn valid_answers_give_a_background_or_none() {
    let paths = run("valid");
    assert!(paths.len() >= 6, "only {} valid fixtures", paths.len());
}

#[test]
fn malformed_answers_are_bad_input_with_a_reason() {
    let paths = run("malformed");
    assert!(paths.len() >= 5, "only {} malformed fixtures", paths.len());
    for path in paths {
        let expected =
            std::fs::read_to_string(path.with_extension("expected.json")).expect("expected file");
        assert!(
            expected.contains(r#""kind": "bad-input""#),
            "{}",
            path.display()
        );
    }
}

#[test]
fn tryton_errors_map_to_their_kind() {
    let paths = run("errors");
    assert!(paths.len() >= 4, "only {} error fixtures", paths.len());
}
