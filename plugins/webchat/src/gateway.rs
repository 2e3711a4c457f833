//! What the host's web chat gateway tells the plugin about an event.
//!
//! The gateway hands each frame over with transport metadata
//! `other([("gateway", "webchat"), ("visitor", <id>)])`. Only the host
//! builds that metadata: an event posted to `POST /v1/ingest/{account}`
//! arrives as `http(..)` and is refused, so nobody can write as a visitor
//! without the visitor's session.

use silta_sdk::types::{InboundEvent, PluginError, TransportMeta};

/// The metadata name of the gateway marker.
pub const GATEWAY: &str = "gateway";
/// Its value.
pub const WEBCHAT: &str = "webchat";
/// The metadata name of the visitor's id.
pub const VISITOR: &str = "visitor";
/// The longest visitor id the gateway makes.
pub const MAX_VISITOR_LEN: usize = 64;

/// The visitor the gateway authenticated for `event`.
///
/// An event that did not come through the gateway is `unauthorized`; a
/// gateway event without a well-formed visitor id is `bad-input`.
pub fn visitor(event: &InboundEvent) -> Result<&str, PluginError> {
    let TransportMeta::Other(meta) = &event.transport else {
        return Err(PluginError::unauthorized(
            "web chat events come only through Silta's web chat gateway, which authenticates the visitor",
        ));
    };
    let value = |name: &str| {
        meta.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if value(GATEWAY) != Some(WEBCHAT) {
        return Err(PluginError::unauthorized(
            "web chat events come only through Silta's web chat gateway, which authenticates the visitor",
        ));
    }
    let visitor =
        value(VISITOR).ok_or_else(|| PluginError::bad_input("the gateway named no visitor"))?;
    if !is_token_like(visitor, MAX_VISITOR_LEN) {
        return Err(PluginError::bad_input(format!(
            "the visitor id must be 1–{MAX_VISITOR_LEN} characters of A–Z a–z 0–9 _ -"
        )));
    }
    Ok(visitor)
}

/// `value` is 1 to `max` characters of `A–Z a–z 0–9 _ -`.
#[must_use]
pub fn is_token_like(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
