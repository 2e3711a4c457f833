//! The traits a plugin implements, and their glue to the generated exports.
//!
//! Every function is an associated function without `self`: a call may run
//! in a fresh instance or in one reused from an earlier call, so keep no
//! state between calls in memory (use [`crate::kv`] for state that must
//! survive) and keep `normalize` deterministic: the host replays events.

use std::marker::PhantomData;

use crate::bindings::{backoffice, base, channel};
use crate::types::{
    Activity, Background, BackofficeLink, DeliveryOutcome, Identity, InboundEvent, Normalized,
    OutboundMessage, PluginError, PluginInfo, Ticket, TransportRequest, TransportResponse,
};

/// What every plugin implements: a description of itself.
///
/// The host calls [`Plugin::describe`] when it loads the plugin and refuses
/// it unless the id and version equal those of the manifest
/// (`plugin.toml`), so keep the three in step. Return constants: an
/// operator may have granted the plugin nothing beyond `log`, and
/// `describe` must work all the same.
pub trait Plugin {
    /// The plugin's id, version, name, description and identity kinds.
    fn describe() -> PluginInfo;
}

/// A customer channel: email, chat, messaging, SMS (world `channel`).
pub trait Channel: Plugin {
    /// Turns one raw inbound event into interactions and delivery updates.
    ///
    /// Verify the provider's signature here and refuse a bad one with
    /// [`PluginError::Unauthorized`]. Must be deterministic (no clock, no
    /// random ids): the host replays events after a crash and relies on
    /// getting the same provider message ids back.
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError>;

    /// Turns an outbound message into a request for the host's transport.
    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError>;

    /// Maps the transport's answer to a rendered request into a delivery
    /// outcome; `request` is what [`Channel::render`] returned.
    fn interpret_response(
        request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError>;
}

/// A back-office system: CRM, ERP, ticketing (world `backoffice`).
pub trait Backoffice: Plugin {
    /// What the system knows about the party reached by these identities;
    /// `None` when it knows nothing.
    fn lookup_party(identities: Vec<Identity>) -> Result<Option<Background>, PluginError>;

    /// Records an interaction as an activity and returns its record.
    fn record_activity(activity: Activity) -> Result<BackofficeLink, PluginError>;

    /// Creates a ticket (no `remote_id`) or updates one; returns its record.
    fn upsert_ticket(ticket: Ticket) -> Result<BackofficeLink, PluginError>;
}

/// The type the export macros hand to the generated glue: it implements the
/// generated `Guest` traits by calling the author's trait impls.
#[doc(hidden)]
pub struct Export<T>(PhantomData<T>);

// === impl Export ===

impl<T: Plugin> base::exports::silta::connector::plugin::Guest for Export<T> {
    fn describe() -> PluginInfo {
        T::describe()
    }
}

impl<T: Channel> channel::exports::silta::connector::channel_api::Guest for Export<T> {
    fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
        T::normalize(event)
    }

    fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
        T::render(message)
    }

    fn interpret_response(
        request: TransportRequest,
        response: TransportResponse,
    ) -> Result<DeliveryOutcome, PluginError> {
        T::interpret_response(request, response)
    }
}

impl<T: Backoffice> backoffice::exports::silta::connector::backoffice_api::Guest for Export<T> {
    fn lookup_party(identities: Vec<Identity>) -> Result<Option<Background>, PluginError> {
        T::lookup_party(identities)
    }

    fn record_activity(activity: Activity) -> Result<BackofficeLink, PluginError> {
        T::record_activity(activity)
    }

    fn upsert_ticket(ticket: Ticket) -> Result<BackofficeLink, PluginError> {
        T::upsert_ticket(ticket)
    }
}
