//! Parties: the customers.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::PartyId;
use crate::language::LanguageTag;
use crate::time::Timestamp;

/// A customer: a person or an organization we talk to, across channels.
///
/// A party is never deleted by a merge: the merged party gets status
/// [`Merged`](PartyStatus::Merged) and [`merged_into`](Party::merged_into)
/// points at the survivor, so old references still resolve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// The party's id.
    pub id: PartyId,
    /// The name agents see.
    pub display_name: Option<String>,
    /// Structured name parts, when known.
    pub names: PartyNames,
    /// Languages the party reads, preferred first.
    pub languages: Vec<LanguageTag>,
    /// Organizations the party belongs to, by reference (a party id or a
    /// back-office reference such as `"tryton:party.party:42"`).
    pub organization_refs: Vec<String>,
    /// Further facts, each with the system that set it.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// Whether the party is in use.
    pub status: PartyStatus,
    /// The survivor this party was merged into.
    pub merged_into: Option<PartyId>,
    /// When the party was created.
    pub created_at: Timestamp,
    /// When the party last changed.
    pub updated_at: Timestamp,
}

// === impl Party ===

impl Party {
    /// An active party with a fresh id and nothing known yet.
    #[must_use]
    pub fn new(at: Timestamp) -> Self {
        Self {
            id: PartyId::new(),
            display_name: None,
            names: PartyNames::default(),
            languages: Vec::new(),
            organization_refs: Vec::new(),
            attributes: BTreeMap::new(),
            status: PartyStatus::Active,
            merged_into: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Sets an attribute and records who set it and when.
    pub fn set_attribute(
        &mut self,
        name: impl Into<String>,
        value: serde_json::Value,
        system: impl Into<String>,
        at: Timestamp,
    ) {
        self.attributes.insert(
            name.into(),
            AttributeValue {
                value,
                source: AttributeSource {
                    system: system.into(),
                    set_at: at,
                },
            },
        );
        self.updated_at = self.updated_at.max(at);
    }

    /// True once the party has been merged into another.
    #[must_use]
    pub fn is_merged(&self) -> bool {
        self.status == PartyStatus::Merged
    }
}

/// Structured name parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyNames {
    /// Given (first) name.
    pub given: Option<String>,
    /// Family (last) name.
    pub family: Option<String>,
}

/// Whether a party is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyStatus {
    /// In use.
    Active,
    /// Messages are accepted but not routed to agents (spam, abuse).
    Blocked,
    /// Merged into another party; see `merged_into`.
    Merged,
}

/// An attribute value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeValue {
    /// The value, any JSON.
    pub value: serde_json::Value,
    /// Who set it and when.
    pub source: AttributeSource,
}

/// Which system set a field, and when: decides which value wins when
/// sources disagree or parties merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeSource {
    /// The system (`"tryton"`, `"whatsapp"`, `"agent"`).
    pub system: String,
    /// When it was set.
    pub set_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::from_unix("t", seconds, 0).expect("in range")
    }

    #[test]
    fn set_attribute_records_the_source_and_bumps_updated_at() {
        let mut party = Party::new(at(100));
        party.set_attribute("tier", serde_json::json!("gold"), "tryton", at(200));
        let attribute = &party.attributes["tier"];
        assert_eq!(attribute.value, serde_json::json!("gold"));
        assert_eq!(attribute.source.system, "tryton");
        assert_eq!(party.updated_at, at(200));
        // An older write does not move updated_at back.
        party.set_attribute("vip", serde_json::json!(true), "crm", at(150));
        assert_eq!(party.updated_at, at(200));
        assert!(!party.is_merged());
    }
}
