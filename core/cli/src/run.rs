//! `silta run` and `silta check`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use silta_runtime::engine::EngineOptions;
use silta_runtime::grant::Grant;
use silta_runtime::manifest::{Capability, Manifest};
use silta_runtime::{Plugin, PluginSource, Runtime, RuntimeOptions};

use crate::bundled::BUNDLED;
use crate::config::Config;

struct AppState {
    plugins: Vec<Arc<Plugin>>,
    runtime: Runtime,
}

/// Load every plugin the configuration names (bundled ones included).
async fn load_plugins(config: &Config) -> anyhow::Result<(Runtime, Vec<Arc<Plugin>>)> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let runtime = Runtime::new(RuntimeOptions {
        engine: EngineOptions {
            pooling: config.engine.pooling,
            pool_instances: config.engine.pool_instances,
            warm_instances_per_plugin: config.engine.warm_instances_per_plugin,
            ..EngineOptions::default()
        },
        cache_dir: Some(config.data_dir.join("cache").join("plugins")),
        normalize: config.contact_format.normalize_options()?,
        ..RuntimeOptions::default()
    })?;
    tracing::info!(allocation = ?runtime.engine().allocation(), "wasm engine ready");
    let mut sources = Vec::new();
    if config.bundled_plugins {
        for (manifest_text, wasm) in BUNDLED {
            let manifest = Manifest::parse(manifest_text, Path::new("<bundled>"))?;
            let grant = match config
                .plugins
                .iter()
                .find(|p| p.id == manifest.id && p.path.is_none())
            {
                Some(p) => p.grant()?,
                // Unconfigured bundled plugins get logging only.
                None => Grant {
                    capabilities: [Capability::Log].into_iter().collect(),
                    ..Grant::default()
                },
            };
            sources.push(PluginSource {
                wasm: wasm.to_vec(),
                origin: format!("<bundled {}>", manifest.id).into(),
                manifest,
                grant,
            });
        }
    }
    for p in config.plugins.iter().filter(|p| p.path.is_some()) {
        let path = p.path.as_deref().unwrap_or(Path::new(""));
        let source =
            PluginSource::from_files(path, &path.with_extension("toml"), Some(p.grant()?))?;
        if source.manifest.id != p.id {
            anyhow::bail!(
                "plugin {}: the manifest beside {} says id `{}`",
                p.id,
                path.display(),
                source.manifest.id
            );
        }
        sources.push(source);
    }
    for p in &config.plugins {
        if p.path.is_none() && !sources.iter().any(|s| s.manifest.id == p.id) {
            anyhow::bail!(
                "plugin {} is configured but is neither bundled nor given a path",
                p.id
            );
        }
    }
    let mut plugins = Vec::new();
    for source in sources {
        let plugin = runtime.load(source).await?;
        let info = plugin.info();
        tracing::info!(
            plugin = %plugin.id(),
            version = %info.version,
            name = %info.name,
            worlds = ?plugin.manifest().worlds.iter().map(|w| w.as_str()).collect::<Vec<_>>(),
            "{}",
            info.description
        );
        plugins.push(plugin);
    }
    Ok((runtime, plugins))
}

/// `silta check`: parse the configuration and load every plugin.
pub async fn check(config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let (_, plugins) = load_plugins(&config).await?;
    println!("configuration OK; {} plugin(s) load:", plugins.len());
    for p in &plugins {
        println!("  {} {} ({})", p.id(), p.info().version, p.info().name);
    }
    Ok(())
}

/// `silta run`: load plugins and serve the API until SIGINT or SIGTERM.
pub async fn run(config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let (runtime, plugins) = load_plugins(&config).await?;
    tracing::info!(count = plugins.len(), "plugins loaded");
    let state = Arc::new(AppState { plugins, runtime });
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("listening on {}", config.api.listen))?;
    tracing::info!(listen = %config.api.listen, data_dir = %config.data_dir.display(), "silta is running");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving the API")?;
    tracing::info!("silta stopped");
    Ok(())
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the engine's epoch ticker runs and every plugin instantiates.
async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let before = state.runtime.engine().epoch_ticks();
    let mut problems = Vec::new();
    for p in &state.plugins {
        if let Err(e) = p.instantiate_only().await {
            problems.push(format!("{}: {e}", p.id()));
        }
    }
    tokio::time::sleep(state.runtime.engine().epoch_tick() * 3).await;
    if state.runtime.engine().epoch_ticks() == before {
        problems.push("the epoch ticker is not running; plugin deadlines would not fire".into());
    }
    if problems.is_empty() {
        (
            StatusCode::OK,
            format!("ready: {} plugin(s)\n", state.plugins.len()),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready:\n{}\n", problems.join("\n")),
        )
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
