//! Plugin `twilio`: Twilio Programmable Messaging (SMS and MMS) as a
//! Silta channel. See `README.md` for the payloads, the manifest and the
//! configuration.
//!
//! - inbound: [`signature::verify`] checks `X-Twilio-Signature` (HMAC-SHA1
//!   of the public URL and the sorted parameters, compared by the host),
//!   and [`mapping::normalize`] turns an incoming message into an
//!   interaction and a status callback into a delivery update;
//! - outbound: [`outbound::render`] builds the REST API `POST
//!   {api_url}/2010-04-01/Accounts/{account_sid}/Messages.json`, HTTP Basic
//!   credentials filled in by the host, and [`response::interpret`] reads
//!   the answer.

pub mod mapping;
pub mod outbound;
pub mod payload;
pub mod response;
pub mod signature;

use silta_sdk::secrets::Secret;
use silta_sdk::types::{
    DeliveryOutcome, IdentityKind, InboundEvent, Normalized, OutboundMessage, PluginError,
    PluginInfo, TransportRequest, TransportResponse,
};
use silta_sdk::{Channel, Plugin, config};

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "twilio";

/// The plugin.
pub struct Twilio;

// === impl Twilio ===

impl Plugin for Twilio {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Twilio SMS/MMS",
            "Twilio Programmable Messaging channel: signed SMS/MMS webhooks and status callbacks in, REST API Messages out.",
        )
        .with_identity_kinds([IdentityKind::Phone])
    }
}

impl Channel for Twilio {
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
        let settings = outbound::Settings::from_config(config::get)?;
        let token = Secret::open(signature::SECRET)?;
        let authorization = token.basic_auth_placeholder(&settings.account_sid);
        outbound::render(&message, &settings, &authorization)
    }

    fn interpret_response(
        _request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        response::interpret(&response)
    }
}

silta_sdk::export_channel!(Twilio);
