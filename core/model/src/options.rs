//! Options for normalizing values that arrive from outside.

use crate::error::Result;
use crate::phone::{Region, parse_region};

/// How to read values that are ambiguous without context.
///
/// Today that is only national phone numbers: `040 123 4567` means
/// `+358401234567` to a Finnish channel account and nothing to a global
/// one. A channel account's configuration usually supplies these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NormalizeOptions {
    /// The region national phone numbers are read in; `None` requires
    /// numbers with a country code.
    pub default_region: Option<Region>,
}

// === impl NormalizeOptions ===

impl NormalizeOptions {
    /// Options with a default region given as text (`"FI"`); an unknown
    /// region is an error naming the `default_region` field.
    pub fn with_default_region(region: &str) -> Result<Self> {
        Ok(Self {
            default_region: Some(parse_region("default_region", region)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ModelError;

    #[test]
    fn default_has_no_region() {
        assert_eq!(NormalizeOptions::default().default_region, None);
    }

    #[test]
    fn with_default_region_parses_and_rejects() {
        let options = NormalizeOptions::with_default_region("FI").expect("known region");
        assert_eq!(options.default_region, Some(Region::FI));
        let err = NormalizeOptions::with_default_region("Finland").expect_err("not a code");
        assert!(matches!(
            err,
            ModelError::InvalidRegion { ref field, ref value } if field == "default_region" && value == "Finland"
        ));
    }
}
