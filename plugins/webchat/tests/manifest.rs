//! `plugin.toml` and `describe` must agree, and the manifest must ask for
//! what the code uses: the identity secret and the gateway's origin only.

use std::collections::BTreeSet;

use silta_plugin_test::manifest::{Capability, Manifest, World};
use silta_plugin_test::plugin_manifest;
use silta_plugin_webchat::{Webchat, identity_token, outbound};
use silta_sdk::Plugin;

fn manifest() -> Manifest {
    plugin_manifest::of_crate(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn describe_matches_the_manifest() {
    let manifest = manifest();
    let info = Webchat::describe();
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
        BTreeSet::from([Capability::Http, Capability::Log, Capability::Secrets])
    );
    assert_eq!(
        manifest.secrets,
        BTreeSet::from([identity_token::SECRET.to_owned()])
    );
    plugin_manifest::assert_allows_origin(&manifest, outbound::GATEWAY_ORIGIN);
}
