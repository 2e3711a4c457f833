//! Service level policies and the clocks they start.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::id::SlaPolicyId;
use crate::time::Timestamp;

/// Targets for answering and resolving a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// The policy's id.
    pub id: SlaPolicyId,
    /// A name for people (`"Standard"`, `"VIP"`).
    pub name: String,
    /// Time allowed until the first agent reply.
    pub first_response_seconds: u64,
    /// Time allowed until the case is resolved.
    pub resolution_seconds: u64,
}

/// The SLA deadlines of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaClock {
    /// The policy the deadlines come from.
    pub policy: SlaPolicyId,
    /// When the first reply is due.
    pub first_response_due: Timestamp,
    /// When the case should be resolved.
    pub resolution_due: Timestamp,
    /// When an agent first replied.
    pub first_responded_at: Option<Timestamp>,
    /// Since when the clock is paused (waiting on the customer), if it is.
    pub paused_since: Option<Timestamp>,
}

// === impl SlaClock ===

impl SlaClock {
    /// Starts the clock of `policy` for a case opened at `opened_at`.
    pub fn start(policy: &SlaPolicy, opened_at: Timestamp) -> Result<Self> {
        let due = |field: &str, seconds: u64| {
            opened_at
                .checked_add_seconds(seconds)
                .ok_or_else(|| ModelError::InvalidTimestamp {
                    field: field.to_owned(),
                    value: format!("{opened_at} + {seconds}s"),
                    reason: "after the year 9999".to_owned(),
                })
        };
        Ok(Self {
            policy: policy.id,
            first_response_due: due("first_response_seconds", policy.first_response_seconds)?,
            resolution_due: due("resolution_seconds", policy.resolution_seconds)?,
            first_responded_at: None,
            paused_since: None,
        })
    }

    /// True while the clock is paused.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// True when the first reply is late at `now` (not yet given and past
    /// due, or given after the deadline).
    #[must_use]
    pub fn first_response_breached_at(&self, now: Timestamp) -> bool {
        match self.first_responded_at {
            Some(responded) => responded > self.first_response_due,
            None => !self.is_paused() && now > self.first_response_due,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::from_unix("t", seconds, 0).expect("in range")
    }

    fn policy() -> SlaPolicy {
        SlaPolicy {
            id: SlaPolicyId::new(),
            name: "Standard".into(),
            first_response_seconds: 3600,
            resolution_seconds: 86_400,
        }
    }

    #[test]
    fn start_sets_deadlines_from_the_policy() {
        let clock = SlaClock::start(&policy(), at(1000)).expect("in range");
        assert_eq!(clock.first_response_due, at(4600));
        assert_eq!(clock.resolution_due, at(87_400));
        assert!(!clock.first_response_breached_at(at(4600)));
        assert!(clock.first_response_breached_at(at(4601)));
    }

    #[test]
    fn response_time_decides_breach_once_given() {
        let mut clock = SlaClock::start(&policy(), at(0)).expect("in range");
        clock.first_responded_at = Some(at(100));
        assert!(!clock.first_response_breached_at(at(10_000)));
        clock.first_responded_at = Some(at(3601));
        assert!(clock.first_response_breached_at(at(3601)));
    }

    #[test]
    fn overflow_names_the_policy_field() {
        let mut long = policy();
        long.resolution_seconds = u64::MAX;
        let err = SlaClock::start(&long, at(0)).expect_err("overflow");
        assert_eq!(err.field(), "resolution_seconds");
    }
}
