//! The crate's one error type.
//!
//! Every variant names the field it is about, so a caller can say *which*
//! value of a plugin's output was wrong, not just that something was. The
//! offending value is kept too; note that it may be personal data (an email
//! address, a phone number), so log errors with the same care as the data.

use thiserror::Error;

/// Result with [`ModelError`] as the default error.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// A value that does not fit the contact format.
///
/// `field` is the caller-supplied name of the input (`"sender.value"`,
/// `"occurred_at"`); when a value arrives through serde the field is unknown
/// and the type name is used instead (`"EmailAddress"`). Use
/// [`ModelError::in_field`] to prefix the field of an error that came from a
/// nested constructor.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A required text value was empty or only whitespace.
    #[error("{field} must not be empty")]
    Empty {
        /// The field that was empty.
        field: String,
    },

    /// Not an email address we accept.
    #[error("{field}: {value:?} is not a usable email address: {reason}")]
    InvalidEmail {
        /// The field holding the address.
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// Not a valid phone number, or not one we can put into E.164 form.
    #[error("{field}: {value:?} is not a valid phone number: {reason}")]
    InvalidPhone {
        /// The field holding the number.
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// Not a region code the phone number library knows.
    #[error(
        "{field}: {value:?} is not a known region; use an ISO 3166-1 alpha-2 code such as \"FI\""
    )]
    InvalidRegion {
        /// The field holding the region.
        field: String,
        /// The value as given.
        value: String,
    },

    /// Not a UUIDv7 in text form.
    #[error("{field}: {value:?} is not a UUIDv7 id: {reason}")]
    InvalidId {
        /// The field holding the id.
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },

    /// Not a time we can represent (RFC 3339, between 1970 and 9999, UTC).
    #[error("{field}: {value:?} is not a valid timestamp: {reason}")]
    InvalidTimestamp {
        /// The field holding the time.
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },

    /// Not a BCP 47 language tag.
    #[error("{field}: {value:?} is not a BCP 47 language tag: {reason}")]
    InvalidLanguage {
        /// The field holding the tag.
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },

    /// Not a `sha256:<64 hex digits>` content hash.
    #[error("{field}: {value:?} is not a content hash: {reason}")]
    InvalidContentHash {
        /// The field holding the hash.
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },

    /// Any other text value we refuse (control characters, a malformed
    /// idempotency key).
    #[error("{field}: {value:?} is not allowed: {reason}")]
    InvalidValue {
        /// The field holding the value.
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

// === impl ModelError ===

impl ModelError {
    /// The field the error is about.
    #[must_use]
    pub fn field(&self) -> &str {
        match self {
            ModelError::Empty { field }
            | ModelError::InvalidEmail { field, .. }
            | ModelError::InvalidPhone { field, .. }
            | ModelError::InvalidRegion { field, .. }
            | ModelError::InvalidId { field, .. }
            | ModelError::InvalidTimestamp { field, .. }
            | ModelError::InvalidLanguage { field, .. }
            | ModelError::InvalidContentHash { field, .. }
            | ModelError::InvalidValue { field, .. } => field,
        }
    }

    /// Puts `prefix.` in front of the field name, for errors from a nested
    /// value: an error about `value` inside the sender becomes
    /// `sender.value`. An error about the nested value as a whole (an empty
    /// field name) becomes an error about `prefix`.
    #[must_use]
    pub fn in_field(mut self, prefix: &str) -> Self {
        let field = match &mut self {
            ModelError::Empty { field }
            | ModelError::InvalidEmail { field, .. }
            | ModelError::InvalidPhone { field, .. }
            | ModelError::InvalidRegion { field, .. }
            | ModelError::InvalidId { field, .. }
            | ModelError::InvalidTimestamp { field, .. }
            | ModelError::InvalidLanguage { field, .. }
            | ModelError::InvalidContentHash { field, .. }
            | ModelError::InvalidValue { field, .. } => field,
        };
        *field = if field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{field}")
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_field_prefixes_the_field_name() {
        let err = ModelError::Empty {
            field: "value".into(),
        }
        .in_field("sender");
        assert_eq!(err.field(), "sender.value");
        assert_eq!(err.to_string(), "sender.value must not be empty");
    }

    #[test]
    fn in_field_names_the_prefix_alone_for_an_error_about_the_whole_value() {
        let err = ModelError::Empty {
            field: String::new(),
        }
        .in_field("parts[1]")
        .in_field("interactions[0]");
        assert_eq!(err.field(), "interactions[0].parts[1]");
    }
}
