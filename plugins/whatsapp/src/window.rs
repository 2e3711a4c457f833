//! The 24-hour customer service window.
//!
//! WhatsApp lets a business send free-form messages (text, media,
//! interactive) to a customer only within 24 hours of the customer's last
//! message to that business number; outside it, only an approved template
//! (the Graph API refuses anything else with error 131047). `normalize`
//! records each customer message's time in the plugin's key-value state
//! ([`remember`]); `render` reads it back ([`last_inbound`]) and asks
//! [`status`] whether a free-form reply may go.
//!
//! Times come from the payload, and a replay never moves the mark back, so
//! replaying old webhooks from the journal does not reopen a window; how a
//! mark is kept is shared with Messenger ([`silta_meta_webhook::window`]),
//! the key, the duration and what a closed window allows are WhatsApp's.

use silta_meta_webhook::window as marks;
use silta_sdk::PluginError;
use silta_sdk::types::Timestamp;

pub use silta_meta_webhook::window::{Kv, State};

use crate::mapping::LastInbound;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// How long the window stays open after a customer's message.
pub const WINDOW_SECONDS: u64 = 24 * 60 * 60;

/// Whether a free-form message may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The customer wrote within 24 hours; free-form until `closes_at`.
    Open {
        /// When the window closes, in Unix seconds.
        closes_at: u64,
    },
    /// The customer never wrote, or not within 24 hours: templates only.
    Closed {
        /// The customer's last message, in Unix seconds, if any.
        last_inbound: Option<u64>,
    },
}

/// The key of the mark for a customer on one of our numbers.
#[must_use]
pub fn key(phone_number_id: &str, wa_id: &str) -> String {
    format!("window/{phone_number_id}/{wa_id}")
}

/// The window at `now`, given the customer's last message.
#[must_use]
pub fn status(last_inbound: Option<Timestamp>, now: Timestamp) -> Window {
    match last_inbound {
        Some(last) if now.seconds < last.seconds.saturating_add(WINDOW_SECONDS) => Window::Open {
            closes_at: last.seconds.saturating_add(WINDOW_SECONDS),
        },
        last => Window::Closed {
            last_inbound: last.map(|last| last.seconds),
        },
    }
}

/// Records a customer message, unless a later one is already recorded.
pub fn remember(state: &impl State, inbound: &LastInbound) -> Result<()> {
    marks::remember(
        state,
        &key(&inbound.phone_number_id, &inbound.wa_id),
        inbound.at,
    )
}

/// Records every customer message of a webhook. A store that is down is
/// `retryable` (the host redelivers the event); a mark that cannot be
/// kept (`kv` not granted, quota full) is logged and skipped: the message
/// matters more than the mark, and without it replies fall back to
/// templates, which WhatsApp always accepts.
pub fn remember_all(state: &impl State, inbound: &[LastInbound]) -> Result<()> {
    marks::remember_all(
        state,
        inbound,
        |contact| (key(&contact.phone_number_id, &contact.wa_id), contact.at),
        |contact, error| {
            silta_sdk::error!(
                "the 24-hour window of a customer on {} was not recorded: {}; replies to them need a template",
                contact.phone_number_id,
                error.message()
            );
        },
    )
}

/// When the customer last wrote to our number, if ever. A mark that does
/// not read as Unix seconds counts as none (the window is then closed,
/// which templates still get through).
pub fn last_inbound(
    state: &impl State,
    phone_number_id: &str,
    wa_id: &str,
) -> Result<Option<Timestamp>> {
    marks::last_inbound(state, &key(phone_number_id, wa_id))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use silta_meta_webhook::window::{Failing, Memory};

    pub fn at(seconds: u64) -> Timestamp {
        Timestamp {
            seconds,
            nanoseconds: 0,
        }
    }

    fn inbound(seconds: u64) -> LastInbound {
        LastInbound {
            phone_number_id: "106540352242922".into(),
            wa_id: "358401234567".into(),
            at: at(seconds),
        }
    }

    #[test]
    fn open_for_exactly_24_hours_after_the_last_message() {
        let last = Some(at(1_000));
        assert_eq!(
            status(last, at(1_000)),
            Window::Open {
                closes_at: 1_000 + WINDOW_SECONDS
            }
        );
        assert!(matches!(
            status(last, at(1_000 + WINDOW_SECONDS - 1)),
            Window::Open { .. }
        ));
        assert_eq!(
            status(last, at(1_000 + WINDOW_SECONDS)),
            Window::Closed {
                last_inbound: Some(1_000)
            }
        );
        assert_eq!(
            status(None, at(1_000)),
            Window::Closed { last_inbound: None }
        );
        // A message stamped a little ahead of our clock still opens it.
        assert!(matches!(
            status(Some(at(2_000)), at(1_990)),
            Window::Open { .. }
        ));
    }

    #[test]
    fn remembers_the_latest_message_per_customer_and_number() {
        let state = Memory::default();
        remember(&state, &inbound(5_000)).expect("stored");
        // A replayed older webhook does not move the mark back.
        remember(&state, &inbound(4_000)).expect("kept");
        assert_eq!(
            last_inbound(&state, "106540352242922", "358401234567").expect("read"),
            Some(at(5_000))
        );
        remember(&state, &inbound(6_000)).expect("moved");
        assert_eq!(
            state
                .get("window/106540352242922/358401234567")
                .expect("read"),
            Some(b"6000".to_vec())
        );
        assert_eq!(
            last_inbound(&state, "999", "358401234567").expect("read"),
            None,
            "another number of ours has its own window"
        );
    }

    #[test]
    fn only_a_store_that_is_down_fails_the_event() {
        let down = Failing(PluginError::retryable("disk"));
        assert_eq!(
            remember_all(&down, &[inbound(1)]).unwrap_err().kind(),
            "retryable"
        );
        let full = Failing(PluginError::permanent("quota"));
        assert_eq!(remember_all(&full, &[inbound(1)]), Ok(()));
        assert_eq!(remember_all(&Kv, &[inbound(1)]), Ok(()), "natively denied");
        let state = Memory::default();
        remember_all(&state, &[inbound(7), inbound(9)]).expect("stored");
        assert_eq!(
            last_inbound(&state, "106540352242922", "358401234567").expect("read"),
            Some(at(9))
        );
    }

    #[test]
    fn an_unreadable_mark_counts_as_none() {
        let state = Memory::default();
        state.set(&key("1", "2"), b"yesterday").expect("stored");
        assert_eq!(last_inbound(&state, "1", "2").expect("read"), None);
    }

    #[test]
    fn natively_the_host_state_is_denied() {
        assert_eq!(Kv.get("k").unwrap_err().kind(), "permanent");
    }
}
