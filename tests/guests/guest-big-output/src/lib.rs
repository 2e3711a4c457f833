//! Plugin `big-output`: `normalize` returns one interaction whose text part
//! is 100 MiB of `x`, more than the host should accept from a plugin.

use guest_kit::exports::silta::connector::{channel_api, plugin};
use guest_kit::silta::connector::types::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, PluginError, PluginInfo,
    TransportRequest, TransportResponse,
};

const TEXT_BYTES: usize = 100 * 1024 * 1024;

struct BigOutput;

impl plugin::Guest for BigOutput {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info("big-output", "Returns a 100 MiB text part from normalize.")
    }
}

impl channel_api::Guest for BigOutput {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        let interaction = guest_kit::text_interaction(
            "customer@example.test",
            "big-output-1",
            event.received_at,
            "x".repeat(TEXT_BYTES),
        );
        Ok(vec![Normalized::Interaction(interaction)])
    }

    fn render(_message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        Err(guest_kit::not_supported())
    }

    fn interpret_response(
        _request: TransportRequest,
        _response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        Err(guest_kit::not_supported())
    }
}

guest_kit::export_channel!(BigOutput);
