//! Compiled code cached on disk, so a restart does not recompile plugins.
//!
//! The key is the SHA-256 of the component bytes together with the engine's
//! compatibility hash (wasmtime version, compiler settings, CPU features), so
//! a changed plugin or an upgraded Silta compiles afresh. Artifacts are
//! written to a temporary file and renamed into place, so a crash never
//! leaves a half-written artifact under a valid name, and each artifact's
//! own SHA-256 is checked before it is loaded.
//!
//! A loaded artifact is mapped from its file rather than copied into
//! memory, so only the code a plugin runs is resident. Silta never writes
//! an artifact in place (a new one replaces it by rename), and nothing else
//! should either while Silta runs: to force recompiling, delete the files.

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

    /// Whether compiled code for `wasm` is in the cache (its checksum is
    /// checked only when it is loaded).
    pub fn contains(&self, engine: &Engine, wasm: &[u8]) -> bool {
        let key = Self::key(engine, wasm);
        self.dir.join(format!("{key}.cwasm")).is_file()
            && self.dir.join(format!("{key}.sha256")).is_file()
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
        let expected = std::fs::read_to_string(checksum).ok()?;
        let actual = file_sha256(artifact).ok()?;
        if actual != expected.trim() {
            tracing::warn!(path = %artifact.display(), "cached plugin code failed its checksum; recompiling");
            return None;
        }
        match deserialize_file(engine, artifact) {
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

/// The SHA-256 of a file in hex, read in pieces (an artifact is megabytes).
fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut digest = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = std::io::Read::read(&mut file, &mut buffer)?;
        if n == 0 {
            return Ok(hex::encode(digest.finalize()));
        }
        digest.update(&buffer[..n]);
    }
}

/// Map the artifact instead of copying it into memory: only the code and
/// data a plugin actually uses become resident, and they are file-backed
/// pages the kernel can drop and read back.
#[allow(unsafe_code)]
fn deserialize_file(engine: &Engine, artifact: &Path) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime requires that the file was produced by
    // `Component::serialize` of a compatible engine and is not modified
    // while mapped. It was: the file is written only by `CodeCache::store`
    // (to a temporary name, then renamed into place, so a finished artifact
    // is never written again), its name carries the engine's compatibility
    // hash, and its SHA-256 matched the checksum written with it just
    // above. wasmtime additionally checks the engine compatibility header
    // itself.
    unsafe { Component::deserialize_file(engine, artifact) }
}
