//! The one place that runs `bindgen!` over `sdk/wit`.
//!
//! The host world lists Silta's own imports and every export; `wasi:*`
//! imports come from wasmtime-wasi and wasmtime-wasi-http. Nothing outside
//! [`crate::conversions`] should touch these generated types.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../sdk/wit",
    world: "silta:connector/host",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "silta:connector/secrets.secret": crate::capabilities::secrets::SecretHandle,
    },
});

pub use exports::silta::connector::backoffice_api as backoffice_export;
pub use exports::silta::connector::channel_api as channel_export;
pub use exports::silta::connector::plugin as plugin_export;
pub use silta::connector::types as wit;
