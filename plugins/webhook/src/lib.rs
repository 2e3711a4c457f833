//! Plugin `webhook`: a generic JSON messaging channel for systems that can
//! send and receive webhooks. See `README.md` for the payloads, the
//! manifest and the configuration.
//!
//! - inbound: [`signature::verify`] checks `x-silta-signature`, then
//!   [`mapping::normalize`] turns the payload into one interaction or one
//!   delivery update;
//! - outbound: [`outbound::render`] builds the signed `POST` to the
//!   configured endpoint and [`outbound::interpret_response`] reads the
//!   answer.

mod kinds;
pub mod mapping;
pub mod outbound;
mod payload;
pub mod signature;

use silta_sdk::types::{
    DeliveryOutcome, IdentityKind, InboundEvent, Normalized, OutboundMessage, PluginError,
    PluginInfo, TransportRequest, TransportResponse,
};
use silta_sdk::{Channel, Plugin, config};

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "webhook";

/// The plugin.
pub struct Webhook;

// === impl Webhook ===

impl Plugin for Webhook {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Webhook",
            "A generic JSON messaging channel for systems that send and receive signed webhooks.",
        )
        .with_identity_kinds(IdentityKind::KNOWN)
    }
}

impl Channel for Webhook {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        // Refuse an oversized body before the host hashes it.
        mapping::check_size(&event.body)?;
        signature::verify(&event).inspect_err(|error| {
            // Never the payload: it holds personal data.
            silta_sdk::warn!("refused an inbound event: {}", error.message());
        })?;
        mapping::normalize(&event)
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        let endpoint = config::get(outbound::ENDPOINT_KEY);
        outbound::render(&message, endpoint.as_deref(), signature::sign)
    }

    fn interpret_response(
        request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        outbound::interpret_response(&request, &response)
    }
}

silta_sdk::export_channel!(Webhook);
