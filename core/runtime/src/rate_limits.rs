//! A channel provider's send limits, as a plugin's manifest declares them
//! and the host enforces them per channel account.
//!
//! ```toml
//! [rate_limits]
//! messages_per_second = 30       # every send of one channel account
//! per_recipient_per_second = 1   # sends to one recipient (a chat, a number)
//! ```

use serde::{Deserialize, Serialize};

/// Send limits; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Sends per second for the whole channel account.
    #[serde(default)]
    pub messages_per_second: Option<f64>,
    /// Sends per second to one recipient.
    #[serde(default)]
    pub per_recipient_per_second: Option<f64>,
}

impl RateLimits {
    /// The stricter of two sets of limits, field by field (a manifest's and
    /// an operator's).
    #[must_use]
    pub fn stricter(self, other: RateLimits) -> RateLimits {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        RateLimits {
            messages_per_second: min(self.messages_per_second, other.messages_per_second),
            per_recipient_per_second: min(
                self.per_recipient_per_second,
                other.per_recipient_per_second,
            ),
        }
    }

    /// Why these limits are unusable, if they are: every rate must be a
    /// positive, finite number.
    #[must_use]
    pub fn problem(&self) -> Option<String> {
        [
            ("messages_per_second", self.messages_per_second),
            ("per_recipient_per_second", self.per_recipient_per_second),
        ]
        .into_iter()
        .find_map(|(name, rate)| {
            rate.filter(|r| !(r.is_finite() && *r > 0.0))
                .map(|r| format!("rate_limits.{name} = {r} must be a positive number"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stricter_of_each_field_wins() {
        let provider = RateLimits {
            messages_per_second: Some(30.0),
            per_recipient_per_second: Some(1.0),
        };
        let operator = RateLimits {
            messages_per_second: Some(5.0),
            per_recipient_per_second: None,
        };
        assert_eq!(
            provider.stricter(operator),
            RateLimits {
                messages_per_second: Some(5.0),
                per_recipient_per_second: Some(1.0),
            }
        );
        assert_eq!(RateLimits::default().stricter(operator), operator);
    }

    #[test]
    fn rates_must_be_positive() {
        assert!(RateLimits::default().problem().is_none());
        let zero = RateLimits {
            messages_per_second: Some(0.0),
            ..RateLimits::default()
        };
        assert!(
            zero.problem()
                .expect("refused")
                .contains("messages_per_second")
        );
        let nan = RateLimits {
            per_recipient_per_second: Some(f64::NAN),
            ..RateLimits::default()
        };
        assert!(nan.problem().is_some());
    }
}
