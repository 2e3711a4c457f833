//! The connector compliance suite: the checks every channel plugin must
//! pass, run against the real component in the real runtime.
//!
//! A plugin's test describes itself with a [`ChannelSpec`] (how to start it,
//! where its fixtures are, how its provider delivers events, a sample
//! outbound message) and calls [`check_channel`]. The checks:
//!
//! 1. **golden fixtures**: every readable fixture normalizes to exactly
//!    `NAME.normalized.json` beside it (random ids left out; the harness
//!    receives every event at a fixed time); `BLESS=1` rewrites those files.
//!    Status callbacks are fixtures too: their golden file holds the
//!    delivery update they map to;
//! 2. **idempotency on redelivery**: the same provider event twice gives
//!    the same idempotency keys, which the store holds unique, so a
//!    redelivered webhook is one interaction;
//! 3. **signatures**: for webhooks, a tampered or missing signature is
//!    refused as `unauthorized` (mail is authenticated by the mailbox, not
//!    the message);
//! 4. **bad payloads**: every unreadable fixture gives a `bad-input` error
//!    with a reason (never a trap, never a crash), which the API answers
//!    with a 4xx and the pipeline dead-letters with the reason;
//! 5. **outbound**: `render` gives a well-formed transport request, and the
//!    provider's answers map to delivery outcomes: for HTTP, 2xx sent, 4xx
//!    failed, 5xx retryable; for SMTP, 2xx sent, 4xx retryable, 5xx failed.
//!
//! | module | checks |
//! |--------|--------|
//! | [`fixtures`] | where each kind of channel keeps its fixtures |
//! | [`inbound`] | 1–4 |
//! | [`outbound`] | 5 |

pub mod fixtures;
pub mod inbound;
pub mod outbound;

use std::path::{Path, PathBuf};

use silta_plugin_test::PluginUnderTest;
use silta_plugin_test::contract::OutboundMessage;

pub use inbound::stable_json;

/// How to exercise one channel plugin.
pub struct ChannelSpec {
    /// The plugin, started with its test secrets and configuration.
    pub plugin: PluginUnderTest,
    /// The fixtures folder (see [`Delivery`] for its layout).
    pub fixtures: PathBuf,
    /// How the provider delivers events.
    pub delivery: Delivery,
    /// A message to render.
    pub outbound: OutboundMessage,
}

/// How a channel's provider delivers inbound events to Silta.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    /// Signed HTTP requests (webhooks). Fixtures: `valid/NAME.json` and
    /// `malformed/NAME.json`, or `NAME.form` for form-encoded bodies; each
    /// is posted to the harness's fixed path (`POST /v1/ingest`, no query),
    /// so a signature that covers the URL can be computed from constants.
    Webhook {
        /// Headers that make `body` authentic for this plugin (its
        /// signature).
        sign: fn(&[u8]) -> Vec<(String, String)>,
    },
    /// Events a host component hands over itself, authenticated by the
    /// host (Silta's web chat gateway). Fixtures as for webhooks; each is
    /// delivered with transport metadata `other(meta)`. The same body
    /// arriving over HTTP instead must be refused as `unauthorized`.
    Gateway {
        /// The metadata the host component sets.
        meta: &'static [(&'static str, &'static str)],
    },
    /// Raw RFC 5322 messages read from a mailbox (IMAP). Fixtures: groups
    /// of `GROUP/NAME.eml`.
    Mailbox {
        /// Which messages must be refused as bad input (all others must
        /// normalize).
        unreadable: fn(&Path) -> bool,
    },
}

/// Run every check; panics with a message naming the check and fixture on
/// the first failure. Returns how many fixtures were checked.
pub async fn check_channel(spec: &ChannelSpec) -> usize {
    let (readable, unreadable) = fixtures::of(spec);
    for path in &readable {
        inbound::golden_and_idempotent(spec, path).await;
    }
    match spec.delivery {
        Delivery::Webhook { sign } => inbound::signatures(spec, sign, &readable[0]).await,
        Delivery::Gateway { .. } => inbound::only_through_the_host(spec, &readable[0]).await,
        Delivery::Mailbox { .. } => {}
    }
    for path in &unreadable {
        inbound::bad_input(spec, path).await;
    }
    outbound::check(spec).await;
    readable.len() + unreadable.len()
}
