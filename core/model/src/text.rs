//! Checks shared by the free-text fields that identify something (identity
//! values, scope names, idempotency key parts).

use crate::error::{ModelError, Result};

/// Trims `raw` and rejects it when empty or when it holds control
/// characters (a stray newline in an id breaks keys, logs and headers).
pub(crate) fn clean_token(field: &str, raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ModelError::Empty {
            field: field.to_owned(),
        });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ModelError::InvalidValue {
            field: field.to_owned(),
            value: raw.to_owned(),
            reason: "contains control characters".to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects_empty_and_control_characters() {
        assert_eq!(clean_token("f", "  abc ").ok().as_deref(), Some("abc"));
        assert!(matches!(
            clean_token("f", " \t "),
            Err(ModelError::Empty { field }) if field == "f"
        ));
        assert!(matches!(
            clean_token("f", "a\u{0}b"),
            Err(ModelError::InvalidValue { .. })
        ));
    }
}
