//! Ids: UUIDv7 newtypes, one per kind of record.
//!
//! UUIDv7 puts the creation time in the high bits, so ids sort roughly by
//! age and index well. A separate type per record keeps a `CaseId` from being
//! passed where a `PartyId` is expected. Ids are written as lowercase
//! hyphenated strings; anything that is not a version 7 RFC 9562 UUID is
//! rejected, so ids from elsewhere (v4, nil) cannot leak in.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::{Uuid, Variant, Version};

use crate::error::{ModelError, Result};
use crate::string_newtype::string_newtype;

/// Pattern of a lowercase hyphenated UUIDv7, as written in JSON.
pub(crate) const UUID_V7_PATTERN: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";

/// Parses `raw` and checks that it is a UUIDv7.
fn parse_v7(field: &str, raw: &str) -> Result<Uuid> {
    let uuid = Uuid::parse_str(raw.trim()).map_err(|err| ModelError::InvalidId {
        field: field.to_owned(),
        value: raw.to_owned(),
        reason: err.to_string(),
    })?;
    check_v7(field, raw, uuid)
}

/// Checks the version and variant bits of `uuid`.
fn check_v7(field: &str, raw: &str, uuid: Uuid) -> Result<Uuid> {
    if uuid.get_variant() != Variant::RFC4122 || uuid.get_version() != Some(Version::SortRand) {
        return Err(ModelError::InvalidId {
            field: field.to_owned(),
            value: raw.to_owned(),
            reason: format!(
                "version {} UUID; ids are UUIDv7 (make new ones with the id type's `new()`)",
                uuid.get_version_num()
            ),
        });
    }
    Ok(uuid)
}

macro_rules! uuid_v7_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("Id of ", $what, ".")]
        ///
        /// A UUIDv7, written as a lowercase hyphenated string.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Uuid);

        impl $name {
            /// Makes a fresh id from the current time.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses an id; `field` names the input in the error.
            ///
            /// Accepts the forms `uuid` accepts (hyphenated, simple, braced,
            /// URN) but only version 7.
            pub fn parse(field: &str, raw: &str) -> Result<Self> {
                parse_v7(field, raw).map(Self)
            }

            /// Wraps an existing UUID after checking that it is a UUIDv7.
            pub fn from_uuid(field: &str, uuid: Uuid) -> Result<Self> {
                check_v7(field, &uuid.to_string(), uuid).map(Self)
            }

            /// The UUID inside.
            #[must_use]
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            /// A fresh id, as [`new`](Self::new).
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        string_newtype! {
            $name(Display),
            description: concat!("Id of ", $what, ": a UUIDv7, lowercase and hyphenated."),
            format: Some("uuid"),
            pattern: Some(UUID_V7_PATTERN),
        }
    };
}

uuid_v7_id!(PartyId, "a party");
uuid_v7_id!(IdentityId, "an identity");
uuid_v7_id!(ChannelAccountId, "a channel account");
uuid_v7_id!(CaseId, "a case");
uuid_v7_id!(ConversationId, "a conversation");
uuid_v7_id!(InteractionId, "an interaction");
uuid_v7_id!(MergeId, "a merge record");
uuid_v7_id!(LinkId, "a link between records");
uuid_v7_id!(SlaPolicyId, "an SLA policy");
uuid_v7_id!(WorkItemId, "a routing work item");
uuid_v7_id!(AgentId, "an agent");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_v7_and_round_trip_through_text() {
        let id = PartyId::new();
        assert_eq!(id.as_uuid().get_version(), Some(Version::SortRand));
        let text = id.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(PartyId::parse("party_id", &text), Ok(id));
        assert_eq!(text.parse::<PartyId>(), Ok(id));
    }

    #[test]
    fn v4_uuid_is_rejected_with_the_field_name() {
        let v4 = "9b2f6c1e-3d4a-4f5b-8c6d-7e8f9a0b1c2d";
        let err = CaseId::parse("case_id", v4).expect_err("v4 must be rejected");
        match err {
            ModelError::InvalidId { field, value, .. } => {
                assert_eq!(field, "case_id");
                assert_eq!(value, v4);
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn malformed_and_nil_are_rejected() {
        assert!(PartyId::parse("id", "not-a-uuid").is_err());
        assert!(PartyId::parse("id", "00000000-0000-0000-0000-000000000000").is_err());
        assert!(PartyId::from_uuid("id", Uuid::nil()).is_err());
    }

    #[test]
    fn uppercase_and_simple_forms_are_normalized() {
        let id = InteractionId::new();
        let simple = id.as_uuid().simple().to_string().to_uppercase();
        let parsed = InteractionId::parse("id", &simple).expect("simple form parses");
        assert_eq!(parsed, id);
        assert_eq!(parsed.to_string(), id.as_uuid().hyphenated().to_string());
    }

    #[test]
    fn serde_uses_the_hyphenated_string_and_validates() {
        let id = ConversationId::new();
        let json = serde_json::to_string(&id).expect("serialize");
        assert_eq!(json, format!("\"{id}\""));
        let back: ConversationId = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, id);
        let v4 = "\"9b2f6c1e-3d4a-4f5b-8c6d-7e8f9a0b1c2d\"";
        assert!(serde_json::from_str::<ConversationId>(v4).is_err());
    }

    #[test]
    fn pattern_matches_generated_ids() {
        // The schema's pattern, checked by hand: version nibble 7, variant 8-b.
        let text = LinkId::new().to_string();
        let bytes = text.as_bytes();
        assert_eq!(bytes[14], b'7');
        assert!(matches!(bytes[19], b'8' | b'9' | b'a' | b'b'));
        assert!(text.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(text, text.to_lowercase());
    }
}
