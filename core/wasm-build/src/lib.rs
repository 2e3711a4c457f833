//! Build-script helper: compile a wasm32-wasip2 cargo workspace or package
//! with a nested `cargo build`, once per build, into a target directory of
//! its own under the outer one (so the two cargo locks never meet).
//!
//! Used by the test harness (guest components) and the `silta` binary
//! (bundled plugins). Cargo's own incremental build makes repeat runs cheap.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the outer build's target directory is, from a build script's
/// `OUT_DIR` (`<target>/<profile>/build/<pkg>-<hash>/out`).
pub fn outer_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    // Cargo marks the root of every target directory with CACHEDIR.TAG.
    out.ancestors()
        .find(|p| p.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        .expect("OUT_DIR is inside a cargo target directory")
}

/// Build every package of `manifest_path` for wasm32-wasip2 in release mode
/// and return the directory holding the `.wasm` files.
///
/// Panics with the nested cargo's output on failure: a build script has no
/// better way to report.
pub fn build_components(manifest_path: &Path, packages: &[&str]) -> PathBuf {
    ensure_wasm_target();
    let target_dir = outer_target_dir().join("wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--target")
        .arg("wasm32-wasip2")
        .arg("--manifest-path")
        .arg(manifest_path)
        .arg("--target-dir")
        .arg(&target_dir);
    for p in packages {
        cmd.arg("-p").arg(p);
    }
    // The outer build's settings must not leak into the wasm build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
        {
            cmd.env_remove(key);
        }
    }
    // Components carry no debug info: it would multiply their size (and so
    // load and compile time) for no use in a sandbox without a debugger.
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    cmd.env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    let output = cmd.output().expect("run nested cargo for wasm32-wasip2");
    if !output.status.success() {
        panic!(
            "building wasm components from {} failed:\n{}\n{}",
            manifest_path.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    target_dir.join("wasm32-wasip2").join("release")
}

/// Install the wasm32-wasip2 standard library with rustup when the
/// compiler lacks it. `rust-toolchain.toml` names the target, but rustup
/// adds a toolchain file's targets only when it installs the toolchain, so
/// a machine that already had this Rust would fail the first build.
fn ensure_wasm_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip2"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if libdir.is_some_and(|dir| dir.is_dir()) {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", "wasm32-wasip2"]);
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    println!("cargo:warning=installing the wasm32-wasip2 target with rustup (once)");
    match rustup.output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "the wasm32-wasip2 target is missing and `rustup target add wasm32-wasip2` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "the wasm32-wasip2 target is missing and rustup could not run ({e}); install the target for this Rust"
        ),
    }
}

/// Tell cargo to rerun the build script when anything under `dir` changes
/// (except build output).
pub fn rerun_if_tree_changed(dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rerun_if_tree_changed(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
