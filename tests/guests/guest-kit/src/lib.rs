//! Shared bindings and helpers for the sandbox-test guest components.
//!
//! The `silta:connector/channel` world is bound here once, so a guest crate
//! only implements [`exports::silta::connector::plugin::Guest`] and
//! [`exports::silta::connector::channel_api::Guest`] and then calls
//! [`export_channel!`](crate::export_channel). Guests that need another world
//! (`guest-echo` exports `channel-and-backoffice`) run their own `generate!`
//! and map every import onto the modules of this crate with `with:`, so the
//! helpers below work for them too.

extern crate self as guest_kit;

/// Re-exported so a guest's own `generate!` can use `runtime_path`.
pub use wit_bindgen;

wit_bindgen::generate!({
    world: "silta:connector/channel",
    path: "../../../sdk/wit",
    generate_all,
    pub_export_macro: true,
    export_macro_name: "export_channel",
    default_bindings_module: "$crate",
    runtime_path: "guest_kit::wit_bindgen::rt",
});

mod http;
mod interaction;

pub use http::{http_get, http_get_following, http_get_summary};
pub use interaction::{not_supported, plugin_info, text_interaction};
