//! What BottleCRM's answers mean: a JSON body to read, or a [`PluginError`]
//! of the right case.
//!
//! | answer | error |
//! |--------|-------|
//! | 2xx with JSON, no `"error": true` | none: the body |
//! | 2xx that is not JSON | `bad-input` (not BottleCRM's API, or a proxy page) |
//! | 2xx with `"error": true` | `permanent`, with BottleCRM's reason |
//! | 400 (BottleCRM's validation) | `bad-input`, with BottleCRM's reason |
//! | 401, 403 | `unauthorized`: the token is wrong or its user may not do this |
//! | 408, 429, 5xx | `retryable` (after `Retry-After` when given) |
//! | 3xx, 404, other 4xx | `permanent` |
//!
//! No answer at all (connection refused, timeout) is `retryable` already
//! (the SDK's HTTP errors).

use serde_json::Value;
use silta_sdk::PluginError;

use crate::transport::Answer;

/// Longest reason quoted from BottleCRM in an error.
const REASON_LIMIT: usize = 300;

/// The JSON body of a successful answer to `what` (`"the contact search"`),
/// or the error the answer means.
pub fn json(answer: &Answer, what: &str) -> Result<Value, PluginError> {
    if !(200..300).contains(&answer.status) {
        return Err(error(answer, what));
    }
    let value: Value = serde_json::from_slice(&answer.body).map_err(|_| {
        PluginError::bad_input(format!(
            "BottleCRM answered {what} with {} that is not JSON: {}",
            answer.status,
            excerpt(&answer.body)
        ))
    })?;
    if value.get("error") == Some(&Value::Bool(true)) {
        return Err(PluginError::permanent(format!(
            "BottleCRM refused {what}: {}",
            reason(&value)
        )));
    }
    Ok(value)
}

/// The error an unsuccessful answer to `what` means.
pub fn error(answer: &Answer, what: &str) -> PluginError {
    let status = answer.status;
    let why = match serde_json::from_slice::<Value>(&answer.body) {
        Ok(value) => reason(&value),
        Err(_) => excerpt(&answer.body),
    };
    match status {
        401 | 403 => PluginError::unauthorized(format!(
            "BottleCRM refused {what} with {status} ({why}); secret `api-token` must be a JWT \
             from POST /api/auth/login/ of a user who may do this"
        )),
        408 | 429 | 500..=599 => PluginError::retryable_after(
            format!("BottleCRM answered {what} with {status}: {why}"),
            answer.retry_after,
        ),
        400 => PluginError::bad_input(format!("BottleCRM refused {what}: {why}")),
        300..=399 => PluginError::permanent(format!(
            "BottleCRM redirected {what} ({status}); set config `url` to the address it \
             redirects to (https?)"
        )),
        _ => PluginError::permanent(format!("BottleCRM answered {what} with {status}: {why}")),
    }
}

/// BottleCRM's reason in an error body, flattened to one line:
/// `{"errors": {"contact_errors": {"phone": ["taken"]}}}` becomes
/// `contact_errors.phone: taken`; `{"detail": "..."}` its text.
pub fn reason(value: &Value) -> String {
    let source = value
        .get("errors")
        .or_else(|| value.get("detail"))
        .unwrap_or(value);
    let mut parts = Vec::new();
    flatten("", source, &mut parts, 0);
    let text = parts.join("; ");
    truncate(&text, REASON_LIMIT)
}

/// The messages a field's validation errors hold, from BottleCRM's
/// `errors` (`{"errors": {"name": ["Case already exists with this name"]}}`),
/// looked up at `path` (`["contact_errors", "phone"]`).
pub fn field_errors(value: &Value, path: &[&str]) -> Vec<String> {
    let mut at = value.get("errors");
    for key in path {
        at = at.and_then(|v| v.get(*key));
    }
    match at {
        Some(Value::Array(items)) => items
            .iter()
            .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
            .collect(),
        Some(Value::String(message)) => vec![message.clone()],
        _ => Vec::new(),
    }
}

/// A 400 answer's body, for [`field_errors`]; `None` for any other answer.
pub fn validation_errors(answer: &Answer) -> Option<Value> {
    if answer.status != 400 {
        return None;
    }
    serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .filter(|v| v.get("errors").is_some())
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<String>, depth: usize) {
    let label = |text: String| {
        if prefix.is_empty() {
            text
        } else {
            format!("{prefix}: {text}")
        }
    };
    match value {
        Value::Object(members) if depth < 4 => {
            for (key, inner) in members {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, inner, out, depth + 1);
            }
        }
        Value::Array(items) if depth < 4 => {
            for item in items {
                flatten(prefix, item, out, depth + 1);
            }
        }
        Value::String(text) => out.push(label(text.clone())),
        Value::Null => {}
        other => out.push(label(other.to_string())),
    }
}

/// The start of a body that is not JSON (an HTML error page), on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "an empty body".to_owned();
    }
    truncate(&line, 120)
}

/// At most `limit` characters, with `…` when cut.
pub fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
