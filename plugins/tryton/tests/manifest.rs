//! `plugin.toml` and `describe` must agree: the host refuses to load the
//! plugin when id or version differ, and the manifest must ask for exactly
//! what the code uses. The manifest is read by the host's own parser.

use std::collections::BTreeSet;

use silta_plugin_test::manifest::{Capability, Manifest, World};
use silta_plugin_test::plugin_manifest;
use silta_plugin_tryton::client::CREDENTIALS;
use silta_plugin_tryton::{ID, Tryton};
use silta_sdk::Plugin;

fn manifest() -> Manifest {
    plugin_manifest::of_crate(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn describe_matches_the_manifest() {
    let manifest = manifest();
    let info = Tryton::describe();
    plugin_manifest::assert_describes(
        &manifest,
        &info.id,
        &info.version,
        env!("CARGO_PKG_VERSION"),
    );
    assert_eq!(info.id, ID);
    assert_eq!(manifest.worlds, BTreeSet::from([World::Backoffice]));
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
            Capability::Secrets
        ])
    );
    assert_eq!(manifest.secrets, BTreeSet::from([CREDENTIALS.to_owned()]));
    // Tryton beside Silta, on any port.
    for port in [8000, 18000] {
        assert!(
            manifest
                .allowed_hosts
                .iter()
                .any(|host| host.matches("http", "127.0.0.1", port)),
            "{port}"
        );
    }
    // Tryton elsewhere over TLS (the grant names it), never in clear.
    let allowed = |scheme: &str, port| {
        manifest
            .allowed_hosts
            .iter()
            .any(|host| host.matches(scheme, "erp.example.com", port))
    };
    assert!(allowed("https", 443) && allowed("https", 8443));
    assert!(!allowed("http", 80) && !allowed("http", 8000));
}
