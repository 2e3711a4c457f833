//! `plugin.toml` and `describe` must agree: the host refuses to load the
//! plugin when id or version differ, and the manifest must ask for exactly
//! what the code uses.

use silta_plugin_email::{Email, mapping, outbound};
use silta_sdk::Plugin;

fn manifest() -> toml::Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/plugin.toml");
    let text = std::fs::read_to_string(path).expect("plugin.toml beside Cargo.toml");
    text.parse().expect("plugin.toml is TOML")
}

fn strings(table: &toml::Table, key: &str) -> Vec<String> {
    table[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is an array"))
        .iter()
        .map(|value| value.as_str().expect("a string").to_owned())
        .collect()
}

#[test]
fn describe_matches_the_manifest() {
    let manifest = manifest();
    let info = Email::describe();
    assert_eq!(manifest["id"].as_str(), Some(info.id.as_str()));
    assert_eq!(manifest["version"].as_str(), Some(info.version.as_str()));
    assert_eq!(
        manifest["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(strings(&manifest, "worlds"), ["channel"]);
}

#[test]
fn the_manifest_asks_for_what_the_code_uses() {
    let manifest = manifest();
    let mut capabilities = strings(&manifest, "capabilities");
    capabilities.sort();
    assert_eq!(capabilities, ["config", "log"]);
    assert!(manifest.get("secrets").is_none());
    assert!(manifest.get("allowed_hosts").is_none());
    assert_eq!(outbound::ADDRESS_KEY, "address");
    // The memory limit holds the largest message, its decoded attachments
    // and the parse tree.
    let limits = manifest["limits"].as_table().expect("[limits]");
    let memory = limits["memory_bytes"].as_integer().expect("memory_bytes");
    let max = i64::try_from(mapping::MAX_MESSAGE_BYTES).expect("fits");
    assert!(memory >= 4 * max, "memory_bytes {memory} < 4 × {max}");
}
