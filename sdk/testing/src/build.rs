//! Compile a plugin crate to a `wasm32-wasip2` component, once per process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};

/// Build the crate at `crate_dir` in release mode for wasm32-wasip2 and
/// return the component's path. Repeated calls in one process reuse the
/// first build; cargo's incremental build makes later runs cheap.
///
/// The component goes to `<target>/wasm/wasm32-wasip2/release/`, beside but
/// apart from the host build, so the two cargo invocations never wait on
/// each other's lock.
pub fn component(crate_dir: &Path) -> Result<PathBuf> {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(path) = built.get(crate_dir) {
        return Ok(path.clone());
    }
    let path = build_now(crate_dir)?;
    built.insert(crate_dir.to_path_buf(), path.clone());
    Ok(path)
}

fn build_now(crate_dir: &Path) -> Result<PathBuf> {
    let manifest = crate_dir.join("Cargo.toml");
    let name = package_name(&manifest)?;
    let target_dir = target_dir(crate_dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(crate_dir)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // As the host's build scripts do: no debug info in components.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .output()
        .map_err(|e| Error::Build {
            crate_dir: crate_dir.to_path_buf(),
            output: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(Error::Build {
            crate_dir: crate_dir.to_path_buf(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let wasm = target_dir
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    if !wasm.is_file() {
        return Err(Error::Build {
            crate_dir: crate_dir.to_path_buf(),
            output: format!(
                "cargo succeeded but {} is missing; is the crate a cdylib?",
                wasm.display()
            ),
        });
    }
    Ok(wasm)
}

/// `<target>/wasm` of the workspace that holds `crate_dir`.
fn target_dir(crate_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("wasm");
    }
    // The test binary lives in <target>/<profile>/deps/.
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .find(|p| p.join("CACHEDIR.TAG").is_file())
            .map(Path::to_path_buf)
    });
    from_exe
        .unwrap_or_else(|| crate_dir.join("target"))
        .join("wasm")
}

fn package_name(manifest: &Path) -> Result<String> {
    let text = std::fs::read_to_string(manifest).map_err(|e| Error::File {
        path: manifest.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if in_package
            && let Some(rest) = line.strip_prefix("name")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            return Ok(value.trim().trim_matches('"').to_string());
        }
    }
    Err(Error::File {
        path: manifest.to_path_buf(),
        reason: "no [package] name".into(),
    })
}
