//! Time as the WIT `timestamp` (seconds and nanoseconds since the Unix
//! epoch, UTC), and its RFC 3339 text form.
//!
//! `normalize` must be deterministic, so take an inbound message's time from
//! the payload (or the event's `received_at`), never from [`now`].

use silta_model::ModelError;

use crate::types::{PluginError, Timestamp};

/// The current time from the host's wall clock (`wasi:clocks`); the system
/// clock in a native build.
#[must_use]
pub fn now() -> Timestamp {
    #[cfg(target_arch = "wasm32")]
    {
        let now = crate::bindings::base::wasi::clocks::wall_clock::now();
        Timestamp {
            seconds: now.seconds,
            nanoseconds: now.nanoseconds,
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            seconds: since_epoch.as_secs(),
            nanoseconds: since_epoch.subsec_nanos(),
        }
    }
}

/// Parses RFC 3339 text (any offset; converted to UTC). A bad time is a
/// bad-input error naming `field`. Same as [`crate::validate::timestamp`].
pub fn parse_rfc3339(field: &str, raw: &str) -> Result<Timestamp, PluginError> {
    crate::validate::timestamp(field, raw)
}

/// The RFC 3339 form in UTC with a `Z` (`2026-11-23T20:54:41.123Z`), or
/// `None` when the time is outside what the core stores (1970 to 9999).
#[must_use]
pub fn to_rfc3339(at: &Timestamp) -> Option<String> {
    to_model("timestamp", at).ok().map(|at| at.to_rfc3339())
}

/// The WIT form of a `silta-model` time.
#[must_use]
pub fn from_model(at: silta_model::Timestamp) -> Timestamp {
    Timestamp {
        seconds: at.unix_seconds(),
        nanoseconds: at.subsec_nanos(),
    }
}

/// The `silta-model` form of a WIT time, checked as the host checks it;
/// `field` names it in the error.
pub fn to_model(field: &str, at: &Timestamp) -> Result<silta_model::Timestamp, ModelError> {
    silta_model::Timestamp::from_unix(field, at.seconds, at.nanoseconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let at = parse_rfc3339("t", "2026-11-23T22:54:41.5+02:00").expect("valid");
        assert_eq!(to_rfc3339(&at).as_deref(), Some("2026-11-23T20:54:41.500Z"));
        assert_eq!(
            to_rfc3339(&Timestamp {
                seconds: u64::MAX,
                nanoseconds: 0
            }),
            None
        );
    }

    #[test]
    fn now_is_after_2025() {
        assert!(now().seconds > 1_735_689_600);
    }
}
