//! `plugin.toml` and `describe` must agree: the host refuses to load the
//! plugin when id or version differ, and the manifest must ask for what
//! the code uses. The manifest is read by the host's own parser.

use std::collections::BTreeSet;

use silta_plugin_test::manifest::{Capability, Manifest, World};
use silta_plugin_test::plugin_manifest;
use silta_plugin_whatsapp::{ACCESS_TOKEN, Whatsapp, outbound, signature};
use silta_runtime::handshake::HandshakeStyle;
use silta_sdk::Plugin;

fn manifest() -> Manifest {
    plugin_manifest::of_crate(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn describe_matches_the_manifest() {
    let manifest = manifest();
    let info = Whatsapp::describe();
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
            "verify-token".to_owned()
        ])
    );
    plugin_manifest::assert_allows_origin(&manifest, outbound::DEFAULT_GRAPH_URL);
    let handshake = manifest.webhook_handshake.expect("Meta's GET handshake");
    assert_eq!(handshake.style, HandshakeStyle::HubChallenge);
    assert_eq!(handshake.secret, "verify-token");
}

#[test]
fn the_rate_limits_are_metas() {
    let limits = manifest().rate_limits;
    assert_eq!(limits.messages_per_second, Some(80.0));
    // About one message every 6 seconds to the same customer.
    let per_recipient = limits.per_recipient_per_second.expect("a pair limit");
    assert!((1.0 / per_recipient - 6.0).abs() < 0.5, "{per_recipient}");
}
