//! Back-office links: CRM, ERP and ticketing records by reference.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A record in a CRM, ERP or ticketing system, by reference, with a
/// short-lived snapshot of the fields agents need.
///
/// The back office stays the source of truth; the snapshot saves a round
/// trip while it is fresh (see [`is_fresh_at`](BackofficeLink::is_fresh_at)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackofficeLink {
    /// The system (`"tryton"`, `"bottlecrm"`).
    pub system: String,
    /// The kind of record (`"party.party"`, `"ticket"`).
    pub object_type: String,
    /// The record's id in that system.
    pub remote_id: String,
    /// Where a person can open the record.
    pub url: Option<String>,
    /// A few fields of the record, as text.
    pub snapshot: BTreeMap<String, String>,
    /// When the snapshot was taken.
    pub fetched_at: Option<Timestamp>,
    /// When the snapshot should be fetched again.
    pub expires_at: Option<Timestamp>,
}

// === impl BackofficeLink ===

impl BackofficeLink {
    /// True when there is a snapshot and it has not expired at `now`. A
    /// snapshot without an expiry time is never fresh.
    #[must_use]
    pub fn is_fresh_at(&self, now: Timestamp) -> bool {
        self.fetched_at.is_some() && self.expires_at.is_some_and(|expires| now < expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::from_unix("t", seconds, 0).expect("in range")
    }

    #[test]
    fn freshness() {
        let mut link = BackofficeLink {
            system: "tryton".into(),
            object_type: "party.party".into(),
            remote_id: "42".into(),
            url: None,
            snapshot: BTreeMap::new(),
            fetched_at: Some(at(100)),
            expires_at: Some(at(200)),
        };
        assert!(link.is_fresh_at(at(150)));
        assert!(!link.is_fresh_at(at(200)));
        link.expires_at = None;
        assert!(!link.is_fresh_at(at(150)));
    }
}
