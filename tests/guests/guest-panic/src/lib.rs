//! Plugin `panic`: `normalize` panics, so the call traps. The sandbox tests
//! use it to check that a trap becomes an error for this plugin only.

use guest_kit::exports::silta::connector::{channel_api, plugin};
use guest_kit::silta::connector::types::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, PluginError, PluginInfo,
    TransportRequest, TransportResponse,
};

struct Panic;

impl plugin::Guest for Panic {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info("panic", "Panics in normalize.")
    }
}

impl channel_api::Guest for Panic {
    fn normalize(_event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        panic!("guest panicked on purpose");
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

guest_kit::export_channel!(Panic);
