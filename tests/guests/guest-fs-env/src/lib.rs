//! Plugin `fs-env`: `normalize` reaches for the filesystem and the
//! environment through the standard library and reports what it got, as
//! `fs=<denied|LEAKED:<bytes read>> dir=<denied|LEAKED> env=<denied|LEAKED:<HOME>> vars=<count>`.
//! A sandboxed plugin reports `fs=denied dir=denied env=denied vars=0`.

use guest_kit::exports::silta::connector::{channel_api, plugin};
use guest_kit::silta::connector::types::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, PluginError, PluginInfo,
    TransportRequest, TransportResponse,
};

struct FsEnv;

impl plugin::Guest for FsEnv {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info(
            "fs-env",
            "Reports what the filesystem and environment reveal.",
        )
    }
}

impl channel_api::Guest for FsEnv {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        let fs = match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => format!("LEAKED:{}", text.len()),
            Err(_) => "denied".to_owned(),
        };
        let dir = match std::fs::read_dir("/") {
            Ok(_) => "LEAKED",
            Err(_) => "denied",
        };
        let env = match std::env::var("HOME") {
            Ok(home) => format!("LEAKED:{home}"),
            Err(_) => "denied".to_owned(),
        };
        let vars = std::env::vars_os().count();
        let interaction = guest_kit::text_interaction(
            "customer@example.test",
            "fs-env-1",
            event.received_at,
            format!("fs={fs} dir={dir} env={env} vars={vars}"),
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

guest_kit::export_channel!(FsEnv);
