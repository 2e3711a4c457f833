//! `silta`: the omnichannel integration sidecar.
//!
//! ```text
//! silta run [--config FILE]          run on the embedded default (./silta-data, 127.0.0.1:8640)
//! silta check [--config FILE]        validate the configuration and plugins
//! silta plugin inspect FILE.wasm     show a plugin's worlds, exports, imports and requested capabilities
//! ```

mod bundled;
mod config;
mod plugin_cmd;
mod run;

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
}

#[derive(Subcommand)]
enum PluginCommand {
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
