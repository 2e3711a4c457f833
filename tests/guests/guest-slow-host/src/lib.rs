//! Plugin `slow-host`: `normalize` sleeps for the number of milliseconds in
//! the event body. The sleep is a host call (`wasi:clocks` poll), so it shows
//! whether the deadline also covers time spent blocked in the host.

use std::time::Duration;

use guest_kit::exports::silta::connector::{channel_api, plugin};
use guest_kit::silta::connector::types::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, PluginError, PluginInfo,
    TransportRequest, TransportResponse,
};

struct SlowHost;

impl plugin::Guest for SlowHost {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info(
            "slow-host",
            "Sleeps in a host call for the body's milliseconds.",
        )
    }
}

impl channel_api::Guest for SlowHost {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        let millis: u64 = std::str::from_utf8(&event.body)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| {
                PluginError::BadInput(
                    "the body must be a decimal number of milliseconds".to_owned(),
                )
            })?;
        std::thread::sleep(Duration::from_millis(millis));
        let interaction = guest_kit::text_interaction(
            "customer@example.test",
            "slow-host-1",
            event.received_at,
            "woke",
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

guest_kit::export_channel!(SlowHost);
