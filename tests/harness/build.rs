//! Builds the guest components in `tests/guests` once per build, for
//! wasm32-wasip2, and records where they are.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let guests = manifest_dir.join("../guests");
    let wit = manifest_dir.join("../../sdk/wit");
    silta_wasm_build::rerun_if_tree_changed(&guests);
    silta_wasm_build::rerun_if_tree_changed(&wit);
    let dir = silta_wasm_build::build_components(&guests.join("Cargo.toml"), &[]);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(
        out.join("guests.rs"),
        format!(
            "/// Where the guest components were built.\npub const GUEST_DIR: &str = {:?};\n",
            dir.display().to_string()
        ),
    )
    .expect("write guests.rs");
}
