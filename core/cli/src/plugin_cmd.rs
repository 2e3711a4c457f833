//! `silta plugin inspect`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use silta_runtime::engine::{EngineOptions, SiltaEngine};
use silta_runtime::manifest::Manifest;

/// Print what a component is and what its manifest asks for.
pub fn inspect(file: &Path, manifest: Option<&Path>) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // Say what is wrong with the file before looking for a manifest.
    silta_runtime::inspect::check_component_bytes(&bytes, file)?;
    let manifest_path = manifest
        .map(Path::to_path_buf)
        .or_else(|| find_manifest(file));
    let manifest = manifest_path.as_deref().map(Manifest::load).transpose()?;
    let engine = SiltaEngine::new(&EngineOptions {
        pooling: false,
        ..EngineOptions::default()
    })?;
    let inspection = silta_runtime::inspect::inspect(engine.engine(), &bytes, file, manifest)?;
    println!("{}", file.display());
    print!("{inspection}");
    Ok(())
}

fn find_manifest(file: &Path) -> Option<PathBuf> {
    let beside = file.with_extension("toml");
    if beside.is_file() && beside != file {
        return Some(beside);
    }
    let plugin_toml = file.parent()?.join("plugin.toml");
    plugin_toml.is_file().then_some(plugin_toml)
}
