//! Prompt shutdown for blocking IMAP workers.
//!
//! A worker blocks in two places: sleeping (backoff, poll interval) and
//! reading its socket (IDLE, a slow command). [`Stop::trigger`] wakes the
//! first through a condition variable and the second by shutting the
//! registered socket down, so a worker returns within moments of the
//! shutdown signal instead of at its next timeout.

use std::net::TcpStream;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::imap_stream::interrupt;

#[derive(Debug, Default)]
struct State {
    stopped: bool,
    socket: Option<TcpStream>,
}

/// A worker's stop flag, shared between the async supervisor and the
/// blocking worker thread.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    state: Mutex<State>,
    wake: Condvar,
}

// === impl Stop ===

impl Stop {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave State inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the worker to stop: wakes its sleep and interrupts its socket.
    pub(crate) fn trigger(&self) {
        let mut state = self.lock();
        state.stopped = true;
        if let Some(socket) = state.socket.take() {
            interrupt(&socket);
        }
        self.wake.notify_all();
    }

    /// Whether [`Stop::trigger`] was called.
    pub(crate) fn is_stopped(&self) -> bool {
        self.lock().stopped
    }

    /// Registers the current connection's socket (replacing the previous
    /// one). If already stopped, the socket is shut down at once.
    pub(crate) fn register(&self, socket: TcpStream) {
        let mut state = self.lock();
        if state.stopped {
            interrupt(&socket);
        } else {
            state.socket = Some(socket);
        }
    }

    /// Sleeps for `duration` or until stopped; returns whether stopped.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut state = self.lock();
        while !state.stopped {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .wake
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn trigger_wakes_a_sleeper() {
        let stop = Arc::new(Stop::default());
        let sleeper = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || stop.sleep(Duration::from_secs(60)))
        };
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        stop.trigger();
        assert!(sleeper.join().expect("sleeper thread"));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(stop.is_stopped());
    }

    #[test]
    fn sleep_times_out_when_not_stopped() {
        let stop = Stop::default();
        assert!(!stop.sleep(Duration::from_millis(10)));
    }
}
