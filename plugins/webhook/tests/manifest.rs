//! `plugin.toml` and `describe` must agree: the host refuses to load the
//! plugin when id or version differ, and the manifest must ask for exactly
//! what the code uses. The manifest is read by the host's own parser.

use std::collections::BTreeSet;

use silta_plugin_test::manifest::{Capability, Manifest, World};
use silta_plugin_test::plugin_manifest;
use silta_plugin_webhook::{Webhook, outbound, signature};
use silta_sdk::Plugin;

fn manifest() -> Manifest {
    plugin_manifest::of_crate(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn describe_matches_the_manifest() {
    let manifest = manifest();
    let info = Webhook::describe();
    plugin_manifest::assert_describes(
        &manifest,
        &info.id,
        &info.version,
        env!("CARGO_PKG_VERSION"),
    );
    assert_eq!(manifest.worlds, BTreeSet::from([World::Channel]));
}

#[test]
fn the_manifest_asks_for_what_the_code_uses() {
    let manifest = manifest();
    assert_eq!(
        manifest.capabilities,
        BTreeSet::from([Capability::Config, Capability::Log, Capability::Secrets])
    );
    assert_eq!(
        manifest.secrets,
        BTreeSet::from([signature::SECRET.to_owned()])
    );
    assert!(manifest.allowed_hosts.is_empty());
    assert_eq!(outbound::ENDPOINT_KEY, "endpoint");
}
