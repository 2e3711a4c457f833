//! The marks behind Meta's messaging windows: when each customer last
//! wrote, kept in the plugin's key-value state.
//!
//! WhatsApp and Messenger both let a business answer freely only for a
//! while after the customer's last message, so both plugins record that
//! time in `normalize` and read it back in `render`. What the window allows
//! (its durations, templates or the `HUMAN_AGENT` tag) and how a mark is
//! keyed are each plugin's own; this module is the part that must behave
//! the same in both: a mark is Unix seconds under a key, a replay never
//! moves it back (times come from the payload, so replaying old webhooks
//! from the journal does not reopen a window), an unreadable mark counts
//! as none, and only a store that is down fails the event.

use silta_sdk::PluginError;
use silta_sdk::types::Timestamp;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Where a plugin keeps its marks; [`Kv`] in the host, [`Memory`] or
/// [`Failing`] in tests.
pub trait State {
    /// The value under `key`.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`.
    ///
    /// # Errors
    ///
    /// When the store cannot be written.
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
}

/// The host's key-value state (`kv` capability).
pub struct Kv;

// === impl Kv ===

impl State for Kv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(silta_sdk::kv::get(key)?)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        Ok(silta_sdk::kv::set(key, value)?)
    }
}

// === impl Memory ===

/// An in-memory [`State`], for the plugins' unit tests (natively the
/// host's state is denied).
#[derive(Debug, Default)]
pub struct Memory(std::cell::RefCell<std::collections::BTreeMap<String, Vec<u8>>>);

impl State for Memory {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.0.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }
}

// === impl Failing ===

/// A [`State`] that fails every call with its error, for the plugins' unit
/// tests of a store that is down (`retryable`) or refuses (`permanent`).
#[derive(Debug)]
pub struct Failing(pub PluginError);

impl State for Failing {
    fn get(&self, _: &str) -> Result<Option<Vec<u8>>> {
        Err(self.0.clone())
    }

    fn set(&self, _: &str, _: &[u8]) -> Result<()> {
        Err(self.0.clone())
    }
}

// === marks ===

/// Records a customer message at `at` under `key`, unless a later one is
/// already recorded.
///
/// # Errors
///
/// When the store fails.
pub fn remember(state: &impl State, key: &str, at: Timestamp) -> Result<()> {
    let known = last_inbound(state, key)?;
    if known.is_some_and(|known| known.seconds >= at.seconds) {
        return Ok(());
    }
    state.set(key, at.seconds.to_string().as_bytes())
}

/// Records every customer message of a webhook, each under the key and
/// time `mark` gives. A store that is down is `retryable` (the host
/// redelivers the event); a mark that cannot be kept (`kv` not granted,
/// quota full) goes to `lost`, for the plugin to log what it means for its
/// replies, and is skipped: the message matters more than the mark.
///
/// # Errors
///
/// A `retryable` error of the store.
pub fn remember_all<T>(
    state: &impl State,
    inbound: &[T],
    mark: impl Fn(&T) -> (String, Timestamp),
    lost: impl Fn(&T, &PluginError),
) -> Result<()> {
    for contact in inbound {
        let (key, at) = mark(contact);
        match remember(state, &key, at) {
            Err(error) if matches!(error, PluginError::Retryable(_)) => return Err(error),
            Err(error) => lost(contact, &error),
            Ok(()) => {}
        }
    }
    Ok(())
}

/// The mark under `key`: when the customer last wrote, if ever. One that
/// does not read as Unix seconds counts as none (the window is then
/// closed, the safe side).
///
/// # Errors
///
/// When the store fails.
pub fn last_inbound(state: &impl State, key: &str) -> Result<Option<Timestamp>> {
    let Some(bytes) = state.get(key)? else {
        return Ok(None);
    };
    let seconds = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.parse::<u64>().ok());
    if seconds.is_none() {
        silta_sdk::warn!("ignoring an unreadable window mark under {key}");
    }
    Ok(seconds.map(|seconds| Timestamp {
        seconds,
        nanoseconds: 0,
    }))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp {
            seconds,
            nanoseconds: 0,
        }
    }

    #[test]
    fn a_mark_never_moves_back() {
        let state = Memory::default();
        remember(&state, "window/a", at(5_000)).expect("stored");
        remember(&state, "window/a", at(4_000)).expect("kept");
        assert_eq!(
            last_inbound(&state, "window/a").expect("read"),
            Some(at(5_000))
        );
        remember(&state, "window/a", at(6_000)).expect("moved");
        assert_eq!(state.get("window/a").expect("read"), Some(b"6000".to_vec()));
        assert_eq!(last_inbound(&state, "window/b").expect("read"), None);
    }

    #[test]
    fn an_unreadable_mark_counts_as_none() {
        let state = Memory::default();
        state.set("window/a", b"yesterday").expect("stored");
        assert_eq!(last_inbound(&state, "window/a").expect("read"), None);
        remember(&state, "window/a", at(1)).expect("replaced");
        assert_eq!(last_inbound(&state, "window/a").expect("read"), Some(at(1)));
    }

    #[test]
    fn only_a_store_that_is_down_fails_the_event() {
        let mark = |seconds: &u64| ("window/a".to_owned(), at(*seconds));
        let lost = Cell::new(0);
        let count = |_: &u64, _: &PluginError| lost.set(lost.get() + 1);

        let down = Failing(PluginError::retryable("disk"));
        let error = remember_all(&down, &[1], mark, count).expect_err("down");
        assert_eq!(error.kind(), "retryable");
        assert_eq!(lost.get(), 0);

        let full = Failing(PluginError::permanent("quota"));
        assert_eq!(remember_all(&full, &[1, 2], mark, count), Ok(()));
        assert_eq!(lost.get(), 2, "each lost mark is reported");
        assert_eq!(
            remember_all(&Kv, &[1], mark, count),
            Ok(()),
            "natively denied"
        );

        let state = Memory::default();
        remember_all(&state, &[7, 9], mark, count).expect("stored");
        assert_eq!(last_inbound(&state, "window/a").expect("read"), Some(at(9)));
    }

    #[test]
    fn natively_the_host_state_is_denied() {
        assert_eq!(Kv.get("k").expect_err("denied").kind(), "permanent");
    }
}
