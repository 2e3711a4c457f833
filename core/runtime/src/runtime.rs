//! The runtime: one engine, one linker, and the plugins loaded into it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::{self, backoffice_export, channel_export, plugin_export};
use crate::cache::{CodeCache, CompileOutcome};
use crate::capabilities::http_egress::EgressCounters;
use crate::capabilities::kv::{KvQuota, KvStore, MemoryKvStore};
use crate::capabilities::secrets::Placeholders;
use crate::engine::{EngineOptions, SiltaEngine};
use crate::error::{Error, Result};
use crate::grant::{Grant, Policy};
use crate::inspect::check_component_bytes;
use crate::manifest::{Manifest, World};
use crate::plugin::Plugin;
use crate::state::{PluginShared, PluginState};
use silta_model::NormalizeOptions;

/// How to build a [`Runtime`].
#[derive(Clone)]
pub struct RuntimeOptions {
    /// Engine settings.
    pub engine: EngineOptions,
    /// Where compiled code is cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Where plugin state lives.
    pub kv: Arc<dyn KvStore>,
    /// Quotas on plugin state.
    pub kv_quota: KvQuota,
    /// How plugin output is normalized (default phone region).
    pub normalize: NormalizeOptions,
    /// Who sends plugins' outbound HTTP; `None` sends it for real.
    pub http_transport: Option<Arc<dyn crate::capabilities::transport::HttpTransport>>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            engine: EngineOptions::default(),
            cache_dir: None,
            kv: Arc::new(MemoryKvStore::default()),
            kv_quota: KvQuota::default(),
            normalize: NormalizeOptions::default(),
            http_transport: None,
        }
    }
}

/// Where a plugin comes from.
#[derive(Debug, Clone)]
pub struct PluginSource {
    /// The component bytes.
    pub wasm: Vec<u8>,
    /// Where they came from (for messages).
    pub origin: PathBuf,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// What the operator grants it.
    pub grant: Grant,
}

impl PluginSource {
    /// Read `NAME.wasm` and the manifest beside it (`NAME.toml`).
    pub fn from_files(
        wasm_path: &Path,
        manifest_path: &Path,
        grant: Option<Grant>,
    ) -> Result<Self> {
        let wasm = std::fs::read(wasm_path).map_err(|source| Error::Io {
            path: wasm_path.to_path_buf(),
            source,
        })?;
        let manifest = Manifest::load(manifest_path)?;
        let grant = grant.unwrap_or_else(|| Grant::all_requested(&manifest));
        Ok(Self {
            wasm,
            origin: wasm_path.to_path_buf(),
            manifest,
            grant,
        })
    }
}

/// The plugin host.
pub struct Runtime {
    engine: SiltaEngine,
    linker: Linker<PluginState>,
    cache: Option<CodeCache>,
    options: RuntimeOptions,
}

