//! Exponential backoff with jitter, for outbound retries and webhooks.

use std::time::Duration;

use rand::Rng;

/// Delays that double per attempt up to a cap, each randomized so that
/// many failures at once (a provider outage) do not retry in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1 = after the first
    /// failure): `initial * 2^(attempt-1)`, capped at `max`, then a random
    /// value between half of that and all of it ("equal jitter": never
    /// less than half, so a retry cannot come back immediately).
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.ceiling(attempt);
        let half = base / 2;
        let spread = base.saturating_sub(half);
        let nanos = u64::try_from(spread.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if nanos == 0 {
            0
        } else {
            rand::rng().random_range(0..=nanos)
        };
        half + Duration::from_nanos(jitter)
    }

    /// The delay before retry `attempt` without jitter.
    #[must_use]
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(32);
        self.initial
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max)
    }

    /// A delay the provider asked for wins when it is longer.
    #[must_use]
    pub fn delay_with_hint(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let delay = self.delay(attempt);
        match hint {
            Some(hint) if hint > delay => hint.min(self.max.max(delay)),
            _ => delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_are_capped_and_jittered_within_half() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(backoff.ceiling(1), Duration::from_millis(100));
        assert_eq!(backoff.ceiling(2), Duration::from_millis(200));
        assert_eq!(backoff.ceiling(4), Duration::from_millis(800));
        assert_eq!(backoff.ceiling(5), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(500), Duration::from_secs(1));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let d = backoff.delay(3);
            assert!(
                d >= Duration::from_millis(200) && d <= Duration::from_millis(400),
                "{d:?}"
            );
            seen.insert(d);
        }
        assert!(seen.len() > 10, "delays are randomized");
    }

    #[test]
    fn a_longer_provider_hint_wins() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(60),
        };
        let d = backoff.delay_with_hint(1, Some(Duration::from_secs(30)));
        assert_eq!(d, Duration::from_secs(30));
        let d = backoff.delay_with_hint(1, Some(Duration::from_millis(1)));
        assert!(d >= Duration::from_millis(50));
    }
}
