//! The trait impls shared by the validated newtypes whose text (and JSON)
//! form is a string.
//!
//! Each type keeps its own `parse`, checks and schema wording in its own
//! file; [`string_newtype!`] writes the rest the same way for all of them.

/// Implements the text conversions and the JSON Schema of a validated
/// newtype.
///
/// ```text
/// string_newtype! {
///     EmailAddress(String),
///     parse: EmailAddress::parse,     // optional; this is the default
///     description: "An email address: …",
///     format: Some("email"),
///     pattern: None,
/// }
/// ```
///
/// Always generated:
///
/// - `FromStr` and `TryFrom<String>`, calling `parse` with the type's name
///   as the field name (`parse` is any `fn(&str, &str) -> Result<Self>`,
///   such as a closure that fills in further arguments);
/// - `JsonSchema`, named after the type, built with
///   [`string_schema`](crate::schema::string_schema) from `description`,
///   `format` and `pattern`.
///
/// The type in parentheses picks the rest:
///
/// - `Name(String)`, for `struct Name(String)` holding the normalized text:
///   `Display`, `AsRef<str>` and `From<Name> for String` use that text;
/// - `Name(Display)`, for a type that implements `Display` itself:
///   `From<Name> for String` is its `to_string()`.
///
/// With `#[serde(try_from = "String", into = "String")]` on the type, serde
/// then reads through `parse` and writes the text form.
macro_rules! string_newtype {
    ($name:ident(String), $($keys:tt)*) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        string_newtype!(@parse_and_schema $name, $($keys)*);
    };

    ($name:ident(Display), $($keys:tt)*) => {
        impl ::std::convert::From<$name> for String {
            fn from(value: $name) -> String {
                ::std::string::ToString::to_string(&value)
            }
        }

        string_newtype!(@parse_and_schema $name, $($keys)*);
    };

    // `parse` left out: the type's own `parse(field, raw)`.
    (@parse_and_schema $name:ident, description: $($rest:tt)*) => {
        string_newtype!(@parse_and_schema $name, parse: $name::parse, description: $($rest)*);
    };

    (
        @parse_and_schema $name:ident,
        parse: $parse:expr,
        description: $description:expr,
        format: $format:expr,
        pattern: $pattern:expr $(,)?
    ) => {
        impl ::std::str::FromStr for $name {
            type Err = $crate::error::ModelError;

            fn from_str(raw: &str) -> $crate::error::Result<Self> {
                let parse: fn(&str, &str) -> $crate::error::Result<Self> = $parse;
                parse(stringify!($name), raw)
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::error::ModelError;

            fn try_from(raw: String) -> $crate::error::Result<Self> {
                let parse: fn(&str, &str) -> $crate::error::Result<Self> = $parse;
                parse(stringify!($name), &raw)
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                $crate::schema::string_schema($description, $format, $pattern)
            }
        }
    };
}

pub(crate) use string_newtype;
