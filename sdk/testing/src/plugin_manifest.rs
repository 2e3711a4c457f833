//! A plugin crate's `plugin.toml`, read by the host's own parser, and the
//! check that it agrees with what the plugin's `describe` says (the host
//! refuses to load a plugin whose id or version differ).

use std::path::Path;

use silta_runtime::manifest::Manifest;

/// The manifest beside the crate's `Cargo.toml`; panics with the parser's
/// reason when it is missing or invalid.
///
/// ```no_run
/// let manifest = silta_plugin_test::plugin_manifest::of_crate(env!("CARGO_MANIFEST_DIR"));
/// ```
#[must_use]
pub fn of_crate(crate_dir: impl AsRef<Path>) -> Manifest {
    let path = crate_dir.as_ref().join("plugin.toml");
    Manifest::load(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Panics unless `describe`'s `id` and `version` are the manifest's, and the
/// manifest's version is the crate's (`env!("CARGO_PKG_VERSION")`).
pub fn assert_describes(manifest: &Manifest, id: &str, version: &str, crate_version: &str) {
    assert_eq!(manifest.id.as_str(), id, "plugin.toml id vs describe");
    assert_eq!(manifest.version, version, "plugin.toml version vs describe");
    assert_eq!(
        manifest.version, crate_version,
        "plugin.toml version vs Cargo.toml"
    );
}

/// Panics unless one of the manifest's `allowed_hosts` is exactly `origin`
/// (a plugin's default API URL): without it, the host refuses every
/// request to the provider.
pub fn assert_allows_origin(manifest: &Manifest, origin: &str) {
    let hosts: Vec<String> = manifest
        .allowed_hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        hosts.iter().any(|host| host == origin),
        "the origin {origin} is an allowed host: {hosts:?}"
    );
}
