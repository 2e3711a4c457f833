//! Plugin `alloc`: `normalize` keeps allocating 1 MiB blocks and never frees
//! them, so the store's memory limit must stop it (the allocation fails and
//! the guest traps).

use guest_kit::exports::silta::connector::{channel_api, plugin};
use guest_kit::silta::connector::types::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, PluginError, PluginInfo,
    TransportRequest, TransportResponse,
};

const BLOCK_BYTES: usize = 1024 * 1024;

struct Alloc;

impl plugin::Guest for Alloc {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info("alloc", "Allocates without end in normalize.")
    }
}

impl channel_api::Guest for Alloc {
    fn normalize(_event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Non-zero bytes so every page is really written.
            hoard.push(core::hint::black_box(vec![1u8; BLOCK_BYTES]));
            core::hint::black_box(&hoard);
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

guest_kit::export_channel!(Alloc);
