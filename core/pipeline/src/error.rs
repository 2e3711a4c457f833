//! The pipeline's error type.

use silta_store::StoreError;

/// Why a pipeline operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// No channel account has this name (or id).
    #[error("unknown channel account `{0}`")]
    UnknownChannelAccount(String),
    /// The plugin refused the input as malformed.
    #[error("bad input: {0}")]
    BadInput(String),
    /// The plugin refused the signature or credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The plugin failed (trap, deadline, memory, error result); the event
    /// was kept in the dead-letter queue when it had been journaled.
    #[error("plugin {plugin} failed at {stage}: {message}")]
    Plugin {
        /// The plugin.
        plugin: String,
        /// The stage (`normalize`, `render`, ...).
        stage: &'static str,
        /// The error kind (`trapped`, `deadline_exceeded`, `retryable`...).
        kind: String,
        /// The error.
        message: String,
        /// Seconds the caller may wait before retrying.
        retry_after_seconds: Option<u64>,
    },
    /// A record the request refers to does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// The kind of record.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The request cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (a merge already
    /// undone, a later merge in the way).
    #[error("{0}")]
    Conflict(String),
    /// An idempotency key was reused with a different request.
    #[error("idempotency key `{0}` was already used for a different request")]
    IdempotencyMismatch(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The pipeline is shutting down.
    #[error("shutting down")]
    ShuttingDown,
}

/// Shorthand for pipeline results.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// A pipeline error inside a unit of work, as the store's error (which
/// rolls the unit back).
pub(crate) fn into_store_error(err: PipelineError) -> silta_store::StoreError {
    match err {
        PipelineError::Store(err) => err,
        other => silta_store::StoreError::Aborted(other.to_string()),
    }
}
