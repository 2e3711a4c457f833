//! `plugin.toml` and `describe` must agree: the host refuses to load the
//! plugin when id or version differ, and the manifest must ask for what
//! the code uses. The manifest is read by the host's own parser.

use std::collections::BTreeSet;

use silta_plugin_messenger::{ACCESS_TOKEN, Messenger, VERIFY_TOKEN, outbound, signature};
use silta_plugin_test::manifest::{Capability, Manifest, World};
use silta_plugin_test::plugin_manifest;
use silta_runtime::handshake::HandshakeStyle;
use silta_sdk::Plugin;
use silta_sdk::types::IdentityKind;

fn manifest() -> Manifest {
    plugin_manifest::of_crate(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn describe_matches_the_manifest() {
    let manifest = manifest();
    let info = Messenger::describe();
    plugin_manifest::assert_describes(
        &manifest,
        &info.id,
        &info.version,
        env!("CARGO_PKG_VERSION"),
    );
    assert_eq!(manifest.worlds, BTreeSet::from([World::Channel]));
    assert_eq!(
        info.identity_kinds,
        vec![IdentityKind::Messenger, IdentityKind::Instagram]
    );
}

#[test]
fn the_manifest_asks_for_what_the_code_uses() {
    let manifest = manifest();
    assert_eq!(
        manifest.capabilities,
        BTreeSet::from([
            Capability::Config,
            Capability::Http,
            Capability::Kv,
            Capability::Log,
            Capability::Secrets,
        ])
    );
    assert_eq!(
        manifest.secrets,
        BTreeSet::from([
            signature::SECRET.to_owned(),
            ACCESS_TOKEN.to_owned(),
            VERIFY_TOKEN.to_owned()
        ])
    );
    plugin_manifest::assert_allows_origin(&manifest, outbound::DEFAULT_GRAPH_URL);
    let handshake = manifest.webhook_handshake.expect("Meta's GET handshake");
    assert_eq!(handshake.style, HandshakeStyle::HubChallenge);
    assert_eq!(handshake.secret, VERIFY_TOKEN);
}

#[test]
fn the_rate_limits_stay_inside_metas() {
    let limits = manifest().rate_limits;
    assert_eq!(limits.messages_per_second, Some(40.0));
    assert_eq!(limits.per_recipient_per_second, Some(1.0));
}
