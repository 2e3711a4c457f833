//! Builds the bundled plugins (`plugins/*`) for wasm32-wasip2 and embeds
//! them, with their manifests, in the `silta` binary.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir.join("../..");
    let plugins_dir = root.join("plugins");
    silta_wasm_build::rerun_if_tree_changed(&plugins_dir);
    silta_wasm_build::rerun_if_tree_changed(&root.join("sdk"));
    let mut plugins = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&plugins_dir) {
        for entry in entries.flatten() {
            let dir = entry.path();
            if dir.join("Cargo.toml").is_file() && dir.join("plugin.toml").is_file() {
                plugins.push(dir);
            }
        }
    }
    plugins.sort();
    let mut code = String::from(
        "/// Plugins bundled into this binary: (manifest TOML, component bytes).\npub static BUNDLED: &[(&str, &[u8])] = &[\n",
    );
    for dir in &plugins {
        let wasm_dir = silta_wasm_build::build_components(&dir.join("Cargo.toml"), &[]);
        let name = package_name(&dir.join("Cargo.toml")).replace('-', "_");
        let wasm = wasm_dir.join(format!("{name}.wasm"));
        code.push_str(&format!(
            "    (include_str!({:?}), include_bytes!({:?})),\n",
            dir.join("plugin.toml")
                .canonicalize()
                .expect("plugin.toml")
                .display()
                .to_string(),
            wasm.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("bundled.rs"), code).expect("write bundled.rs");
}

fn package_name(cargo_toml: &std::path::Path) -> String {
    let text = std::fs::read_to_string(cargo_toml).expect("read plugin Cargo.toml");
    text.lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("name").map(|r| {
                r.trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
        })
        .expect("plugin Cargo.toml has a package name")
}
