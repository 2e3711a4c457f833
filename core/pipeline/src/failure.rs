//! Sorting plugin failures into what the pipeline does with them.

use std::time::Duration;

use silta_runtime::{Error, PluginError};

/// A plugin call's failure, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Short kind for dead letters and metrics.
    pub kind: String,
    /// The full message.
    pub message: String,
    /// Whether trying again later may succeed.
    pub retryable: bool,
    /// The provider's or plugin's hint for when.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// Classify a runtime error.
    #[must_use]
    pub fn of(err: &Error) -> Self {
        let (kind, retryable, retry_after) = match err {
            Error::Plugin { error, .. } => match error {
                PluginError::Retryable { retry_after, .. } => ("retryable", true, *retry_after),
                PluginError::Permanent(_) => ("permanent", false, None),
                PluginError::BadInput(_) => ("bad_input", false, None),
                PluginError::Unauthorized(_) => ("unauthorized", false, None),
            },
            Error::DeadlineExceeded { .. } => ("deadline_exceeded", true, None),
            Error::MemoryCapExceeded { .. } => ("memory_cap_exceeded", false, None),
            Error::OutputTooLarge { .. } => ("output_too_large", false, None),
            Error::Trapped { .. } => ("trapped", false, None),
            Error::InvalidOutput { .. } => ("invalid_output", false, None),
            Error::WorldNotImplemented { .. } => ("world_not_implemented", false, None),
            _ => ("runtime", true, None),
        };
        Failure {
            kind: kind.to_owned(),
            message: err.to_string(),
            retryable,
            retry_after,
        }
    }
}
