//! Reading the JSON payload field by field, with errors that name the
//! field's path (`` `sender.value` is missing ``), so a sender can fix its
//! payload from the dead-letter reason alone.
//!
//! The payload is parsed into [`Json`], a JSON tree that borrows its keys
//! and strings from the body wherever they hold no escapes, rather than
//! into `serde_json::Value`, which copies every key and string into its
//! own allocation and sorts keys into a map. `normalize` is the hot path
//! and runs in WebAssembly, where each allocation is dear; a payload has a
//! dozen keys, so a linear search of an object's keys is as fast as a map.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use silta_sdk::PluginError;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// A parsed JSON value; strings borrow from the body unless they had
/// escapes. Behaves as `serde_json::Value` for everything the mapping
/// reads: a duplicated key takes its last value, numbers are
/// `serde_json::Number`s.
#[derive(Debug)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object, its members in payload order.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

// === impl Json ===

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        // As `serde_json::Value` does: a non-finite float is null.
        Ok(Number::from_f64(value).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(value)))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(Key(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

/// An object key, borrowed when it had no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }

            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(value)))
            }

            fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(value.to_owned())))
            }

            fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// An object's members.
type Members<'a> = [(Cow<'a, str>, Json<'a>)];

/// One JSON object of the payload and where it sits (`""` for the root,
/// `"sender"`, `"attachments[1]"`).
#[derive(Debug)]
pub struct Fields<'a> {
    path: String,
    map: &'a Members<'a>,
}

// === impl Fields ===

impl<'a> Fields<'a> {
    /// The payload's top level, which must be an object.
    pub fn root(value: &'a Json<'a>) -> Result<Self> {
        match value {
            Json::Object(map) => Ok(Self {
                path: String::new(),
                map,
            }),
            other => Err(PluginError::bad_input(format!(
                "the payload must be a JSON object, got {}",
                describe(other)
            ))),
        }
    }

    /// The path of `key` inside this object, as errors name it; borrowed
    /// at the top level, so the happy path allocates nothing for it there.
    pub fn path<'k>(&self, key: &'k str) -> Cow<'k, str> {
        if self.path.is_empty() {
            Cow::Borrowed(key)
        } else {
            Cow::Owned(format!("{}.{key}", self.path))
        }
    }

    /// The value of `key`; `null` counts as absent. A key given twice has
    /// its last value, as with `serde_json::Value`.
    fn get(&self, key: &str) -> Option<&'a Json<'a>> {
        self.map
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
            .filter(|value| !matches!(value, Json::Null))
    }

    /// A string field that may be absent.
    pub fn optional_str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::String(text)) => Ok(Some(text)),
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
            Some(Json::String(text)) => Ok(Some(text.as_ref().to_owned())),
            Some(Json::Number(number)) if number.is_i64() || number.is_u64() => {
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

    /// A boolean that may be absent.
    pub fn optional_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Bool(value)) => Ok(Some(*value)),
            Some(other) => Err(self.wrong_type(key, "true or false", other)),
        }
    }

    /// A whole number of at least zero that may be absent.
    pub fn optional_u64(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Number(number)) if number.as_u64().is_some() => Ok(number.as_u64()),
            Some(other) => Err(self.wrong_type(key, "a whole number of at least 0", other)),
        }
    }

    /// An object field that must be present.
    pub fn required_object(&self, key: &str) -> Result<Fields<'a>> {
        match self.get(key) {
            None => Err(PluginError::missing(&self.path(key))),
            Some(Json::Object(map)) => Ok(Fields {
                path: self.path(key).into_owned(),
                map,
            }),
            Some(other) => Err(self.wrong_type(key, "an object", other)),
        }
    }

    /// An array of objects that may be absent (then empty).
    pub fn optional_objects(&self, key: &str) -> Result<Vec<Fields<'a>>> {
        let items = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Json::Array(items)) => items,
            Some(other) => return Err(self.wrong_type(key, "an array", other)),
        };
        items
            .iter()
            .enumerate()
            .map(|(n, item)| {
                let path = format!("{}[{n}]", self.path(key));
                match item {
                    Json::Object(map) => Ok(Fields { path, map }),
                    other => Err(PluginError::bad_input(format!(
                        "`{path}` must be an object, got {}",
                        describe(other)
                    ))),
                }
            })
            .collect()
    }

    fn wrong_type(&self, key: &str, expected: &str, got: &Json<'_>) -> PluginError {
        PluginError::bad_input(format!(
            "`{}` must be {expected}, got {}",
            self.path(key),
            describe(got)
        ))
    }
}

/// What a JSON value is, for error messages.
fn describe(value: &Json<'_>) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug>) -> String {
        result.expect_err("an error").message().to_owned()
    }

    fn parse(text: &str) -> Json<'_> {
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn paths_and_types() {
        let value = parse(
            r#"{
                "id": 42,
                "sender": {"value": 7},
                "attachments": [{}, "x"],
                "size": -1,
                "gone": null
            }"#,
        );
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
            message(Fields::root(&parse("[1]"))),
            "the payload must be a JSON object, got an array"
        );
    }

    #[test]
    fn reads_like_serde_json_value() {
        // Escaped strings are unescaped; the last of a repeated key wins;
        // large and negative integers and floats keep their kinds.
        let value = parse(
            r#"{"text": "a\"b\u00e4", "id": "first", "id": "second", "big": 18446744073709551615,
                "neg": -3, "float": 1.5, "flag": true}"#,
        );
        let root = Fields::root(&value).expect("object");
        assert_eq!(root.optional_str("text").expect("string"), Some("a\"bä"));
        assert_eq!(root.required_id("id").expect("id"), "second");
        assert_eq!(root.required_id("big").expect("id"), "18446744073709551615");
        assert_eq!(root.optional_u64("big").expect("u64"), Some(u64::MAX));
        assert_eq!(root.required_id("neg").expect("id"), "-3");
        assert_eq!(
            message(root.required_id("float")),
            "`float` must be a string or an integer, got a number"
        );
        assert_eq!(
            message(root.optional_u64("flag")),
            "`flag` must be a whole number of at least 0, got a boolean"
        );
        let escaped_key = parse(r#"{"\u0069d": "x"}"#);
        let root = Fields::root(&escaped_key).expect("object");
        assert_eq!(root.required_id("id").expect("id"), "x");
    }
}