impl Runtime {
    /// Build the engine and the linker with every host capability.
    pub fn new(options: RuntimeOptions) -> Result<Self> {
        let engine = SiltaEngine::new(&options.engine)?;
        let linker = build_linker(&engine)?;
        let cache = options
            .cache_dir
            .as_ref()
            .map(CodeCache::open)
            .transpose()?;
        Ok(Self {
            engine,
            linker,
            cache,
            options,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &SiltaEngine {
        &self.engine
    }

    /// Whether `wasm` would load from the code cache without compiling
    /// (false when no cache is configured).
    pub fn is_cached(&self, wasm: &[u8]) -> bool {
        self.cache
            .as_ref()
            .is_some_and(|cache| cache.contains(self.engine.engine(), wasm))
    }

    /// Compile a plugin into the code cache unless it is there already,
    /// without loading it. Without a cache it only compiles, which still
    /// proves the bytes compile.
    pub fn precompile(&self, source: &PluginSource) -> Result<CompileOutcome> {
        check_component_bytes(&source.wasm, &source.origin)?;
        if self.is_cached(&source.wasm) {
            return Ok(CompileOutcome::Cached);
        }
        let engine = self.engine.engine();
        match &self.cache {
            Some(cache) => cache
                .get_or_compile(engine, &source.wasm)
                .map(|(_, outcome)| outcome),
            None => wasmtime::component::Component::new(engine, &source.wasm)
                .map(|_| CompileOutcome::Compiled),
        }
        .map_err(|e| Error::Compile {
            plugin: source.manifest.id.clone(),
            reason: format!("{e:#}"),
        })
    }

    /// Compile (or load from cache), check against the manifest, and make
    /// the plugin ready to call. Checks, in order: the bytes are a
    /// component; every world the manifest names is exported with the
    /// right types; every import is one the host provides; `describe`
    /// answers with the manifest's id and version.
    pub async fn load(&self, source: PluginSource) -> Result<Arc<Plugin>> {
        let manifest = source.manifest;
        let id = manifest.id.clone();
        check_component_bytes(&source.wasm, &source.origin)?;
        let started = Instant::now();
        let engine = self.engine.engine().clone();
        let cache = self.cache.clone();
        let wasm = source.wasm;
        let compiled = tokio::task::spawn_blocking(move || match &cache {
            Some(cache) => cache.get_or_compile(&engine, &wasm),
            None => wasmtime::component::Component::new(&engine, &wasm)
                .map(|c| (c, CompileOutcome::Compiled)),
        })
        .await
        .map_err(|e| Error::Compile {
            plugin: id.clone(),
            reason: e.to_string(),
        })?;
        let (component, compile) = compiled.map_err(|e| Error::Compile {
            plugin: id.clone(),
            reason: format!("{e:#}"),
        })?;
        let contract = |reason: String| Error::Contract {
            plugin: id.clone(),
            reason,
        };
        let exports = crate::inspect::export_names(&component, self.engine.engine());
        for world in manifest.worlds.iter().copied() {
            if !exports.iter().any(|e| world.is_export(e)) {
                let hint = crate::manifest::contract_version_hint(&exports)
                    .map(|hint| format!("; {hint}"))
                    .unwrap_or_default();
                return Err(contract(format!(
                    "the manifest names world `{}` but the component does not export `{}` (it exports: {}){hint}",
                    world.as_str(),
                    world.export_name(),
                    if exports.is_empty() {
                        "nothing".to_string()
                    } else {
                        exports.join(", ")
                    }
                )));
            }
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| contract(format!("imports something Silta does not provide: {e:#}")))?;
        let plugin_indices = plugin_export::GuestIndices::new(&pre)
            .map_err(|e| contract(format!("does not export `silta:connector/plugin`: {e:#}")))?;
        let channel_indices = if manifest.worlds.contains(&World::Channel) {
            Some(channel_export::GuestIndices::new(&pre).map_err(|e| contract(format!("{e:#}")))?)
        } else {
            None
        };
        let backoffice_indices = if manifest.worlds.contains(&World::Backoffice) {
            Some(
                backoffice_export::GuestIndices::new(&pre)
                    .map_err(|e| contract(format!("{e:#}")))?,
            )
        } else {
            None
        };
        let shared = Arc::new(PluginShared {
            id: id.clone(),
            policy: Policy::new(&manifest, &source.grant),
            manifest_secrets: manifest.secrets.clone(),
            kv: self.options.kv.clone(),
            kv_quota: self.options.kv_quota,
            placeholders: Placeholders::new(),
            egress: EgressCounters::default(),
            transport: self.options.http_transport.clone(),
        });
        let mut plugin = Plugin {
            shared,
            engine: self.engine.clone(),
            pre,
            plugin_indices,
            channel_indices,
            backoffice_indices,
            info: crate::contract::PluginInfo::default(),
            compile,
            normalize_options: self.options.normalize,
            warm: std::sync::Mutex::new(Vec::new()),
            warm_limit: self.options.engine.warm_instances_per_plugin,
            manifest,
        };
        plugin.info = plugin.describe().await?;
        plugin.check_typed_exports().await?;
        if plugin.info.id != plugin.manifest.id.as_str()
            || plugin.info.version != plugin.manifest.version
        {
            return Err(contract(format!(
                "describe() says {} {} but the manifest says {} {}",
                plugin.info.id, plugin.info.version, plugin.manifest.id, plugin.manifest.version
            )));
        }
        tracing::info!(
            plugin = %plugin.id(),
            version = %plugin.manifest.version,
            worlds = ?plugin.manifest.worlds.iter().map(|w| w.as_str()).collect::<Vec<_>>(),
            capabilities = ?plugin.shared.policy.capabilities().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            code = ?compile,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plugin loaded"
        );
        Ok(Arc::new(plugin))
    }
}

impl Plugin {
    /// Instantiate once and type-check every export the manifest promises
    /// (the export names were checked before; this checks signatures).
    async fn check_typed_exports(&self) -> Result<()> {
        let channel = self.channel_indices.clone();
        let backoffice = self.backoffice_indices.clone();
        self.run(async |call| {
            if let Some(ix) = &channel {
                ix.load(&mut call.store, &call.instance).map_err(|e| {
                    e.context("its `channel-api` exports do not match silta:connector@0.2")
                })?;
            }
            if let Some(ix) = &backoffice {
                ix.load(&mut call.store, &call.instance).map_err(|e| {
                    e.context("its `backoffice-api` exports do not match silta:connector@0.2")
                })?;
            }
            Ok(())
        })
        .await
        .map_err(|e| match e {
            Error::Trapped { plugin, message } => Error::Contract {
                plugin,
                reason: message,
            },
            other => other,
        })
    }
}

fn build_linker(engine: &SiltaEngine) -> Result<Linker<PluginState>> {
    let mut linker = Linker::new(engine.engine());
    let fail = |e: wasmtime::Error| Error::Engine(format!("linking host capabilities: {e:#}"));
    // All of WASI p2, so that plugins built with the standard library
    // instantiate; the context grants no files, environment or sockets.
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(fail)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(fail)?;
    bindings::Host_::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |s| s)
        .map_err(fail)?;
    Ok(linker)
}
