//! Constructors for [`PluginError`] and conversions into it.
//!
//! The host acts on the case of the error (retry, dead-letter, mark the
//! credentials bad), so pick it with care: `bad_input` for what the
//! provider or Silta sent, `permanent` for what will not work until someone
//! changes configuration, `retryable` for the weather.

use std::time::Duration;

use silta_model::ModelError;

use crate::types::{PluginError, RetryableError};

// === impl PluginError ===

impl PluginError {
    /// The input is malformed; `message` says what and where
    /// (`` `sender.value` is missing ``).
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadInput(message.into())
    }

    /// `` `<field>` is missing ``, as a bad-input error.
    pub fn missing(field: &str) -> Self {
        Self::BadInput(format!("`{field}` is missing"))
    }

    /// Will not succeed if tried again unchanged; say what to change.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }

    /// The signature or the credentials were refused.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }

    /// Transient trouble; the host tries again with its own backoff.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable(RetryableError {
            message: message.into(),
            retry_after_ms: None,
        })
    }

    /// Transient trouble with the provider's hint of when to try again
    /// (`Retry-After`); `None` leaves it to the host's backoff.
    pub fn retryable_after(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Self::Retryable(RetryableError {
            message: message.into(),
            retry_after_ms: retry_after
                .map(|after| u64::try_from(after.as_millis()).unwrap_or(u64::MAX)),
        })
    }

    /// The case as the WIT names it: `retryable`, `permanent`, `bad-input`
    /// or `unauthorized`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Retryable(_) => "retryable",
            Self::Permanent(_) => "permanent",
            Self::BadInput(_) => "bad-input",
            Self::Unauthorized(_) => "unauthorized",
        }
    }

    /// The message, whatever the case.
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Retryable(error) => &error.message,
            Self::Permanent(message) | Self::BadInput(message) | Self::Unauthorized(message) => {
                message
            }
        }
    }
}

/// A value that does not fit the contact format is bad input; the message
/// names the field (`sender.value: "x" is not a usable email address: ...`).
impl From<ModelError> for PluginError {
    fn from(error: ModelError) -> Self {
        Self::BadInput(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        assert_eq!(PluginError::missing("sender.value").kind(), "bad-input");
        assert_eq!(
            PluginError::missing("sender.value").message(),
            "`sender.value` is missing"
        );
        let retry = PluginError::retryable_after("busy", Some(Duration::from_secs(2)));
        assert_eq!(retry.kind(), "retryable");
        assert!(matches!(
            retry,
            PluginError::Retryable(RetryableError {
                retry_after_ms: Some(2000),
                ..
            })
        ));
        assert_eq!(PluginError::unauthorized("no").kind(), "unauthorized");
        assert_eq!(PluginError::permanent("no").kind(), "permanent");
        assert_ne!(PluginError::permanent("a"), PluginError::bad_input("a"));
    }

    #[test]
    fn model_errors_become_bad_input_naming_the_field() {
        let error = silta_model::EmailAddress::parse("sender.value", "nope").unwrap_err();
        let error = PluginError::from(error);
        assert_eq!(error.kind(), "bad-input");
        assert!(error.message().starts_with("sender.value:"), "{error:?}");
    }
}
