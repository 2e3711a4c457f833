//! The runtime's one error type.

use std::path::PathBuf;
use std::time::Duration;

use crate::manifest::PluginId;

/// Everything that can go wrong loading or calling a plugin.
///
/// Variants that come from a running plugin name the plugin and, for a limit,
/// the limit that stopped it, so an operator can tell a slow provider from a
/// spinning plugin at a glance.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest could not be read or parsed.
    #[error("plugin manifest {path}: {reason}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The operator configuration for a plugin is invalid.
    #[error("plugin {plugin}: invalid configuration: {reason}")]
    Config {
        /// The plugin.
        plugin: PluginId,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// An allowed-host pattern is malformed.
    #[error("allowed host `{pattern}`: {reason}")]
    AllowedHost {
        /// The pattern as written.
        pattern: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a WebAssembly component (a core module, or not wasm).
    #[error("{path}: not a WebAssembly component: {reason}")]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The component failed to compile or validate.
    #[error("plugin {plugin}: the component does not compile: {reason}")]
    Compile {
        /// The plugin.
        plugin: PluginId,
        /// The compiler's message.
        reason: String,
    },
    /// The component does not implement a world its manifest names, or
    /// imports something the host does not provide.
    #[error("plugin {plugin}: {reason}")]
    Contract {
        /// The plugin.
        plugin: PluginId,
        /// What is missing or mismatched.
        reason: String,
    },
    /// The plugin was asked for a world it does not implement.
    #[error("plugin {plugin} does not implement the `{world}` world")]
    WorldNotImplemented {
        /// The plugin.
        plugin: PluginId,
        /// The world asked for.
        world: &'static str,
    },
    /// No plugin with this id is loaded.
    #[error("no plugin `{plugin}` is loaded")]
    UnknownPlugin {
        /// The id asked for.
        plugin: PluginId,
    },
    /// A plugin call ran past its wall-clock deadline (in wasm or in a host call).
    #[error("plugin {plugin} exceeded its deadline of {} ms", limit.as_millis())]
    DeadlineExceeded {
        /// The plugin.
        plugin: PluginId,
        /// The deadline per call.
        limit: Duration,
    },
    /// A plugin tried to grow its memory past its cap.
    #[error(
        "plugin {plugin} exceeded its memory cap of {limit_bytes} bytes (asked for {requested_bytes})"
    )]
    MemoryCapExceeded {
        /// The plugin.
        plugin: PluginId,
        /// The cap.
        limit_bytes: usize,
        /// The size the plugin asked to grow to.
        requested_bytes: usize,
    },
    /// A plugin returned more output than its cap allows.
    #[error("plugin {plugin} returned {actual_bytes} bytes of output; the cap is {limit_bytes}")]
    OutputTooLarge {
        /// The plugin.
        plugin: PluginId,
        /// The cap.
        limit_bytes: usize,
        /// What it returned.
        actual_bytes: usize,
    },
    /// The plugin trapped (a panic, an unreachable, a bad memory access).
    #[error("plugin {plugin} trapped: {message}")]
    Trapped {
        /// The plugin.
        plugin: PluginId,
        /// The trap and its wasm backtrace.
        message: String,
    },
    /// The plugin returned one of the contract's error values.
    #[error("plugin {plugin} returned an error: {error}")]
    Plugin {
        /// The plugin.
        plugin: PluginId,
        /// The error as the plugin reported it.
        error: crate::PluginError,
    },
    /// The plugin returned a value that does not fit the common contact format.
    #[error("plugin {plugin} returned invalid data: {source}")]
    InvalidOutput {
        /// The plugin.
        plugin: PluginId,
        /// The model's validation error, naming the field.
        source: silta_model::ModelError,
    },
    /// The engine could not be created.
    #[error("wasm engine: {0}")]
    Engine(String),
    /// The compiled-code cache failed (never fatal for loading; reported).
    #[error("compiled-code cache {path}: {reason}")]
    Cache {
        /// The cache file or directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Any other failure inside wasmtime while instantiating or calling.
    #[error("plugin {plugin}: {reason}")]
    Runtime {
        /// The plugin.
        plugin: PluginId,
        /// wasmtime's message.
        reason: String,
    },
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
