//! Plugin `whatsapp`: the WhatsApp Business Cloud API as a Silta channel.
//! See `README.md` for the payloads, the manifest and the configuration.
//!
//! - inbound: [`signature::verify`] checks `X-Hub-Signature-256`,
//!   [`mapping::normalize`] turns every message and status of the webhook
//!   into interactions and delivery updates, and [`window::remember_all`]
//!   records when each customer last wrote;
//! - outbound: [`outbound::render`] builds the Graph API `POST …/messages`
//!   (free-form only inside the 24-hour window, templates always) and
//!   [`response::interpret`] reads the answer.

pub mod compose;
pub mod content;
pub mod mapping;
pub mod outbound;
pub mod payload;
pub mod response;
pub mod window;

/// The `X-Hub-Signature-256` check, shared with the other Meta plugins.
pub use silta_meta_webhook::signature;

use silta_sdk::secrets::Secret;
use silta_sdk::types::{
    DeliveryOutcome, IdentityKind, InboundEvent, Normalized, OutboundMessage, PluginError,
    PluginInfo, TransportRequest, TransportResponse,
};
use silta_sdk::{Channel, Plugin, config, time};

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "whatsapp";

/// The secret (by its manifest name) holding the Graph API access token.
pub const ACCESS_TOKEN: &str = "access-token";

/// The plugin.
pub struct Whatsapp;

// === impl Whatsapp ===

impl Plugin for Whatsapp {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "WhatsApp",
            "WhatsApp Business Cloud API channel: signed webhooks in, Graph API messages out, inside the 24-hour customer service window.",
        )
        .with_identity_kinds([IdentityKind::Whatsapp])
    }
}

impl Channel for Whatsapp {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        // Refuse an oversized body before the host hashes it.
        mapping::check_size(&event.body)?;
        signature::verify(&event).inspect_err(|error| {
            // Never the payload: it holds personal data.
            silta_sdk::warn!("refused an inbound event: {}", error.message());
        })?;
        let inbound = mapping::normalize(&event)?;
        window::remember_all(&window::Kv, &inbound.contacts)?;
        Ok(inbound.normalized)
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        let settings = outbound::Settings::from_config(config::get)?;
        let token = Secret::open(ACCESS_TOKEN)?;
        let authorization = format!("Bearer {}", token.header_placeholder());
        outbound::render(
            &message,
            &settings,
            &authorization,
            |wa_id| window::last_inbound(&window::Kv, &settings.phone_number_id, wa_id),
            time::now(),
        )
    }

    fn interpret_response(
        _request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        response::interpret(&response)
    }
}

silta_sdk::export_channel!(Whatsapp);
