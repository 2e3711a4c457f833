//! Compiled code cached on disk, so a restart does not recompile plugins.
//!
//! The key is the SHA-256 of the component bytes together with the engine's
//! compatibility hash (wasmtime version, compiler settings, CPU features), so
//! a changed plugin or an upgraded Silta compiles afresh. Artifacts are
//! written to a temporary file and renamed into place, so a crash never
//! leaves a half-written artifact under a valid name, and each artifact's
//! own SHA-256 is checked before it is loaded.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::{Error, Result};

/// Whether a component came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileOutcome {
    /// Loaded precompiled code from disk.
    Cached,
    /// Compiled now (and stored, when a cache is configured).
    Compiled,
}

/// A directory of precompiled components.
#[derive(Debug, Clone)]
pub struct CodeCache {
    dir: PathBuf,
}

impl CodeCache {
    /// Use (and create) a cache directory.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| Error::Cache {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self { dir })
    }

    fn key(engine: &Engine, wasm: &[u8]) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let mut digest = Sha256::new();
        digest.update(wasm);
        digest.update(h.finish().to_le_bytes());
        hex::encode(digest.finalize())
    }

    /// Load precompiled code for `wasm`, or compile and store it.
    /// Cache failures are logged and fall back to compiling.
    pub fn get_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CompileOutcome)> {
        let key = Self::key(engine, wasm);
        let artifact = self.dir.join(format!("{key}.cwasm"));
        let checksum = self.dir.join(format!("{key}.sha256"));
        if let Some(component) = self.load(engine, &artifact, &checksum) {
            return Ok((component, CompileOutcome::Cached));
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = self.store(&component, &artifact, &checksum) {
            tracing::warn!(path = %artifact.display(), error = %e, "could not write compiled plugin to the cache");
        }
        Ok((component, CompileOutcome::Compiled))
    }

    fn load(&self, engine: &Engine, artifact: &Path, checksum: &Path) -> Option<Component> {
        let bytes = std::fs::read(artifact).ok()?;
        let expected = std::fs::read_to_string(checksum).ok()?;
        if hex::encode(Sha256::digest(&bytes)) != expected.trim() {
            tracing::warn!(path = %artifact.display(), "cached plugin code failed its checksum; recompiling");
            return None;
        }
        match deserialize(engine, &bytes) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %artifact.display(), error = %e, "cached plugin code is unusable; recompiling");
                None
            }
        }
    }

    fn store(
        &self,
        component: &Component,
        artifact: &Path,
        checksum: &Path,
    ) -> std::io::Result<()> {
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        let sum = hex::encode(Sha256::digest(&bytes));
        write_atomically(checksum, sum.as_bytes())?;
        write_atomically(artifact, &bytes)
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime requires that deserialized bytes were produced by
    // `Component::serialize` of a compatible engine. They were: the file is
    // written only by `CodeCache::store` (atomically, via rename), its name
    // carries the engine's compatibility hash, and its SHA-256 matched the
    // checksum written with it just above. wasmtime additionally checks the
    // engine compatibility header itself.
    unsafe { Component::deserialize(engine, bytes) }
}
