//! Points in time.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::string_newtype::string_newtype;

/// Largest Unix time we accept: 9999-12-31T23:59:59Z, the last second RFC
/// 3339 can write with a four-digit year.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

/// A point in time, UTC, between the Unix epoch and the end of year 9999.
///
/// The range matches the WIT `timestamp` (unsigned seconds since the epoch)
/// and what RFC 3339 can write. Text form is RFC 3339 in UTC with a `Z` and
/// as many fractional digits as needed, in groups of three
/// (`2026-11-23T20:54:41Z`, `2026-11-23T20:54:41.123Z`,
/// `2026-11-23T20:54:41.123456789Z`), so no precision is lost between WIT,
/// JSON and storage. Because the number of digits varies, compare times as
/// `Timestamp`s, not as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(DateTime<Utc>);

// === impl Timestamp ===

impl Timestamp {
    /// The current time from the system clock.
    #[must_use]
    pub fn now() -> Self {
        Self(Utc::now())
    }

    /// Builds a time from seconds and nanoseconds since the Unix epoch (the
    /// WIT `timestamp` shape). `nanos` must be below one second.
    pub fn from_unix(field: &str, seconds: u64, nanos: u32) -> Result<Self> {
        let invalid = |reason: &str| ModelError::InvalidTimestamp {
            field: field.to_owned(),
            value: format!("{seconds}s {nanos}ns"),
            reason: reason.to_owned(),
        };
        if nanos >= 1_000_000_000 {
            return Err(invalid("nanoseconds must be below 1000000000"));
        }
        if seconds > MAX_UNIX_SECONDS {
            return Err(invalid("after the year 9999"));
        }
        let seconds = i64::try_from(seconds).map_err(|_| invalid("after the year 9999"))?;
        DateTime::from_timestamp(seconds, nanos)
            .map(Self)
            .ok_or_else(|| invalid("out of range"))
    }

    /// Parses RFC 3339 text (`2026-11-23T22:54:41+02:00`) and converts it to
    /// UTC. A leap second (`:60`) is read as the last nanosecond of the
    /// second before it, since the WIT shape cannot express it.
    pub fn parse_rfc3339(field: &str, raw: &str) -> Result<Self> {
        let parsed = DateTime::parse_from_rfc3339(raw.trim()).map_err(|err| {
            ModelError::InvalidTimestamp {
                field: field.to_owned(),
                value: raw.to_owned(),
                reason: format!("{err}; expected RFC 3339 such as 2026-11-23T20:54:41Z"),
            }
        })?;
        Self::from_datetime(field, parsed.with_timezone(&Utc)).map_err(|err| match err {
            ModelError::InvalidTimestamp { field, reason, .. } => ModelError::InvalidTimestamp {
                field,
                value: raw.to_owned(),
                reason,
            },
            other => other,
        })
    }

    /// Wraps a `chrono` time, checking the range.
    pub fn from_datetime(field: &str, at: DateTime<Utc>) -> Result<Self> {
        let seconds = u64::try_from(at.timestamp()).map_err(|_| ModelError::InvalidTimestamp {
            field: field.to_owned(),
            value: at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            reason: "before 1970-01-01T00:00:00Z".to_owned(),
        })?;
        // chrono keeps a leap second as nanoseconds >= 1e9.
        let nanos = at.timestamp_subsec_nanos().min(999_999_999);
        Self::from_unix(field, seconds, nanos)
    }

    /// The time as a `chrono` value.
    #[must_use]
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// Whole seconds since the Unix epoch.
    #[must_use]
    pub fn unix_seconds(&self) -> u64 {
        // Non-negative by construction; `now()` on a clock set before 1970
        // is the one way around that, and reads as the epoch.
        u64::try_from(self.0.timestamp()).unwrap_or(0)
    }

    /// Nanoseconds within the second, below 1 000 000 000.
    #[must_use]
    pub fn subsec_nanos(&self) -> u32 {
        self.0.timestamp_subsec_nanos().min(999_999_999)
    }

    /// The time `seconds` later, or `None` past the year 9999.
    #[must_use]
    pub fn checked_add_seconds(self, seconds: u64) -> Option<Self> {
        let total = self.unix_seconds().checked_add(seconds)?;
        Self::from_unix("", total, self.subsec_nanos()).ok()
    }

    /// The RFC 3339 text form (see the type's docs).
    #[must_use]
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

string_newtype! {
    Timestamp(Display),
    parse: Timestamp::parse_rfc3339,
    description: "An RFC 3339 time in UTC with a `Z`, between 1970 and 9999 \
                  (2026-11-23T20:54:41.123Z). Readers also accept other offsets and convert them.",
    format: Some("date-time"),
    pattern: None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_converted_to_utc() {
        let at = Timestamp::parse_rfc3339("occurred_at", "2026-11-23T22:54:41.123+02:00")
            .expect("valid time");
        assert_eq!(at.to_string(), "2026-11-23T20:54:41.123Z");
        let west = Timestamp::parse_rfc3339("occurred_at", "2026-11-23T15:54:41-05:00")
            .expect("valid time");
        assert_eq!(west.to_string(), "2026-11-23T20:54:41Z");
    }

    #[test]
    fn unix_round_trip_keeps_nanoseconds() {
        let at = Timestamp::from_unix("t", 1_795_467_281, 123_456_789).expect("in range");
        assert_eq!(at.unix_seconds(), 1_795_467_281);
        assert_eq!(at.subsec_nanos(), 123_456_789);
        assert_eq!(at.to_string(), "2026-11-23T20:54:41.123456789Z");
        let back: Timestamp = at.to_string().parse().expect("own output parses");
        assert_eq!(back, at);
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        let err = Timestamp::from_unix("received_at", 0, 1_000_000_000).expect_err("bad nanos");
        assert_eq!(err.field(), "received_at");
        assert!(Timestamp::from_unix("t", MAX_UNIX_SECONDS + 1, 0).is_err());
        assert!(Timestamp::from_unix("t", MAX_UNIX_SECONDS, 999_999_999).is_ok());
        let err = Timestamp::parse_rfc3339("opened_at", "1969-12-31T23:59:59Z")
            .expect_err("before the epoch");
        assert!(matches!(
            err,
            ModelError::InvalidTimestamp { ref field, ref value, .. }
                if field == "opened_at" && value == "1969-12-31T23:59:59Z"
        ));
        assert!(Timestamp::parse_rfc3339("t", "yesterday").is_err());
    }

    #[test]
    fn leap_second_is_clamped() {
        let at = Timestamp::parse_rfc3339("t", "2016-12-31T23:59:60Z").expect("leap second");
        assert_eq!(at.to_string(), "2016-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn serde_writes_z_and_rejects_garbage() {
        let at = Timestamp::from_unix("t", 1_795_467_281, 0).expect("in range");
        assert_eq!(
            serde_json::to_string(&at).expect("serialize"),
            "\"2026-11-23T20:54:41Z\""
        );
        let parsed: Timestamp =
            serde_json::from_str("\"2026-11-23T21:54:41+01:00\"").expect("offset accepted");
        assert_eq!(parsed, at);
        assert!(serde_json::from_str::<Timestamp>("\"2026-11-23\"").is_err());
    }

    #[test]
    fn checked_add_stops_at_year_9999() {
        let at = Timestamp::from_unix("t", 10, 5).expect("in range");
        let later = at.checked_add_seconds(60).expect("in range");
        assert_eq!((later.unix_seconds(), later.subsec_nanos()), (70, 5));
        assert!(at.checked_add_seconds(MAX_UNIX_SECONDS).is_none());
    }
}
