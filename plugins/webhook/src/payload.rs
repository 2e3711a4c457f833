//! Reading the JSON payload field by field, with errors that name the
//! field's path (`` `sender.value` is missing ``), so a sender can fix its
//! payload from the dead-letter reason alone.

use serde_json::{Map, Value};
use silta_sdk::PluginError;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// One JSON object of the payload and where it sits (`""` for the root,
/// `"sender"`, `"attachments[1]"`).
#[derive(Debug)]
pub struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

// === impl Fields ===

impl<'a> Fields<'a> {
    /// The payload's top level, which must be an object.
    pub fn root(value: &'a Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Self {
                path: String::new(),
                map,
            }),
            other => Err(PluginError::bad_input(format!(
                "the payload must be a JSON object, got {}",
                describe(other)
            ))),
        }
    }

    /// The path of `key` inside this object, as errors name it.
    pub fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`; `null` counts as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    /// A string field that may be absent.
    pub fn optional_str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    /// A string field that must be present.
    pub fn required_str(&self, key: &str) -> Result<&'a str> {
        self.optional_str(key)?
            .ok_or_else(|| PluginError::missing(&self.path(key)))
    }

    /// An id that may be absent: a string, or an integer written as text
    /// (many systems number their messages).
    pub fn optional_id(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) if number.is_i64() || number.is_u64() => {
                Ok(Some(number.to_string()))
            }
            Some(other) => Err(self.wrong_type(key, "a string or an integer", other)),
        }
    }

    /// An id that must be present.
    pub fn required_id(&self, key: &str) -> Result<String> {
        self.optional_id(key)?
            .ok_or_else(|| PluginError::missing(&self.path(key)))
    }

    /// A whole number of at least zero that may be absent.
    pub fn optional_u64(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "a whole number of at least 0", value)),
        }
    }

    /// An object field that must be present.
    pub fn required_object(&self, key: &str) -> Result<Fields<'a>> {
        match self.get(key) {
            None => Err(PluginError::missing(&self.path(key))),
            Some(Value::Object(map)) => Ok(Fields {
                path: self.path(key),
                map,
            }),
            Some(other) => Err(self.wrong_type(key, "an object", other)),
        }
    }

    /// An array of objects that may be absent (then empty).
    pub fn optional_objects(&self, key: &str) -> Result<Vec<Fields<'a>>> {
        let items = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(self.wrong_type(key, "an array", other)),
        };
        items
            .iter()
            .enumerate()
            .map(|(n, item)| {
                let path = format!("{}[{n}]", self.path(key));
                match item {
                    Value::Object(map) => Ok(Fields { path, map }),
                    other => Err(PluginError::bad_input(format!(
                        "`{path}` must be an object, got {}",
                        describe(other)
                    ))),
                }
            })
            .collect()
    }

    fn wrong_type(&self, key: &str, expected: &str, got: &Value) -> PluginError {
        PluginError::bad_input(format!(
            "`{}` must be {expected}, got {}",
            self.path(key),
            describe(got)
        ))
    }
}

/// What a JSON value is, for error messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(result: Result<impl std::fmt::Debug>) -> String {
        result.expect_err("an error").message().to_owned()
    }

    #[test]
    fn paths_and_types() {
        let value = json!({
            "id": 42,
            "sender": {"value": 7},
            "attachments": [{}, "x"],
            "size": -1,
            "gone": null,
        });
        let root = Fields::root(&value).expect("object");
        assert_eq!(root.required_id("id").expect("integer id"), "42");
        let sender = root.required_object("sender").expect("object");
        assert_eq!(
            message(sender.required_str("value")),
            "`sender.value` must be a string, got a number"
        );
        assert_eq!(
            message(sender.required_str("kind")),
            "`sender.kind` is missing"
        );
        assert_eq!(
            message(root.optional_objects("attachments")),
            "`attachments[1]` must be an object, got a string"
        );
        assert_eq!(
            message(root.optional_u64("size")),
            "`size` must be a whole number of at least 0, got a number"
        );
        assert_eq!(root.optional_str("gone").expect("null is absent"), None);
        assert_eq!(
            message(Fields::root(&json!([1]))),
            "the payload must be a JSON object, got an array"
        );
    }
}
