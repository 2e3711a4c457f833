//! `silta run`, `silta check` and `silta dlq`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use silta_runtime::cache::CompileOutcome;
use silta_runtime::capabilities::kv::KvStore;
use silta_runtime::engine::EngineOptions;
use silta_runtime::grant::Grant;
use silta_runtime::manifest::{Capability, Manifest, World};
use silta_runtime::{Plugin, PluginSource, Runtime, RuntimeOptions};

use crate::bundled::BUNDLED;
use crate::config::Config;
use crate::secret_file;
use metrics_exporter_prometheus::PrometheusBuilder;
use silta_api::AppState;
use silta_email::{ImapAccount, SmtpSender, spawn_imap};
use silta_pipeline::backoff::Backoff;
use silta_pipeline::channels::{ChannelSetup, Channels};
use silta_pipeline::enrichment::{Backoffice, BackofficeSettings, Enricher};
use silta_pipeline::http_client::HttpClient;
use silta_pipeline::inbound::{Inbound, InboundOptions};
use silta_pipeline::kv::StoreKv;
use silta_pipeline::linking::LinkOptions;
use silta_pipeline::mail_sink::MailboxSink;
use silta_pipeline::outbound::Outbound;
use silta_pipeline::sender::{Sender, SenderOptions};
use silta_pipeline::webhooks::{WebhookDeliverer, WebhookOptions};
use silta_store::Store;
use silta_store::sqlite::{SqliteOptions, SqliteStore};
use silta_webchat::Live;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The wasm runtime as the configuration sets it up.
fn runtime_for(config: &Config, kv: Option<Arc<dyn KvStore>>) -> anyhow::Result<Runtime> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let defaults = RuntimeOptions::default();
    let runtime = Runtime::new(RuntimeOptions {
        kv: kv.unwrap_or(defaults.kv),
        engine: EngineOptions {
            pooling: config.engine.pooling,
            pool_instances: config.engine.pool_instances,
            warm_instances_per_plugin: config.engine.warm_instances_per_plugin,
            ..EngineOptions::default()
        },
        cache_dir: Some(config.data_dir.join("cache").join("plugins")),
        normalize: config.contact_format.normalize_options()?,
        kv_quota: defaults.kv_quota,
        http_transport: defaults.http_transport,
    })?;
    Ok(runtime)
}

