//! The Rust SDK for Silta connector plugins.
//!
//! A plugin is a WebAssembly component (`wasm32-wasip2`) that implements
//! the `silta:connector@0.2.1` contract (`sdk/wit/`). With this crate a
//! plugin author writes plain Rust: implement [`Plugin`] and [`Channel`]
//! and/or [`Backoffice`] on a type, and export it with one macro.
//!
//! ```
//! use silta_sdk::types::*;
//! use silta_sdk::{Channel, InteractionBuilder, Plugin};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn describe() -> PluginInfo {
//!         PluginInfo::new("hello", "0.1.0", "Hello", "Turns each request body into a message.")
//!             .with_identity_kinds([IdentityKind::WebchatVisitor])
//!     }
//! }
//!
//! impl Channel for Hello {
//!     fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
//!         let visitor = event
//!             .header("x-visitor-id")
//!             .ok_or_else(|| PluginError::missing("x-visitor-id"))?;
//!         let text = String::from_utf8(event.body.clone())
//!             .map_err(|_| PluginError::bad_input("the body is not UTF-8"))?;
//!         let sender = Identity::new(IdentityKind::WebchatVisitor, visitor);
//!         let id = format!("{visitor}-{}", event.received_at.seconds);
//!         let interaction = InteractionBuilder::inbound_message(sender, id, event.received_at)
//!             .text(text)
//!             .build()?;
//!         Ok(vec![Normalized::Interaction(interaction)])
//!     }
//!
//!     fn render(message: OutboundMessage) -> Result<TransportRequest, PluginError> {
//!         let endpoint = silta_sdk::config::require("endpoint")?;
//!         Ok(TransportRequest::Http(
//!             HttpRequest::post(endpoint).with_body(format!("{:?}", message.parts)),
//!         ))
//!     }
//!
//!     fn interpret_response(
//!         _request: TransportRequest,
//!         response: TransportResponse,
//!     ) -> Result<DeliveryOutcome, PluginError> {
//!         match response {
//!             TransportResponse::Http(r) if r.is_success() => Ok(DeliveryOutcome::sent(None)),
//!             TransportResponse::Http(r) => Ok(DeliveryOutcome::failed(r.status.to_string())),
//!             TransportResponse::Smtp(_) => Err(PluginError::permanent("HTTP only")),
//!         }
//!     }
//! }
//!
//! silta_sdk::export_channel!(Hello);
//! ```
//!
//! What is where:
//!
//! - the contract: [`Plugin`], [`Channel`], [`Backoffice`], and the export
//!   macros [`export_channel!`], [`export_backoffice!`],
//!   [`export_channel_and_backoffice!`];
//! - the contact format as a plugin sees it: [`types`] (the WIT types, with
//!   constructors such as `Identity::email` and [`InteractionBuilder`]) and
//!   [`validate`] (the core's own checks, to refuse bad input early);
//! - host capabilities, each granted per plugin: [`http`], [`kv`],
//!   [`secrets`], [`log`], [`config`], and the clock in [`time`];
//! - [`json`]: a canonical JSON rendering of WIT values for golden files.
//!
//! The crate also builds natively, so a plugin's pure mapping code can be
//! unit-tested with `cargo test`. Outside WebAssembly there is no host:
//! capabilities behave as if not granted (`kv`, `secrets` and `http` are
//! denied, `config` is empty) and [`log`] writes to standard error.

extern crate self as silta_sdk;

mod bindings;
pub mod config;
mod errors;
mod export;
pub mod http;
mod interaction;
pub mod json;
pub mod kv;
pub mod log;
mod plugin;
pub mod secrets;
pub mod time;
mod transport;
pub mod types;
pub mod validate;
mod values;

pub use crate::interaction::InteractionBuilder;
pub use crate::plugin::{Backoffice, Channel, Plugin};
pub use crate::types::PluginError;

/// The `silta-model` crate: the contact format as the core stores it, for
/// plugins that want its types (`EmailAddress`, `PhoneNumber`) directly.
pub use silta_model as model;

/// Result with [`PluginError`] as the default error.
pub type Result<T, E = PluginError> = std::result::Result<T, E>;

/// What the export macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::{backoffice, base, channel};
    pub use crate::plugin::Export;
    pub use wit_bindgen;
}
