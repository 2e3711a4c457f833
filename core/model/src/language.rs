//! BCP 47 language tags.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::string_newtype::string_newtype;

/// Pattern of a language tag as written in JSON (the shape only, not the
/// case conventions).
const LANGUAGE_PATTERN: &str = "^([A-Za-z]{2,3}|[A-Za-z]{5,8})(-[A-Za-z0-9]{1,8})*$";

/// A BCP 47 language tag in canonical case (`fi`, `sv-FI`, `en-GB`,
/// `zh-Hant-TW`).
///
/// The check is light: the tag is made of ASCII letter-and-digit subtags of
/// one to eight characters joined by `-`, and the first subtag is a language
/// of two or three (or five to eight) letters. Whether the language or
/// region exists is not checked. `_` is accepted as a separator on input,
/// because POSIX locales and some providers (WhatsApp templates: `en_US`)
/// use it; the stored form always uses `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageTag(String);

// === impl LanguageTag ===

impl LanguageTag {
    /// Checks `raw` and puts it in canonical case.
    pub fn parse(field: &str, raw: &str) -> Result<Self> {
        let invalid = |reason: &str| ModelError::InvalidLanguage {
            field: field.to_owned(),
            value: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ModelError::Empty {
                field: field.to_owned(),
            });
        }
        let mut out = String::with_capacity(trimmed.len());
        // After a singleton (`x`, `u`, `t`), subtags are extensions or
        // private use and stay lower case.
        let mut after_singleton = false;
        for (index, subtag) in trimmed.split(['-', '_']).enumerate() {
            if subtag.is_empty() {
                return Err(invalid("has an empty subtag (a doubled or trailing '-')"));
            }
            if subtag.len() > 8 || !subtag.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid("subtags are 1 to 8 ASCII letters or digits"));
            }
            if index == 0 {
                let letters = subtag.chars().all(|c| c.is_ascii_alphabetic());
                if !letters || !matches!(subtag.len(), 2 | 3 | 5..=8) {
                    return Err(invalid(
                        "must start with a language of 2 or 3 letters (fi, sv, en)",
                    ));
                }
                out.push_str(&subtag.to_ascii_lowercase());
                continue;
            }
            out.push('-');
            if after_singleton {
                out.push_str(&subtag.to_ascii_lowercase());
            } else if subtag.len() == 1 {
                after_singleton = true;
                out.push_str(&subtag.to_ascii_lowercase());
            } else if subtag.len() == 2 {
                // Region.
                out.push_str(&subtag.to_ascii_uppercase());
            } else if subtag.len() == 4 && subtag.chars().all(|c| c.is_ascii_alphabetic()) {
                // Script, title case.
                let lower = subtag.to_ascii_lowercase();
                let (first, rest) = lower.split_at(1);
                out.push_str(&first.to_ascii_uppercase());
                out.push_str(rest);
            } else {
                out.push_str(&subtag.to_ascii_lowercase());
            }
        }
        Ok(Self(out))
    }

    /// The tag as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag (`sv` of `sv-FI`).
    #[must_use]
    pub fn primary_language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

string_newtype! {
    LanguageTag(String),
    description: "A BCP 47 language tag in canonical case (fi, sv-FI, zh-Hant-TW).",
    format: None,
    pattern: Some(LANGUAGE_PATTERN),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(raw: &str) -> Result<String> {
        LanguageTag::parse("language", raw).map(String::from)
    }

    #[test]
    fn canonical_case() {
        assert_eq!(tag("EN-gb").as_deref(), Ok("en-GB"));
        assert_eq!(tag("fi").as_deref(), Ok("fi"));
        assert_eq!(tag("SV-fi").as_deref(), Ok("sv-FI"));
        assert_eq!(tag("zh-hant-tw").as_deref(), Ok("zh-Hant-TW"));
        assert_eq!(tag("es-419").as_deref(), Ok("es-419"));
        assert_eq!(tag("en-US-x-Twain").as_deref(), Ok("en-US-x-twain"));
        assert_eq!(tag("de-CH-1996").as_deref(), Ok("de-CH-1996"));
    }

    #[test]
    fn underscore_separator_is_accepted() {
        assert_eq!(tag("en_US").as_deref(), Ok("en-US"));
        assert_eq!(
            LanguageTag::parse("l", "pt_BR")
                .expect("valid")
                .primary_language(),
            "pt"
        );
    }

    #[test]
    fn malformed_tags_are_rejected() {
        for bad in [
            "e",
            "englishlanguage",
            "1a",
            "en--GB",
            "en-",
            "en GB",
            "fi-ääkkönen",
            "x-private",
            "abcd",
        ] {
            assert!(
                matches!(LanguageTag::parse("languages[0]", bad), Err(ModelError::InvalidLanguage { ref field, .. }) if field == "languages[0]"),
                "{bad:?} should be rejected"
            );
        }
        assert!(matches!(
            LanguageTag::parse("l", ""),
            Err(ModelError::Empty { .. })
        ));
    }

    #[test]
    fn serde_validates() {
        let tag: LanguageTag = serde_json::from_str("\"sv-fi\"").expect("valid");
        assert_eq!(tag.as_str(), "sv-FI");
        assert!(serde_json::from_str::<LanguageTag>("\"not a tag\"").is_err());
    }
}