/// Every plugin the configuration names (bundled ones included), with its
/// grant.
fn plugin_sources(config: &Config) -> anyhow::Result<Vec<PluginSource>> {
    let mut sources = Vec::new();
    if config.bundled_plugins {
        for (manifest_text, wasm) in BUNDLED {
            let manifest = Manifest::parse(manifest_text, Path::new("<bundled>"))?;
            // A bundled plugin nothing names is not loaded: compiling it
            // and keeping instances of it warm would cost memory and start
            // time for no use.
            if !config.names_plugin(manifest.id.as_str()) {
                tracing::debug!(plugin = %manifest.id, "bundled plugin not named by the configuration; not loaded");
                continue;
            }
            let grant = match config
                .plugins
                .iter()
                .find(|p| p.id == manifest.id && p.path.is_none())
            {
                Some(p) => p.grant()?,
                // A bundled plugin named only by a channel account or a
                // back office, without a `[[plugins]]` grant, gets logging
                // only.
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
    Ok(sources)
}

/// Where plugins missing from the code cache are compiled.
#[derive(Clone, Copy)]
enum CompileIn<'a> {
    /// In this process.
    ThisProcess,
    /// In a child `silta plugin compile` with this configuration file, so
    /// that the compiler's memory is not left in a long-running process.
    Child(Option<&'a Path>),
}

/// Load every plugin the configuration names.
async fn load_plugins(
    config: &Config,
    kv: Option<Arc<dyn KvStore>>,
    compile_in: CompileIn<'_>,
) -> anyhow::Result<(Runtime, Vec<Arc<Plugin>>)> {
    let runtime = runtime_for(config, kv)?;
    tracing::info!(allocation = ?runtime.engine().allocation(), "wasm engine ready");
    let sources = plugin_sources(config)?;
    if let CompileIn::Child(config_path) = compile_in
        && sources.iter().any(|s| !runtime.is_cached(&s.wasm))
    {
        compile_in_child(config_path).await;
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
    // The loaded plugins run from compiled code; the embedded components
    // were read only to load them.
    for (_, wasm) in BUNDLED {
        crate::memory::drop_embedded_pages(wasm);
    }
    Ok((runtime, plugins))
}

/// Run `silta plugin compile` as a child process and wait for it. When it
/// fails, the plugins are compiled in this process after all (so a real
/// compile error is reported where it matters).
async fn compile_in_child(config_path: Option<&Path>) {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            tracing::warn!(%error, "cannot find this executable; compiling plugins in this process");
            return;
        }
    };
    let mut command = tokio::process::Command::new(exe);
    command.args(["plugin", "compile"]);
    if let Some(path) = config_path {
        command.arg("--config").arg(path);
    }
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    tracing::info!("compiling plugins in a child process (once; the code cache keeps the result)");
    match command.status().await {
        Ok(status) if status.success() => {}
        Ok(status) => {
            tracing::warn!(%status, "the child that compiles plugins failed; compiling in this process")
        }
        Err(error) => {
            tracing::warn!(%error, "cannot start the child that compiles plugins; compiling in this process")
        }
    }
}

/// `silta plugin compile`: compile every plugin the configuration names
/// into the code cache, so that `silta run` starts without compiling.
pub async fn compile(config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let runtime = runtime_for(&config, None)?;
    for source in plugin_sources(&config)? {
        let started = std::time::Instant::now();
        let runtime = &runtime;
        let outcome = tokio::task::block_in_place(|| runtime.precompile(&source))?;
        println!(
            "{}: {}",
            source.manifest.id,
            match outcome {
                CompileOutcome::Cached => "already in the code cache".to_owned(),
                CompileOutcome::Compiled =>
                    format!("compiled in {:.1} s", started.elapsed().as_secs_f64()),
            }
        );
    }
    println!(
        "code cache: {}",
        config.data_dir.join("cache").join("plugins").display()
    );
    Ok(())
}

/// `silta check`: parse the configuration and load every plugin.
pub async fn check(config_path: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let (_, plugins) = load_plugins(&config, None, CompileIn::ThisProcess).await?;
    channel_plugins(&config, &plugins)?;
    imap_accounts(&config)?;
    println!("configuration OK; {} plugin(s) load:", plugins.len());
    for p in &plugins {
        println!("  {} {} ({})", p.id(), p.info().version, p.info().name);
    }
    for account in &config.channel_accounts {
        println!(
            "  channel account {} -> plugin {}",
            account.name, account.plugin
        );
    }
    Ok(())
}

/// Every configured channel account with its plugin and SMTP server.
/// The `[[backoffice]]` plugins with their settings.
fn backoffice_plugins(
    config: &Config,
    plugins: &[Arc<Plugin>],
) -> anyhow::Result<Vec<Arc<Backoffice>>> {
    config
        .backoffice
        .iter()
        .map(|entry| {
            let plugin = plugins
                .iter()
                .find(|p| p.id().as_str() == entry.plugin)
                .with_context(|| {
                    format!(
                        "[[backoffice]] names plugin `{}`, which is not loaded",
                        entry.plugin
                    )
                })?;
            if !plugin.manifest().worlds.contains(&World::Backoffice) {
                anyhow::bail!(
                    "[[backoffice]] names plugin `{}`, which does not implement the backoffice world",
                    entry.plugin
                );
            }
            let settings = BackofficeSettings {
                snapshot_ttl: Duration::from_secs(entry.snapshot_ttl_seconds),
                record_activities: entry.record_activities,
                calls_per_second: entry.calls_per_second,
                call_timeout: Duration::from_millis(entry.timeout_ms.max(1)),
                max_attempts: entry.max_attempts.max(1),
            };
            Ok(Arc::new(Backoffice::new(Arc::clone(plugin), settings)))
        })
        .collect()
}

fn channel_plugins(config: &Config, plugins: &[Arc<Plugin>]) -> anyhow::Result<Vec<ChannelSetup>> {
    config
        .channel_accounts
        .iter()
        .map(|account| {
            let plugin = plugins
                .iter()
                .find(|p| p.id() == &account.plugin)
                .with_context(|| {
                    format!(
                        "channel account `{}` names plugin `{}`, which is not loaded",
                        account.name, account.plugin
                    )
                })?;
            let smtp = account
                .smtp
                .as_ref()
                .map(|smtp| -> anyhow::Result<Arc<SmtpSender>> {
                    let sender = SmtpSender::new(&smtp.account(&account.name)?)
                        .with_context(|| format!("channel account {}: smtp", account.name))?;
                    Ok(Arc::new(sender))
                })
                .transpose()?;
            Ok(ChannelSetup {
                name: account.name.clone(),
                plugin: Arc::clone(plugin),
                smtp,
                local: None,
                rate_limits: account.rate_limits.unwrap_or_default(),
                ingest_auth: account.ingest_auth,
            })
        })
        .collect()
}

/// Everything `run` and `dlq` share: the store, plugins and pipeline.
pub(crate) struct Node {
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) inbound: Arc<Inbound>,
    pub(crate) outbound: Arc<Outbound>,
    pub(crate) sender: Arc<Sender>,
    pub(crate) client: Arc<HttpClient>,
    pub(crate) runtime: Runtime,
    pub(crate) plugins: Vec<Arc<Plugin>>,
    /// The mailboxes `run` reads (channel accounts with `imap`).
    pub(crate) mailboxes: Vec<ImapAccount>,
    /// The back offices (`[[backoffice]]`).
    pub(crate) backoffices: Vec<Arc<Backoffice>>,
    /// Their enrichment workers.
    pub(crate) enricher: Arc<Enricher>,
    /// The web chat widgets open on this node.
    pub(crate) live: Arc<Live>,
}

impl Node {
    pub(crate) async fn open(config_path: Option<&Path>) -> anyhow::Result<Self> {
        let config = Config::load(config_path)?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let db = config.data_dir.join("silta.db");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(
                &db,
                &SqliteOptions {
                    fsync: config.store.fsync,
                    ..SqliteOptions::default()
                },
            )
            .await
            .with_context(|| format!("opening the store {}", db.display()))?,
        );
        let kv: Arc<dyn KvStore> = Arc::new(StoreKv::new(Arc::clone(&store)));
        let (runtime, plugins) =
            load_plugins(&config, Some(kv), CompileIn::Child(config_path)).await?;
        tracing::info!(count = plugins.len(), "plugins loaded");
        let live = Live::new();
        let mut setups = channel_plugins(&config, &plugins)?;
        crate::webchat_setup::attach_transports(&mut setups, &config, &store, &live);
        let channels = Channels::register(&*store, setups).await?;
        let mailboxes = imap_accounts(&config)?;
        let backoffices = backoffice_plugins(&config, &plugins)?;
        let backoffice_ids: Vec<String> = backoffices
            .iter()
            .map(|b| b.plugin.id().to_string())
            .collect();
        let inbound = Inbound::new(
            Arc::clone(&store),
            channels.clone(),
            InboundOptions {
                workers: config.pipeline.workers.max(1),
                link: LinkOptions {
                    case_window: Duration::from_secs(
                        config.pipeline.case_window_hours.saturating_mul(3600),
                    ),
                    backoffice_plugins: backoffice_ids.clone(),
                },
                ..InboundOptions::default()
            },
        );
        let wake = Arc::new(Notify::new());
        let outbound = Arc::new(
            Outbound::new(Arc::clone(&store), channels.clone(), Arc::clone(&wake))
                .with_backoffice(&backoffice_ids),
        );
        let backoff = Backoff {
            initial: Duration::from_millis(config.pipeline.retry_initial_ms.max(1)),
            max: Duration::from_secs(config.pipeline.retry_max_seconds.max(1)),
        };
        let enricher = Enricher::new(Arc::clone(&store), backoffices.clone(), backoff);
        let client = Arc::new(HttpClient::new(Duration::from_secs(30)));
        let sender = Sender::new(
            Arc::clone(&store),
            channels,
            Arc::clone(&client),
            SenderOptions {
                max_attempts: config.pipeline.max_attempts.max(1),
                backoff,
                ..SenderOptions::default()
            },
            wake,
        );
        Ok(Self {
            config,
            store,
            inbound,
            outbound,
            sender,
            client,
            runtime,
            plugins,
            mailboxes,
            backoffices,
            enricher,
            live,
        })
    }
}

