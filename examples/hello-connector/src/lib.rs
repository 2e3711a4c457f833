//! Plugin `hello`: a tiny Silta channel, the worked example of
//! `sdk/README.md`.
//!
//! - inbound: [`verify`] checks `x-hello-signature` with the secret
//!   `signing-key`, then [`mapping::normalize`] turns the greeting into an
//!   inbound message;
//! - outbound: `render` POSTs the reply, signed the same way, to the
//!   configured `endpoint`, and `interpret_response` reads the answer.
//!
//! This file holds what needs the host (the secret, the config) and the
//! trait impls; everything else is in [`mapping`], pure and tested natively.

pub mod mapping;

use silta_sdk::secrets::Secret;
use silta_sdk::types::{
    DeliveryOutcome, IdentityKind, InboundEvent, Normalized, OutboundMessage, PluginError,
    PluginInfo, TransportRequest, TransportResponse,
};
use silta_sdk::{Channel, Plugin, config};

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "hello";

/// The secret, by its manifest name, both signatures are keyed with.
pub const SIGNING_KEY: &str = "signing-key";

/// The plugin. It holds no data: the host may call each function on a
/// fresh instance or on a reused one, so nothing may be kept between calls.
pub struct Hello;

// === impl Hello ===

impl Plugin for Hello {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Hello",
            "A tiny channel: signed JSON greetings in, signed replies out.",
        )
        .with_identity_kinds([IdentityKind::Email])
    }
}

impl Channel for Hello {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        // Cheap checks first: a flood of huge bodies should not cost HMACs.
        mapping::check_size(&event.body)?;
        verify(&event)?;
        mapping::normalize(&event)
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        let endpoint = config::require(mapping::ENDPOINT_KEY)?;
        mapping::render(&message, &endpoint, |body| {
            let key = Secret::open(SIGNING_KEY)?;
            Ok(mapping::format_signature(&key.hmac_sha256(body)))
        })
    }

    fn interpret_response(
        _request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        mapping::interpret(&response)
    }
}

/// Refuses the event unless `x-hello-signature` is the HMAC-SHA256 of its
/// body under `signing-key`.
///
/// The key never enters the plugin: the host computes and compares the MAC.
/// A missing, malformed or wrong signature is `unauthorized`; a key the
/// operator has not configured is `permanent`.
pub fn verify(event: &InboundEvent) -> Result<(), PluginError> {
    let signature = mapping::parse_signature(event.header(mapping::SIGNATURE_HEADER))?;
    let key = Secret::open(SIGNING_KEY)?;
    if key.verify_hmac_sha256(&event.body, &signature) {
        return Ok(());
    }
    // Say what was refused, never the payload: it holds personal data.
    silta_sdk::warn!(
        "refused an event on {}: bad signature",
        event.channel_account
    );
    Err(PluginError::unauthorized(format!(
        "`{}` does not match the body; sign the raw body with the shared key",
        mapping::SIGNATURE_HEADER
    )))
}

silta_sdk::export_channel!(Hello);
