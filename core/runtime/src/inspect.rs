//! What is inside a component: for `silta plugin inspect` and load checks.

use std::fmt;
use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::error::{Error, Result};
use crate::manifest::{Manifest, World};

/// Refuse anything that is not a component, with a message that says what
/// the file is instead.
pub fn check_component_bytes(bytes: &[u8], path: &Path) -> Result<()> {
    let fail = |reason: &str| {
        Err(Error::NotAComponent {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        })
    };
    if bytes.len() < 8 {
        return fail("the file is too short to be WebAssembly");
    }
    if &bytes[0..4] != b"\0asm" {
        if bytes.starts_with(b"(component") || bytes.starts_with(b"(module") {
            return fail("this is WebAssembly text; compile it to binary first");
        }
        return fail("it does not start with the WebAssembly magic bytes `\\0asm`");
    }
    match (&bytes[4..6], &bytes[6..8]) {
        (_, [0x00, 0x00]) => fail(
            "this is a core WebAssembly module, not a component; build the plugin for the `wasm32-wasip2` target (or wrap it with `wasm-tools component new`)",
        ),
        (_, [0x01, 0x00]) => Ok(()),
        _ => fail("unknown WebAssembly encoding version or layer"),
    }
}

/// Names of the top-level exports of a compiled component.
pub fn export_names(component: &Component, engine: &Engine) -> Vec<String> {
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// One export or import, with the functions it holds.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its fully qualified name.
    pub name: String,
    /// Functions inside it (for an instance; types are left out), or empty.
    pub functions: Vec<String>,
}

/// The result of inspecting a plugin file.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The Silta worlds the component implements.
    pub worlds: Vec<World>,
    /// Top-level exports.
    pub exports: Vec<Item>,
    /// Top-level imports.
    pub imports: Vec<Item>,
    /// The manifest beside it, if one was found.
    pub manifest: Option<Manifest>,
    /// Size of the component in bytes.
    pub size_bytes: usize,
}

/// Compile and describe a component file.
pub fn inspect(
    engine: &Engine,
    bytes: &[u8],
    path: &Path,
    manifest: Option<Manifest>,
) -> Result<Inspection> {
    check_component_bytes(bytes, path)?;
    let component = Component::new(engine, bytes).map_err(|e| Error::NotAComponent {
        path: path.to_path_buf(),
        reason: format!("it does not validate: {e:#}"),
    })?;
    let ty = component.component_type();
    let item = |name: &str, it: ComponentItem| Item {
        name: name.to_string(),
        functions: match it {
            ComponentItem::ComponentInstance(inst) => inst
                .exports(engine)
                .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
                .map(|(n, _)| n.to_string())
                .collect(),
            _ => Vec::new(),
        },
    };
    let exports: Vec<Item> = ty.exports(engine).map(|(n, it)| item(n, it.ty)).collect();
    let imports: Vec<Item> = ty.imports(engine).map(|(n, it)| item(n, it.ty)).collect();
    let worlds = [World::Channel, World::Backoffice]
        .into_iter()
        .filter(|w| exports.iter().any(|e| w.is_export(&e.name)))
        .collect();
    Ok(Inspection {
        worlds,
        exports,
        imports,
        manifest,
        size_bytes: bytes.len(),
    })
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let worlds: Vec<&str> = self.worlds.iter().map(|w| w.as_str()).collect();
        writeln!(f, "component: {} bytes", self.size_bytes)?;
        writeln!(
            f,
            "worlds:    {}",
            if worlds.is_empty() {
                "none (not a Silta plugin)".to_string()
            } else {
                worlds.join(", ")
            }
        )?;
        writeln!(f, "exports:")?;
        for e in &self.exports {
            writeln!(f, "  {}", e.name)?;
            for func in &e.functions {
                writeln!(f, "    {func}")?;
            }
        }
        writeln!(f, "imports:")?;
        for i in &self.imports {
            writeln!(f, "  {}", i.name)?;
        }
        match &self.manifest {
            None => writeln!(f, "manifest:  none found beside the file")?,
            Some(m) => {
                writeln!(f, "manifest:  {} {}", m.id, m.version)?;
                let caps: Vec<&str> = m.capabilities.iter().map(|c| c.as_str()).collect();
                writeln!(
                    f,
                    "  requested capabilities: {}",
                    if caps.is_empty() {
                        "none".into()
                    } else {
                        caps.join(", ")
                    }
                )?;
                let hosts: Vec<String> = m.allowed_hosts.iter().map(|h| h.to_string()).collect();
                writeln!(
                    f,
                    "  allowed hosts:          {}",
                    if hosts.is_empty() {
                        "none".into()
                    } else {
                        hosts.join(", ")
                    }
                )?;
                let secrets: Vec<&str> = m.secrets.iter().map(String::as_str).collect();
                writeln!(
                    f,
                    "  secrets:                {}",
                    if secrets.is_empty() {
                        "none".into()
                    } else {
                        secrets.join(", ")
                    }
                )?;
                writeln!(
                    f,
                    "  limits:                 memory {} bytes, deadline {} ms, output {} bytes",
                    m.limits.memory_bytes, m.limits.deadline_ms, m.limits.output_bytes
                )?;
                let missing: Vec<&str> = m
                    .worlds
                    .iter()
                    .filter(|w| !self.worlds.contains(w))
                    .map(|w| w.as_str())
                    .collect();
                if !missing.is_empty() {
                    writeln!(
                        f,
                        "  WARNING: the manifest names worlds the component does not export: {}",
                        missing.join(", ")
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_components_with_reasons() {
        let p = Path::new("x.wasm");
        let core = [0, b'a', b's', b'm', 1, 0, 0, 0];
        let err = check_component_bytes(&core, p).unwrap_err().to_string();
        assert!(err.contains("core WebAssembly module"), "{err}");
        let err = check_component_bytes(b"\x7fELF\x02\x01\x01\x00", p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("magic bytes"), "{err}");
        assert!(check_component_bytes(b"", p).is_err());
        let component = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
        assert!(check_component_bytes(&component, p).is_ok());
    }
}