/// A token generated into the data directory, and its file.
type GeneratedToken = (String, std::path::PathBuf);

/// The API tokens: configured, from `SILTA_API_TOKEN`, or generated into
/// the data directory. Returns the tokens and the generated one, if any.
fn api_tokens(config: &Config) -> anyhow::Result<(Vec<String>, Option<GeneratedToken>)> {
    let mut tokens: Vec<String> = config.api.tokens.clone();
    if let Ok(token) = std::env::var("SILTA_API_TOKEN")
        && !token.trim().is_empty()
    {
        tokens.push(token.trim().to_owned());
    }
    if !tokens.is_empty() {
        return Ok((tokens, None));
    }
    let path = config.data_dir.join("api-token");
    let token = if path.exists() {
        secret_file::read(&path)?
    } else {
        secret_file::generate(&path)?
    };
    Ok((vec![token.clone()], Some((token, path))))
}

/// `silta run`: serve the API and run the pipeline until SIGINT or SIGTERM.
pub async fn run(config_path: Option<&Path>) -> anyhow::Result<()> {
    let prometheus = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|err| tracing::warn!(error = %err, "metrics recorder not installed"))
        .ok();
    let node = Node::open(config_path).await?;
    // Compiling plugins on a first start leaves tens of MB freed but held.
    tokio::task::spawn_blocking(crate::memory::release_freed_memory).await?;
    let (tokens, generated) = api_tokens(&node.config)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(crate::memory::trim_when_quiet(stop_rx.clone()));
    let inbound_task = node.inbound.spawn(stop_rx.clone());
    let sender_task = node.sender.spawn(stop_rx.clone());
    let enricher_task = node.enricher.spawn(stop_rx.clone());
    let source = format!("urn:silta:{}", node.config.api.listen);
    let deliverer = WebhookDeliverer::new(
        Arc::clone(&node.store),
        Arc::clone(&node.client),
        source.clone(),
        WebhookOptions::default(),
    );
    let webhook_task = tokio::spawn(deliverer.run(stop_rx.clone()));
    let mailbox_tasks = start_mailboxes(&node, &stop_rx);
    // Turns true when the API starts shutting down, so that open event
    // streams and sockets end and do not hold the graceful shutdown up.
    let (closing_tx, closing) = watch::channel(false);
    let webchat = crate::webchat_setup::gateway(
        &node.config,
        &node.store,
        &node.inbound,
        &node.live,
        &closing,
    )?;
    let live_task = webchat.as_ref().map(|_| {
        tokio::spawn(Arc::clone(&node.live).follow_events(Arc::clone(&node.store), stop_rx.clone()))
    });
    let state = Arc::new(AppState {
        store: Arc::clone(&node.store),
        inbound: Arc::clone(&node.inbound),
        outbound: Arc::clone(&node.outbound),
        sender: Arc::clone(&node.sender),
        tokens,
        max_body_bytes: node.config.api.max_body_bytes,
        max_blob_bytes: node.config.api.max_blob_bytes,
        prometheus,
        event_source: source,
        ready: AtomicBool::new(false),
        plugins: node.plugins.clone(),
        engine: node.runtime.engine().clone(),
        backoffices: node.backoffices.clone(),
        webchat,
        closing,
    });
    let app = silta_api::router(Arc::clone(&state));
    let listen = node.config.api.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr().unwrap_or(listen);
    state.ready.store(true, Ordering::Release);
    tracing::info!(listen = %local, data_dir = %node.config.data_dir.display(), "silta is running");
    println!("silta is listening on http://{local}");
    for account in node.inbound.channels().all() {
        println!(
            "  ingest: POST http://{local}/v1/ingest/{} (plugin {})",
            account.record.name,
            account.plugin.id()
        );
    }
    for account in &node.config.channel_accounts {
        if account.webchat.is_some() {
            println!(
                "  web chat: <script src=\"http://{local}/v1/webchat/{}/widget.js\" async></script>",
                account.name
            );
        }
    }
    match &generated {
        Some((token, path)) => println!("API token: {token}  (kept in {})", path.display()),
        None => println!("API token: as configured"),
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = closing_tx.send(true);
        })
        .await
        .context("serving the API")?;
    state.ready.store(false, Ordering::Release);
    tracing::info!("API stopped; draining the pipeline");
    let _ = stop_tx.send(true);
    let grace = Duration::from_secs(node.config.pipeline.shutdown_grace_seconds);
    let drained = tokio::time::timeout(grace, async {
        let _ = inbound_task.await;
        let _ = sender_task.await;
        let _ = webhook_task.await;
        let _ = enricher_task.await;
        if let Some(task) = live_task {
            let _ = task.await;
        }
        for task in mailbox_tasks {
            let _ = task.await;
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            grace_seconds = grace.as_secs(),
            "shutdown grace period over; pending work stays in the journal and outbox"
        );
    }
    tracing::info!("silta stopped");
    Ok(())
}

/// The IMAP side of every channel account that has one, passwords read.
fn imap_accounts(config: &Config) -> anyhow::Result<Vec<ImapAccount>> {
    config
        .channel_accounts
        .iter()
        .filter_map(|account| {
            account
                .imap
                .as_ref()
                .map(|imap| imap.account(&account.name))
        })
        .collect()
}

/// Start reading the mailboxes of every channel account with `imap`.
fn start_mailboxes(node: &Node, stop: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let sink = MailboxSink::new(Arc::clone(&node.inbound), Arc::clone(&node.store));
    let mut tasks = Vec::new();
    for imap in &node.mailboxes {
        tracing::info!(channel_account = %imap.name, host = %imap.host, port = imap.port,
            mailboxes = ?imap.mailboxes, "reading mail");
        tasks.extend(spawn_imap(imap.clone(), sink.clone(), stop.clone()));
    }
    tasks
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
