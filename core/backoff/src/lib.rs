//! Exponential backoff with jitter, for every retry in Silta: outbound
//! messages, webhook deliveries, and reconnecting to mail servers.

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

/// A run of failures against one [`Backoff`]: each failure waits longer,
/// a success starts over (a connection that keeps failing, say).
#[derive(Debug, Clone)]
pub struct Failures {
    backoff: Backoff,
    count: u32,
}

impl Failures {
    /// No failures yet.
    #[must_use]
    pub fn new(backoff: Backoff) -> Self {
        Self { backoff, count: 0 }
    }

    /// Count one more failure; returns how long to wait before trying again.
    pub fn next_delay(&mut self) -> Duration {
        self.count = self.count.saturating_add(1);
        self.backoff.delay(self.count)
    }

    /// A success: the next failure waits the initial delay again.
    pub fn reset(&mut self) {
        self.count = 0;
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

    #[test]
    fn failures_grow_to_the_cap_and_reset() {
        let backoff = Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
        };
        let mut failures = Failures::new(backoff);
        let first = failures.next_delay();
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        for _ in 0..20 {
            assert!(failures.next_delay() <= Duration::from_secs(30));
        }
        assert!(failures.next_delay() >= Duration::from_secs(15));
        failures.reset();
        assert!(failures.next_delay() <= Duration::from_millis(200));
    }
}
