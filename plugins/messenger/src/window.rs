//! Meta's messaging window.
//!
//! A Page (or Instagram account) may message a person freely ("standard
//! messaging", `messaging_type: RESPONSE`) within 24 hours of the person's
//! last message or postback. After that, and up to 7 days, only a human
//! agent may answer, tagged `HUMAN_AGENT` (the app needs Meta's Human
//! Agent permission; the operator says so with config `human_agent`).
//! After 7 days nothing may go until the person writes again. The Send
//! API refuses what breaks this (error 10, subcode 2018278), and repeated
//! breaches cost the Page its messaging, so `render` refuses first.
//!
//! `normalize` records each customer message's time in the plugin's
//! key-value state ([`remember`]); `render` reads it back
//! ([`last_inbound`]) and asks [`status`] what may go. Times come from
//! the payload, and a replay never moves the mark back, so replaying old
//! webhooks from the journal does not reopen a window; how a mark is kept
//! is shared with WhatsApp ([`silta_meta_webhook::window`]), the key, the
//! durations and what each window allows are Messenger's.

use silta_meta_webhook::window as marks;
use silta_sdk::PluginError;
use silta_sdk::types::Timestamp;

pub use silta_meta_webhook::window::{Kv, State};

use crate::mapping::{LastInbound, Platform};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// How long standard messaging stays open after a customer's message.
pub const STANDARD_SECONDS: u64 = 24 * 60 * 60;

/// How long a human agent may still answer (with the `HUMAN_AGENT` tag).
pub const HUMAN_AGENT_SECONDS: u64 = 7 * 24 * 60 * 60;

/// What may go to a customer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The customer wrote within 24 hours: standard messaging until
    /// `closes_at` (Unix seconds).
    Standard {
        /// When standard messaging ends.
        closes_at: u64,
    },
    /// The customer wrote within 7 days but not 24 hours: a human agent's
    /// reply, tagged `HUMAN_AGENT`, until `closes_at`.
    HumanAgent {
        /// When the human agent window ends.
        closes_at: u64,
    },
    /// The customer never wrote, or not within 7 days: nothing may go.
    Closed {
        /// The customer's last message, in Unix seconds, if any.
        last_inbound: Option<u64>,
    },
}

/// The key of the mark for a customer of one channel account. The state
/// is the plugin's, shared by all its channel accounts, so the account is
/// part of the key.
#[must_use]
pub fn key(channel_account: &str, platform: Platform, user_id: &str) -> String {
    format!("window/{channel_account}/{}/{user_id}", platform.name())
}

/// The window at `now`, given the customer's last message.
#[must_use]
pub fn status(last_inbound: Option<Timestamp>, now: Timestamp) -> Window {
    let Some(last) = last_inbound else {
        return Window::Closed { last_inbound: None };
    };
    let standard = last.seconds.saturating_add(STANDARD_SECONDS);
    let human_agent = last.seconds.saturating_add(HUMAN_AGENT_SECONDS);
    if now.seconds < standard {
        Window::Standard {
            closes_at: standard,
        }
    } else if now.seconds < human_agent {
        Window::HumanAgent {
            closes_at: human_agent,
        }
    } else {
        Window::Closed {
            last_inbound: Some(last.seconds),
        }
    }
}

/// Records a customer message, unless a later one is already recorded.
pub fn remember(state: &impl State, inbound: &LastInbound) -> Result<()> {
    marks::remember(state, &mark_key(inbound), inbound.at)
}

fn mark_key(inbound: &LastInbound) -> String {
    key(&inbound.channel_account, inbound.platform, &inbound.user_id)
}

/// Records every customer message of a webhook. A store that is down is
/// `retryable` (the host redelivers the event); a mark that cannot be
/// kept (`kv` not granted, quota full) is logged and skipped: the message
/// matters more than the mark, and without it replies are refused until
/// the customer writes again.
pub fn remember_all(state: &impl State, inbound: &[LastInbound]) -> Result<()> {
    marks::remember_all(
        state,
        inbound,
        |contact| (mark_key(contact), contact.at),
        |contact, error| {
            silta_sdk::error!(
                "the messaging window of a {} customer was not recorded: {}; replies to them will be refused",
                contact.platform.name(),
                error.message()
            );
        },
    )
}

/// When the customer last wrote to this channel account, if ever. A mark
/// that does not read as Unix seconds counts as none.
pub fn last_inbound(
    state: &impl State,
    channel_account: &str,
    platform: Platform,
    user_id: &str,
) -> Result<Option<Timestamp>> {
    marks::last_inbound(state, &key(channel_account, platform, user_id))
}

#[cfg(test)]
pub(crate) mod tests {
    use silta_meta_webhook::window::{Failing, Memory};

    use super::*;

    pub fn at(seconds: u64) -> Timestamp {
        Timestamp {
            seconds,
            nanoseconds: 0,
        }
    }

    fn inbound(seconds: u64) -> LastInbound {
        LastInbound {
            channel_account: "acct".into(),
            platform: Platform::Messenger,
            user_id: "6830112345678901".into(),
            at: at(seconds),
        }
    }

    #[test]
    fn standard_for_24_hours_then_human_agent_until_7_days() {
        let last = Some(at(1_000));
        assert_eq!(
            status(last, at(1_000)),
            Window::Standard {
                closes_at: 1_000 + STANDARD_SECONDS
            }
        );
        assert!(matches!(
            status(last, at(1_000 + STANDARD_SECONDS - 1)),
            Window::Standard { .. }
        ));
        assert_eq!(
            status(last, at(1_000 + STANDARD_SECONDS)),
            Window::HumanAgent {
                closes_at: 1_000 + HUMAN_AGENT_SECONDS
            }
        );
        assert!(matches!(
            status(last, at(1_000 + HUMAN_AGENT_SECONDS - 1)),
            Window::HumanAgent { .. }
        ));
        assert_eq!(
            status(last, at(1_000 + HUMAN_AGENT_SECONDS)),
            Window::Closed {
                last_inbound: Some(1_000)
            }
        );
        assert_eq!(
            status(None, at(1_000)),
            Window::Closed { last_inbound: None }
        );
    }

    #[test]
    fn remembers_the_latest_message_per_customer_platform_and_account() {
        let state = Memory::default();
        remember(&state, &inbound(5_000)).expect("stored");
        // A replayed older webhook does not move the mark back.
        remember(&state, &inbound(4_000)).expect("kept");
        assert_eq!(
            last_inbound(&state, "acct", Platform::Messenger, "6830112345678901").expect("read"),
            Some(at(5_000))
        );
        remember(&state, &inbound(6_000)).expect("moved");
        assert_eq!(
            state
                .get("window/acct/messenger/6830112345678901")
                .expect("read"),
            Some(b"6000".to_vec())
        );
        for (account, platform) in [
            ("other", Platform::Messenger),
            ("acct", Platform::Instagram),
        ] {
            assert_eq!(
                last_inbound(&state, account, platform, "6830112345678901").expect("read"),
                None
            );
        }
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
        let state = Memory::default();
        state
            .set(&key("a", Platform::Messenger, "1"), b"yesterday")
            .expect("stored");
        assert_eq!(
            last_inbound(&state, "a", Platform::Messenger, "1").expect("read"),
            None,
            "an unreadable mark counts as none"
        );
    }
}
