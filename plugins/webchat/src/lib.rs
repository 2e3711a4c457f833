//! Plugin `webchat`: Silta's own web chat as a channel.
//! See `README.md` for the frames, the identity token and the manifest.
//!
//! The browser never talks to this plugin directly. The host's web chat
//! gateway (`silta-webchat`) authenticates each visitor with a session it
//! signed itself, and hands what the widget sends to [`Channel::normalize`]
//! with the visitor's id in the transport metadata, which only the host can
//! set. So:
//!
//! - inbound: [`gateway::visitor`] takes the visitor from the gateway's
//!   metadata (an event posted to the ingest API instead is refused),
//!   [`identity_token`] verifies a signed-in user's token, and
//!   [`mapping::normalize`] turns a `message` frame into an interaction and
//!   a `receipt` frame into delivery updates;
//! - outbound: [`outbound::render`] asks the gateway to show the reply in
//!   the visitor's widget, and [`response::interpret`] reads its answer.

pub mod frames;
pub mod gateway;
pub mod identity_token;
pub mod mapping;
pub mod outbound;
pub mod response;

use silta_sdk::secrets::{HashAlgorithm, Secret};
use silta_sdk::types::{
    DeliveryOutcome, IdentityKind, InboundEvent, Normalized, OutboundMessage, PluginError,
    PluginInfo, TransportRequest, TransportResponse,
};
use silta_sdk::{Channel, Plugin};

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "webchat";

/// The plugin.
pub struct Webchat;

// === impl Webchat ===

impl Plugin for Webchat {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Web chat",
            "Silta's own web chat: what visitors write in the widget in (identity tokens verified), agent replies out to the widget through the host's gateway.",
        )
        .with_identity_kinds([
            IdentityKind::WebchatVisitor,
            IdentityKind::Email,
            IdentityKind::Phone,
        ])
    }
}

impl Channel for Webchat {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        let verify = |data: &[u8], signature: &[u8]| -> Result<bool, PluginError> {
            let secret = Secret::open(identity_token::SECRET).map_err(|_| {
                PluginError::unauthorized(
                    "this web chat accepts no identity tokens: no `identity-secret` is configured",
                )
            })?;
            Ok(secret.verify_hmac(HashAlgorithm::Sha256, data, signature))
        };
        mapping::normalize(&event, verify).inspect_err(|error| {
            // Never the frame: it holds what the visitor wrote.
            silta_sdk::warn!("refused a web chat event: {}", error.message());
        })
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        outbound::render(&message)
    }

    fn interpret_response(
        _request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        response::interpret(&response)
    }
}

silta_sdk::export_channel!(Webchat);
