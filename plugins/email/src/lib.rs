//! Plugin `email`: the email channel. Raw RFC 5322 messages come in from
//! the host's IMAP transport and become interactions (or, for bounces,
//! delivery updates); replies go out as complete messages for the host's
//! SMTP transport. See `README.md` for the configuration, the threading
//! rules and an example.
//!
//! - inbound: [`mapping::normalize`] (with [`dsn`] for bounces,
//!   [`quote`] for quoted history and [`legacy_charset`] for 8-bit mail
//!   that is not the UTF-8 it claims);
//! - outbound: [`outbound::render`] and [`outbound::interpret_response`].

pub mod dsn;
pub mod ids;
pub mod legacy_charset;
pub mod mapping;
pub mod outbound;
pub mod quote;

use silta_sdk::types::{
    DeliveryOutcome, IdentityKind, InboundEvent, Normalized, OutboundMessage, PluginError,
    PluginInfo, TransportRequest, TransportResponse,
};
use silta_sdk::{Channel, Plugin, config, time};

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "email";

/// The plugin.
pub struct Email;

// === impl Email ===

impl Plugin for Email {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Email",
            "Email in over IMAP and out over SMTP, threaded by Message-ID, References and reply tokens.",
        )
        .with_identity_kinds([IdentityKind::Email])
    }
}

impl Channel for Email {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        mapping::check_size(&event.body)?;
        let settings = mapping::Settings {
            address: config::get(outbound::ADDRESS_KEY).filter(|a| !a.trim().is_empty()),
        };
        mapping::normalize(&event, &settings).inspect_err(|error| {
            // Never the message: it holds personal data.
            silta_sdk::warn!("refused an inbound message: {}", error.message());
        })
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        let sender = outbound::Sender::from_config(
            config::get(outbound::ADDRESS_KEY).as_deref(),
            config::get(outbound::DOMAIN_KEY).as_deref(),
            config::get(outbound::NAME_KEY).as_deref(),
        )?;
        outbound::render(&message, &sender, time::now().seconds)
    }

    fn interpret_response(
        request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        outbound::interpret_response(&request, &response)
    }
}

silta_sdk::export_channel!(Email);
