//! Plugin `messenger`: Facebook Messenger and Instagram messaging (one
//! Meta platform, the Messenger Platform) as a Silta channel. See
//! `README.md` for the payloads, the manifest and the configuration.
//!
//! - inbound: [`signature::verify`] checks `X-Hub-Signature-256`,
//!   [`mapping::normalize`] turns the webhook's messaging events into
//!   interactions and delivery updates, and [`window::remember_all`]
//!   records when each customer last wrote;
//! - outbound: [`outbound::render`] builds the Send API
//!   `POST …/{page_id}/messages` (standard messaging within 24 hours,
//!   `HUMAN_AGENT` within 7 days when enabled, nothing after) and
//!   [`response::interpret`] reads the answer.

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
pub const ID: &str = "messenger";

/// The secret (by its manifest name) holding the Page access token.
pub const ACCESS_TOKEN: &str = "access-token";

/// The secret (by its manifest name) holding the webhook verify token.
/// The plugin never opens it: the host answers Meta's `GET` handshake
/// with it (`[webhook_handshake]` in `plugin.toml`).
pub const VERIFY_TOKEN: &str = "verify-token";

/// The plugin.
pub struct Messenger;

// === impl Messenger ===

impl Plugin for Messenger {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Messenger and Instagram",
            "Facebook Messenger and Instagram messaging channel: signed webhooks in, Send API messages out, inside Meta's messaging window.",
        )
        .with_identity_kinds([IdentityKind::Messenger, IdentityKind::Instagram])
    }
}

impl Channel for Messenger {
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
            |platform, user_id| {
                window::last_inbound(&window::Kv, &message.channel_account, platform, user_id)
            },
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

silta_sdk::export_channel!(Messenger);
