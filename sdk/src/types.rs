//! The WIT types of `silta:connector@0.2.1` as a plugin sees them: the
//! common contact format (interactions, identities, parts), the transport
//! records and [`PluginError`].
//!
//! This path is stable: write `silta_sdk::types::Interaction`, never the
//! generated module it comes from. Constructors and helpers for these types
//! live beside them in the SDK (see [`crate::InteractionBuilder`]).

pub use crate::bindings::base::silta::connector::types::*;
