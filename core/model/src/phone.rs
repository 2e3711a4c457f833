//! Phone numbers in E.164 form.

use std::str::FromStr;

use phonenumber::Mode;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::string_newtype::string_newtype;

/// A region (country) code for reading national phone numbers, such as
/// `Region::FI`. Parse one from text with [`parse_region`].
pub type Region = phonenumber::country::Id;

/// Pattern of an E.164 number as written in JSON.
pub(crate) const E164_PATTERN: &str = r"^\+[1-9][0-9]{6,14}$";

/// Parses an ISO 3166-1 alpha-2 region code (`"FI"`, `"se"`).
pub fn parse_region(field: &str, raw: &str) -> Result<Region> {
    Region::from_str(&raw.trim().to_ascii_uppercase()).map_err(|_| ModelError::InvalidRegion {
        field: field.to_owned(),
        value: raw.to_owned(),
    })
}

/// A valid phone number in E.164 form (`+358401234567`).
///
/// Only numbers the phone number metadata calls valid for their country are
/// accepted, and numbers with an extension are refused because E.164 has no
/// place for it (dropping it silently would dial the switchboard).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

// === impl PhoneNumber ===

impl PhoneNumber {
    /// Reads `raw` in international (`+44 20 7946 0958`) or, given a
    /// `default_region`, national form (`040 123 4567` in `FI`).
    pub fn parse(field: &str, raw: &str, default_region: Option<Region>) -> Result<Self> {
        let invalid = |reason: String| ModelError::InvalidPhone {
            field: field.to_owned(),
            value: raw.to_owned(),
            reason,
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ModelError::Empty {
                field: field.to_owned(),
            });
        }
        let number = phonenumber::parse(default_region, trimmed).map_err(|err| {
            if default_region.is_none() && !trimmed.starts_with('+') {
                invalid(format!(
                    "{err}; write it with the country code (+358 40 123 4567) or set a default region"
                ))
            } else {
                invalid(err.to_string())
            }
        })?;
        if number.extension().is_some() {
            return Err(invalid(
                "has an extension, which E.164 cannot hold; give the number without it".to_owned(),
            ));
        }
        if !phonenumber::is_valid(&number) {
            return Err(invalid(
                "not a valid number for its country (wrong length or prefix)".to_owned(),
            ));
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    /// The number as text, `+` and digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype! {
    PhoneNumber(String),
    // `FromStr` and serde read the international form only; there is no
    // region to fall back on.
    parse: |field, raw| PhoneNumber::parse(field, raw, None),
    description: "A phone number in E.164 form: '+', country code, subscriber number, no spaces.",
    format: None,
    pattern: Some(E164_PATTERN),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str, region: Option<Region>) -> Result<String> {
        PhoneNumber::parse("phone", raw, region).map(String::from)
    }

    #[test]
    fn finnish_national_number_needs_the_region() {
        assert_eq!(
            e164("040 123 4567", Some(Region::FI)).as_deref(),
            Ok("+358401234567")
        );
        let err = e164("040 123 4567", None).expect_err("no region");
        assert!(matches!(err, ModelError::InvalidPhone { ref field, .. } if field == "phone"));
    }

    #[test]
    fn international_numbers_ignore_the_region() {
        assert_eq!(
            e164("+44 20 7946 0958", None).as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            e164("+44 20 7946 0958", Some(Region::FI)).as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            e164("00358 40 123 4567", Some(Region::FI)).as_deref(),
            Ok("+358401234567")
        );
    }

    #[test]
    fn short_numbers_are_rejected_naming_the_field() {
        let err =
            PhoneNumber::parse("sender.value", "12", Some(Region::FI)).expect_err("too short");
        match err {
            ModelError::InvalidPhone { field, value, .. } => {
                assert_eq!(field, "sender.value");
                assert_eq!(value, "12");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            PhoneNumber::parse("phone", " ", None),
            Err(ModelError::Empty { .. })
        ));
    }

    #[test]
    fn invalid_for_country_is_rejected() {
        // Right shape, but no Finnish number starts with 0 after the code.
        assert!(e164("+358 0 1", None).is_err());
        assert!(e164("+1 555 0100 999 999 9", None).is_err());
    }

    #[test]
    fn extensions_are_refused() {
        let err = e164("+44 20 7946 0958 ext. 12", None).expect_err("extension");
        assert!(err.to_string().contains("extension"), "{err}");
    }

    #[test]
    fn region_codes_parse_case_insensitively() {
        assert_eq!(parse_region("region", "fi"), Ok(Region::FI));
        assert!(matches!(
            parse_region("region", "XX"),
            Err(ModelError::InvalidRegion { .. })
        ));
    }

    #[test]
    fn serde_validates() {
        let number: PhoneNumber = serde_json::from_str("\"+358401234567\"").expect("valid number");
        assert_eq!(number.as_str(), "+358401234567");
        assert!(serde_json::from_str::<PhoneNumber>("\"12\"").is_err());
    }
}
