//! The harness's error type.

use std::path::PathBuf;

/// What can go wrong setting up a plugin under test.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plugin crate did not build.
    #[error("building {crate_dir} for wasm32-wasip2 failed:\n{output}")]
    Build {
        /// The crate.
        crate_dir: PathBuf,
        /// cargo's output.
        output: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The runtime refused the plugin.
    #[error(transparent)]
    Runtime(#[from] silta_runtime::Error),
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
