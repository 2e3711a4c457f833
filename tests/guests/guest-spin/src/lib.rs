//! Plugin `spin`: `normalize` never returns and never calls the host, so only
//! the engine's deadline (epoch interruption) can stop it.

use guest_kit::exports::silta::connector::{channel_api, plugin};
use guest_kit::silta::connector::types::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, PluginError, PluginInfo,
    TransportRequest, TransportResponse,
};

struct Spin;

impl plugin::Guest for Spin {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info("spin", "Loops forever in normalize.")
    }
}

impl channel_api::Guest for Spin {
    fn normalize(_event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        let mut turns: u64 = 0;
        loop {
            // `black_box` keeps the optimizer from proving the loop useless.
            turns = core::hint::black_box(turns.wrapping_add(1));
        }
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

guest_kit::export_channel!(Spin);
