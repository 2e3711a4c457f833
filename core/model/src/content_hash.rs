//! Content hashes: how the model refers to bytes it does not hold.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ModelError, Result};
use crate::string_newtype::string_newtype;

/// The prefix naming the algorithm.
const PREFIX: &str = "sha256:";

/// Pattern of a content hash as written in JSON.
const CONTENT_HASH_PATTERN: &str = "^sha256:[0-9a-f]{64}$";

/// The SHA-256 of some bytes, written `sha256:<64 lowercase hex digits>`.
///
/// Attachments and raw events are stored by this hash, so the same file
/// sent twice is stored once and a record can name its bytes without
/// carrying them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContentHash(String);

// === impl ContentHash ===

impl ContentHash {
    /// Hashes `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        let digest = Sha256::digest(bytes);
        Self(format!("{PREFIX}{}", hex::encode(digest)))
    }

    /// Reads `sha256:<hex>`; upper-case hex digits are accepted and lowered.
    pub fn parse(field: &str, raw: &str) -> Result<Self> {
        let invalid = |reason: &str| ModelError::InvalidContentHash {
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
        let Some(digest) = trimmed.strip_prefix(PREFIX) else {
            return Err(invalid("must start with 'sha256:'"));
        };
        if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid("the digest must be 64 hex digits"));
        }
        Ok(Self(format!("{PREFIX}{}", digest.to_ascii_lowercase())))
    }

    /// The full text form, `sha256:<hex>`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64 hex digits without the prefix.
    #[must_use]
    pub fn hex_digest(&self) -> &str {
        self.0.strip_prefix(PREFIX).unwrap_or(&self.0)
    }
}

string_newtype! {
    ContentHash(String),
    description: "The SHA-256 of some bytes: 'sha256:' and 64 lowercase hex digits.",
    format: None,
    pattern: Some(CONTENT_HASH_PATTERN),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_of_known_input() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            ContentHash::of(b"abc").as_str(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(ContentHash::of(b"abc").hex_digest().len(), 64);
    }

    #[test]
    fn parse_accepts_own_output_and_uppercase() {
        let hash = ContentHash::of(b"hello");
        assert_eq!(ContentHash::parse("h", hash.as_str()), Ok(hash.clone()));
        let upper = format!("sha256:{}", hash.hex_digest().to_uppercase());
        assert_eq!(ContentHash::parse("h", &upper), Ok(hash));
    }

    #[test]
    fn malformed_hashes_are_rejected() {
        for bad in [
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "md5:900150983cd24fb0d6963f7d28e17f72",
            "sha256:abc",
            "sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ] {
            assert!(
                matches!(ContentHash::parse("parts[2].content_hash", bad), Err(ModelError::InvalidContentHash { ref field, .. }) if field == "parts[2].content_hash"),
                "{bad:?} should be rejected"
            );
        }
        assert!(serde_json::from_str::<ContentHash>("\"sha256:abc\"").is_err());
    }
}
