//! `plugin.toml` and `describe` must agree: the host refuses to load the
//! plugin when id or version differ, and the manifest must ask for what
//! the code uses. The manifest is read by the host's own parser.

use std::collections::BTreeSet;

use silta_plugin_test::manifest::{Capability, Manifest, World};
use silta_plugin_test::plugin_manifest;
use silta_plugin_twilio::{Twilio, outbound, signature};
use silta_sdk::Plugin;

fn manifest() -> Manifest {
    plugin_manifest::of_crate(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn describe_matches_the_manifest() {
    let manifest = manifest();
    let info = Twilio::describe();
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
            Capability::Log,
            Capability::Secrets,
        ])
    );
    assert_eq!(
        manifest.secrets,
        BTreeSet::from([signature::SECRET.to_owned()])
    );
    plugin_manifest::assert_allows_origin(&manifest, outbound::DEFAULT_API_URL);
}

#[test]
fn the_rate_limits_are_the_highest_common_case() {
    let limits = manifest().rate_limits;
    // A short code's 100 messages per second; a single long code lowers it
    // to 1 on its channel account (operators can only be stricter).
    assert_eq!(limits.messages_per_second, Some(100.0));
    assert_eq!(limits.per_recipient_per_second, Some(1.0));
}
