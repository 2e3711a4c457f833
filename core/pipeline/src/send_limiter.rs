//! Spacing of one channel account's sends by its provider's rate limits
//! (the plugin manifest's `[rate_limits]`, or an operator's stricter ones).
//!
//! Each limit is a schedule of free slots, one per `1 / rate` seconds: a
//! send takes the account's next slot and its recipient's next slot, or is
//! told how long until both are free. A send that would wait long is put
//! back in the outbox for then instead of holding a sending slot, so a busy
//! chat never holds up the other customers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use silta_runtime::rate_limits::RateLimits;

/// Recipients remembered before the ones whose slots have passed are
/// forgotten.
const PRUNE_AT: usize = 10_000;

/// The send schedule of one channel account.
#[derive(Debug)]
pub struct SendLimiter {
    account: Option<Duration>,
    per_recipient: Option<Duration>,
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    account: Option<Instant>,
    recipients: HashMap<String, Instant>,
}

impl SendLimiter {
    /// A schedule for these limits (none: every send goes at once).
    #[must_use]
    pub fn new(limits: RateLimits) -> Self {
        let interval = |rate: Option<f64>| {
            rate.filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r))
        };
        Self {
            account: interval(limits.messages_per_second),
            per_recipient: interval(limits.per_recipient_per_second),
            slots: Mutex::new(Slots::default()),
        }
    }

    /// Whether any limit applies.
    #[must_use]
    pub fn is_limited(&self) -> bool {
        self.account.is_some() || self.per_recipient.is_some()
    }

    /// Take a slot for a send to `recipient` at `now`, or say how long
    /// until one is free (nothing is taken then).
    pub fn try_take(&self, recipient: &str, now: Instant) -> Result<(), Duration> {
        if !self.is_limited() {
            return Ok(());
        }
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let account_free = slots.account.filter(|_| self.account.is_some());
        let recipient_free = self
            .per_recipient
            .and_then(|_| slots.recipients.get(recipient).copied());
        let free = account_free.into_iter().chain(recipient_free).max();
        if let Some(free) = free
            && free > now
        {
            return Err(free - now);
        }
        if let Some(interval) = self.account {
            slots.account = Some(now + interval);
        }
        if let Some(interval) = self.per_recipient {
            if slots.recipients.len() >= PRUNE_AT {
                slots.recipients.retain(|_, free| *free > now);
            }
            slots
                .recipients
                .insert(recipient.to_owned(), now + interval);
        }
        Ok(())
    }

    /// Wait (asynchronously) until a slot is free, then take it.
    pub async fn take(&self, recipient: &str) {
        while let Err(wait) = self.try_take(recipient, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(account: Option<f64>, per_recipient: Option<f64>) -> SendLimiter {
        SendLimiter::new(RateLimits {
            messages_per_second: account,
            per_recipient_per_second: per_recipient,
        })
    }

    #[test]
    fn no_limits_never_wait() {
        let open = limiter(None, None);
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(open.try_take("a", now), Ok(()));
        }
    }

    #[test]
    fn the_account_rate_spaces_every_send() {
        let ten = limiter(Some(10.0), None);
        let t0 = Instant::now();
        assert_eq!(ten.try_take("a", t0), Ok(()));
        assert_eq!(ten.try_take("b", t0), Err(Duration::from_millis(100)));
        assert_eq!(
            ten.try_take("b", t0 + Duration::from_millis(40)),
            Err(Duration::from_millis(60))
        );
        assert_eq!(ten.try_take("b", t0 + Duration::from_millis(100)), Ok(()));
    }

    #[test]
    fn a_recipient_waits_only_for_its_own_slot() {
        let chat = limiter(None, Some(1.0));
        let t0 = Instant::now();
        assert_eq!(chat.try_take("chat-1", t0), Ok(()));
        assert_eq!(chat.try_take("chat-2", t0), Ok(()), "another chat goes");
        assert_eq!(chat.try_take("chat-1", t0), Err(Duration::from_secs(1)));
        // A refused send takes nothing: chat-2 is still free at its slot.
        assert_eq!(chat.try_take("chat-2", t0 + Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn both_limits_wait_for_the_later_slot() {
        let both = limiter(Some(100.0), Some(2.0));
        let t0 = Instant::now();
        assert_eq!(both.try_take("a", t0), Ok(()));
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(both.try_take("a", t1), Err(Duration::from_millis(490)));
        assert_eq!(both.try_take("b", t1), Ok(()));
    }

    #[test]
    fn passed_recipients_are_forgotten() {
        let chat = limiter(None, Some(1000.0));
        let t0 = Instant::now();
        for n in 0..PRUNE_AT {
            assert_eq!(chat.try_take(&format!("r{n}"), t0), Ok(()));
        }
        let later = t0 + Duration::from_secs(1);
        assert_eq!(chat.try_take("new", later), Ok(()));
        let slots = chat.slots.lock().expect("not poisoned");
        assert_eq!(slots.recipients.len(), 1);
    }
}
