//! Exponential reconnect backoff with jitter.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff: each failure doubles the delay up to `max`, and
/// the delay actually used is drawn from the upper half of the current
/// step ("equal jitter"), so many workers that lost the same server do not
/// reconnect in lockstep.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

// === impl Backoff ===

impl Backoff {
    /// A backoff starting at `initial` and capped at `max`.
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            current: initial,
        }
    }

    /// The delay to wait before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let step = self.current;
        self.current = (self.current * 2).min(self.max);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
    }

    /// Back to the initial delay, after a success.
    pub(crate) fn reset(&mut self) {
        self.current = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        for _ in 0..20 {
            let d = b.next_delay();
            assert!(d <= Duration::from_secs(30), "{d:?}");
        }
        let capped = b.next_delay();
        assert!(capped >= Duration::from_secs(15), "{capped:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(200));
    }
}
