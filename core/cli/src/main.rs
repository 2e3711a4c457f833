//! `silta`: the omnichannel integration sidecar.
//!
//! ```text
//! silta run [--config FILE]          run on the embedded default (./silta-data, 127.0.0.1:8080)
//! silta check [--config FILE]        validate the configuration and plugins
//! silta dlq list|replay [filters]    the dead-letter queue
//! silta plugin inspect FILE.wasm     show a plugin's worlds, exports, imports and requested capabilities
//! silta plugin compile [--config F]  compile the configured plugins into the code cache
//! ```

mod bundled;
mod config;
mod dlq_cmd;
mod email_config;
mod memory;
mod plugin_cmd;
mod run;
mod secret_file;
mod webchat_setup;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "silta",
    version,
    about = "Silta: the omnichannel integration sidecar"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Silta: load plugins and serve the API.
    Run {
        /// Configuration file (TOML). Without it, the embedded default.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Validate the configuration and load every plugin, then exit.
    Check {
        /// Configuration file (TOML).
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Work with plugin files.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// The dead-letter queue.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List dead letters, oldest first.
    List {
        /// Configuration file (TOML).
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[command(flatten)]
        filter: DlqFilter,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replay dead letters: one (`--id`), those matching a filter, or all
    /// (`--all`). A replay that succeeds leaves the queue.
    Replay {
        /// Configuration file (TOML).
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[command(flatten)]
        filter: DlqFilter,
        /// Replay every dead letter.
        #[arg(long)]
        all: bool,
    },
}

#[derive(clap::Args)]
struct DlqFilter {
    /// One dead letter.
    #[arg(long)]
    id: Option<i64>,
    /// Only from this plugin.
    #[arg(long)]
    plugin: Option<String>,
    /// Only this stage (normalize, link, render, send, deliver).
    #[arg(long)]
    stage: Option<String>,
    /// Only this error kind (bad_input, trapped, deadline_exceeded, ...).
    #[arg(long)]
    kind: Option<String>,
    /// At most this many.
    #[arg(long)]
    limit: Option<u32>,
}

impl DlqFilter {
    fn is_empty(&self) -> bool {
        self.id.is_none() && self.plugin.is_none() && self.stage.is_none() && self.kind.is_none()
    }

    fn into_filter(self) -> silta_store::records::DeadLetterFilter {
        silta_store::records::DeadLetterFilter {
            id: self.id,
            plugin: self.plugin,
            stage: self.stage,
            error_kind: self.kind,
            limit: self.limit,
        }
    }
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Compile the plugins the configuration names into the code cache
    /// (`DATA_DIR/cache/plugins`), so that `silta run` starts without
    /// compiling; `silta run` does this in a child process when needed.
    Compile {
        /// Configuration file (TOML). Without it, the embedded default.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Show a component's worlds, exports, imports and the capabilities its
    /// manifest (FILE.toml or plugin.toml beside it) requests.
    Inspect {
        /// The `.wasm` component.
        file: PathBuf,
        /// The manifest, if not beside the file.
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    memory::limit_arenas();
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run { config } => run::run(config.as_deref()).await,
            Command::Check { config } => run::check(config.as_deref()).await,
            Command::Plugin {
                command: PluginCommand::Inspect { file, manifest },
            } => plugin_cmd::inspect(&file, manifest.as_deref()),
            Command::Plugin {
                command: PluginCommand::Compile { config },
            } => run::compile(config.as_deref()).await,
            Command::Dlq {
                command: DlqCommand::List { config, filter, json },
            } => dlq_cmd::list(config.as_deref(), filter.into_filter(), json).await,
            Command::Dlq {
                command: DlqCommand::Replay { config, filter, all },
            } => {
                if filter.is_empty() && !all {
                    Err(anyhow::anyhow!(
                        "say which dead letters to replay: --id N, a filter (--plugin, --stage, --kind), or --all"
                    ))
                } else {
                    dlq_cmd::replay(config.as_deref(), filter.into_filter()).await
                }
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SILTA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("SILTA_LOG_FORMAT").is_ok_and(|v| v == "json");
    use std::io::IsTerminal as _;
    // Colour only on a terminal: logs go to files and collectors too.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
