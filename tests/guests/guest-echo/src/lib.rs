//! Plugin `echo`: the well-behaved guest. Its channel side turns a small JSON
//! command into one call of a capability and reports the result as an
//! interaction (see [`normalize`]); its back-office side answers from fixed
//! data. The sandbox tests use it to prove that granted capabilities work and
//! that a healthy plugin keeps serving next to misbehaving ones.

mod backoffice;
mod normalize;
mod outbound;

// Exports are bound here for `channel-and-backoffice`; every import is the
// one `guest-kit` already bound, so its helpers and types fit.
guest_kit::wit_bindgen::generate!({
    world: "silta:connector/channel-and-backoffice",
    path: "../../../sdk/wit",
    with: {
        "silta:connector/types@0.2.1": guest_kit::silta::connector::types,
        "silta:connector/log@0.2.1": guest_kit::silta::connector::log,
        "silta:connector/kv@0.2.1": guest_kit::silta::connector::kv,
        "silta:connector/secrets@0.2.1": guest_kit::silta::connector::secrets,
        "silta:connector/config@0.2.1": guest_kit::silta::connector::config,
        "wasi:clocks/wall-clock@0.2.12": guest_kit::wasi::clocks::wall_clock,
        "wasi:clocks/monotonic-clock@0.2.12": guest_kit::wasi::clocks::monotonic_clock,
        "wasi:io/poll@0.2.12": guest_kit::wasi::io::poll,
        "wasi:io/error@0.2.12": guest_kit::wasi::io::error,
        "wasi:io/streams@0.2.12": guest_kit::wasi::io::streams,
        "wasi:http/types@0.2.12": guest_kit::wasi::http::types,
        "wasi:http/outgoing-handler@0.2.12": guest_kit::wasi::http::outgoing_handler,
    },
    runtime_path: "guest_kit::wit_bindgen::rt",
});

use exports::silta::connector::{backoffice_api, channel_api, plugin};
use guest_kit::silta::connector::types::{
    Activity, Background, BackofficeLink, DeliveryOutcome, Identity, InboundEvent, Normalized,
    OutboundMessage, PluginError, PluginInfo, Ticket, TransportRequest, TransportResponse,
};

struct Echo;

export!(Echo);

// === impl Echo ===

impl plugin::Guest for Echo {
    fn describe() -> PluginInfo {
        guest_kit::plugin_info(
            "echo",
            "Echoes JSON commands through the host capabilities; a fixed back office.",
        )
    }
}

impl channel_api::Guest for Echo {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        normalize::normalize(event)
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        outbound::render(&message)
    }

    fn interpret_response(
        _request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        outbound::interpret_response(&response)
    }
}

impl backoffice_api::Guest for Echo {
    fn lookup_party(identities: Vec<Identity>) -> Result<Option<Background>, PluginError> {
        Ok(backoffice::lookup(&identities))
    }

    fn record_activity(activity: Activity) -> Result<BackofficeLink, PluginError> {
        Ok(backoffice::link("activity", activity.interaction_id))
    }

    fn upsert_ticket(ticket: Ticket) -> Result<BackofficeLink, PluginError> {
        Ok(backoffice::link(
            "ticket",
            ticket.remote_id.unwrap_or_else(|| "T-1".to_owned()),
        ))
    }
}
