//! Tryton's JSON values as snapshot text.
//!
//! Tryton's JSON-RPC writes what JSON has no type for as tagged objects:
//! `{"__class__": "Decimal", "decimal": "21.00"}`,
//! `{"__class__": "date", "year": 2026, "month": 11, "day": 20}`, and
//! `datetime` with `hour`, `minute`, `second` (and `microsecond`) as well.
//! A snapshot keeps them as text an agent reads: `21.00`, `2026-11-20`,
//! `2026-11-20T14:05:00`. The errors are reasons without the field name;
//! the caller adds where the value came from.

use serde_json::{Map, Value};

/// The value as text; `None` for `null`, `false` (Tryton's "not set" for a
/// text field) and empty text. Numbers are written as JSON writes them.
pub fn text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null | Value::Bool(false) => Ok(None),
        Value::Bool(true) => Ok(Some("true".to_owned())),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Object(object) => tagged(object).map(Some),
        Value::Array(_) => Err("a list where a single value belongs".to_owned()),
    }
}

fn tagged(object: &Map<String, Value>) -> Result<String, String> {
    match object.get("__class__").and_then(Value::as_str) {
        Some("Decimal") => decimal(object),
        Some("date") => date(object),
        Some("datetime") => Ok(format!(
            "{}T{:02}:{:02}:{:02}",
            date(object)?,
            part(object, "hour", 0..=23)?,
            part(object, "minute", 0..=59)?,
            part(object, "second", 0..=60)?
        )),
        Some(other) => Err(format!("a `{other}` value, which is not read here")),
        None => Err("an object without `__class__`".to_owned()),
    }
}

fn decimal(object: &Map<String, Value>) -> Result<String, String> {
    let text = object
        .get("decimal")
        .and_then(Value::as_str)
        .ok_or("a Decimal without its `decimal` text")?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plausible = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1;
    if plausible {
        Ok(text.to_owned())
    } else {
        Err(format!("a Decimal {text:?} that is not a number"))
    }
}

fn date(object: &Map<String, Value>) -> Result<String, String> {
    Ok(format!(
        "{:04}-{:02}-{:02}",
        part(object, "year", 1..=9999)?,
        part(object, "month", 1..=12)?,
        part(object, "day", 1..=31)?
    ))
}

fn part(
    object: &Map<String, Value>,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, String> {
    object
        .get(name)
        .and_then(Value::as_u64)
        .filter(|n| range.contains(n))
        .ok_or_else(|| format!("a date without a valid `{name}`"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_tryton_values() {
        let cases = [
            (json!(null), None),
            (json!(false), None),
            (json!(""), None),
            (json!("SO-1"), Some("SO-1")),
            (json!(3), Some("3")),
            (
                json!({"__class__": "Decimal", "decimal": "21.00"}),
                Some("21.00"),
            ),
            (
                json!({"__class__": "Decimal", "decimal": "-0.5"}),
                Some("-0.5"),
            ),
            (
                json!({"__class__": "date", "year": 2026, "month": 1, "day": 2}),
                Some("2026-01-02"),
            ),
            (
                json!({"__class__": "datetime", "year": 2026, "month": 11, "day": 20,
                       "hour": 9, "minute": 5, "second": 7, "microsecond": 12}),
                Some("2026-11-20T09:05:07"),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(text(&value).unwrap().as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read_with_a_reason() {
        let cases = [
            (json!([1]), "a list"),
            (json!({"decimal": "1"}), "without `__class__`"),
            (json!({"__class__": "Decimal"}), "without its `decimal`"),
            (
                json!({"__class__": "Decimal", "decimal": "1e5x"}),
                "not a number",
            ),
            (
                json!({"__class__": "date", "year": 2026, "month": 13, "day": 1}),
                "`month`",
            ),
            (json!({"__class__": "bytes", "base64": ""}), "`bytes`"),
        ];
        for (value, needle) in cases {
            let reason = text(&value).unwrap_err();
            assert!(reason.contains(needle), "{value}: {reason}");
        }
    }
}
