//! Plugin `forbidden-http`: `normalize` fetches the URL that is the whole
//! event body. The sandbox tests point it at a host the plugin was not
//! granted and expect `permanent("http error: ErrorCode::HttpRequestDenied")`.

use guest_kit::exports::silta::connector::{channel_api, plugin};
use guest_kit::silta::connector::types::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, PluginError, PluginInfo,
    TransportRequest, TransportResponse,
};

struct ForbiddenHttp;

impl plugin::Guest for ForbiddenHttp {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info("forbidden-http", "GETs the URL given as the event body.")
    }
}

impl channel_api::Guest for ForbiddenHttp {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        let url = std::str::from_utf8(&event.body)
            .map_err(|e| PluginError::BadInput(format!("the body is not a UTF-8 URL: {e}")))?
            .trim();
        let text = guest_kit::http_get_summary(url, &[])?;
        let interaction = guest_kit::text_interaction(
            "customer@example.test",
            "forbidden-http-1",
            event.received_at,
            text,
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

guest_kit::export_channel!(ForbiddenHttp);
