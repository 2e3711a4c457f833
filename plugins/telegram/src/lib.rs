//! Plugin `telegram`: the Telegram Bot API as a Silta channel.
//! See `README.md` for the payloads, the manifest and the configuration.
//!
//! - inbound: [`secret_token::verify`] checks
//!   `X-Telegram-Bot-Api-Secret-Token` without reading the secret, and
//!   [`mapping::normalize`] turns one webhook `Update` into an interaction
//!   (or nothing, for updates that carry no customer message);
//! - outbound: [`outbound::render`] builds the Bot API `POST
//!   {api_url}/bot<token>/sendMessage` (or `sendPhoto`, `sendDocument`,
//!   `sendLocation`, `sendVenue`), the token being a secret placeholder
//!   the host fills in, and [`response::interpret`] reads the answer.

pub mod content;
pub mod mapping;
pub mod outbound;
pub mod payload;
pub mod response;
pub mod secret_token;

use silta_sdk::secrets::Secret;
use silta_sdk::types::{
    DeliveryOutcome, IdentityKind, InboundEvent, Normalized, OutboundMessage, PluginError,
    PluginInfo, TransportRequest, TransportResponse,
};
use silta_sdk::{Channel, Plugin, config};

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "telegram";

/// The secret (by its manifest name) holding the bot token from
/// @BotFather (`123456:ABC-DEF…`).
pub const BOT_TOKEN: &str = "bot-token";

/// The plugin.
pub struct Telegram;

// === impl Telegram ===

impl Plugin for Telegram {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Telegram",
            "Telegram Bot API channel: webhook updates in (secret-token checked by the host), Bot API sendMessage/sendPhoto/sendDocument/sendLocation out.",
        )
        .with_identity_kinds([IdentityKind::Telegram])
    }
}

impl Channel for Telegram {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        // Refuse an oversized body before anything reads it.
        mapping::check_size(&event.body)?;
        secret_token::verify(&event).inspect_err(|error| {
            // Never the payload: it holds personal data.
            silta_sdk::warn!("refused an inbound event: {}", error.message());
        })?;
        mapping::normalize(&event)
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        let settings = outbound::Settings::from_config(config::get)?;
        let token = Secret::open(BOT_TOKEN)?;
        outbound::render(&message, &settings, &token.header_placeholder())
    }

    fn interpret_response(
        _request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        response::interpret(&response)
    }
}

silta_sdk::export_channel!(Telegram);
