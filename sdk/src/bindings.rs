//! The one place the SDK runs `wit_bindgen::generate!` over `sdk/wit`.
//!
//! A component's world is the union of the `component-type` custom sections
//! linked into its `.wasm`, and every export a section names must be
//! implemented. With `pub_export_macro`, wit-bindgen puts only a world's
//! *imports* into this crate's section and emits the full section from the
//! export macro, in the plugin's own crate. So the SDK binds three small
//! worlds (declared inline below, on top of `silta:connector`), one per
//! export interface, and each `export_*!` macro of the SDK links exactly
//! the ones the plugin implements:
//!
//! | module         | world                | brings                                 |
//! |----------------|----------------------|----------------------------------------|
//! | [`base`]       | `plugin-exports`     | every import, the types, `plugin`      |
//! | [`channel`]    | `channel-exports`    | `channel-api`                          |
//! | [`backoffice`] | `backoffice-exports` | `backoffice-api`                       |
//!
//! `base` + `channel` is the `channel` world, `base` + `backoffice` the
//! `backoffice` world, all three `channel-and-backoffice`. Binding
//! `channel-and-backoffice` in one go cannot work: its section would make a
//! channel-only plugin promise `backoffice-api` too, and wit-bindgen never
//! maps an *export* onto other bindings, so two bindings that share an
//! export clash on its `#[macro_export]` glue macro.
//!
//! Generated code is not ours to lint or document; the author-facing API
//! lives in the other modules.

#![allow(
    missing_docs,
    unsafe_code,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used
)]

/// Every import, the shared types, and the `plugin` export.
pub mod base {
    wit_bindgen::generate!({
        world: "plugin-exports",
        path: "wit",
        inline: "
            package silta:sdk@0.1.0;

            world plugin-exports {
                include silta:connector/capabilities@0.2.1;
                export silta:connector/plugin@0.2.1;
            }

            world channel-exports {
                export silta:connector/channel-api@0.2.1;
            }

            world backoffice-exports {
                export silta:connector/backoffice-api@0.2.1;
            }
        ",
        generate_all,
        // `PartialEq` for the contact-format records, so plugin tests can
        // compare values; enums already have it. (Not on every type: some
        // `wasi` types hold resources.)
        additional_type_attributes: {
            "silta:connector/types@0.2.1/timestamp": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/plugin-error": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/retryable-error": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/identity-kind": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/identity-scope": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/identity": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/thread-key": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/attachment": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/location": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/interactive-reply": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/template": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/part": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/reaction": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/email-headers": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/interaction": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/delivery-update": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/normalized": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/transport-meta": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/http-meta": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/imap-meta": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/inbound-event": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/outbound-message": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/http-request": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/email-request": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/transport-request": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/transport-response": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/http-response": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/smtp-reply": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/delivery-outcome": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/backoffice-link": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/background": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/activity": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/ticket": [#[derive(PartialEq)]],
            "silta:connector/types@0.2.1/plugin-info": [#[derive(PartialEq)]],
        },
        pub_export_macro: true,
        export_macro_name: "export_plugin_world",
        default_bindings_module: "silta_sdk::__private::base",
        runtime_path: "silta_sdk::__private::wit_bindgen::rt",
    });
}

/// The `channel-api` export; types come from [`base`].
pub mod channel {
    wit_bindgen::generate!({
        world: "channel-exports",
        path: "wit",
        inline: "
            package silta:sdk@0.1.0;

            world plugin-exports {
                include silta:connector/capabilities@0.2.1;
                export silta:connector/plugin@0.2.1;
            }

            world channel-exports {
                export silta:connector/channel-api@0.2.1;
            }

            world backoffice-exports {
                export silta:connector/backoffice-api@0.2.1;
            }
        ",
        with: {
            "silta:connector/types@0.2.1": silta_sdk::__private::base::silta::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "export_channel_world",
        default_bindings_module: "silta_sdk::__private::channel",
        runtime_path: "silta_sdk::__private::wit_bindgen::rt",
    });
}

/// The `backoffice-api` export; types come from [`base`].
pub mod backoffice {
    wit_bindgen::generate!({
        world: "backoffice-exports",
        path: "wit",
        inline: "
            package silta:sdk@0.1.0;

            world plugin-exports {
                include silta:connector/capabilities@0.2.1;
                export silta:connector/plugin@0.2.1;
            }

            world channel-exports {
                export silta:connector/channel-api@0.2.1;
            }

            world backoffice-exports {
                export silta:connector/backoffice-api@0.2.1;
            }
        ",
        with: {
            "silta:connector/types@0.2.1": silta_sdk::__private::base::silta::connector::types,
        },
        pub_export_macro: true,
        export_macro_name: "export_backoffice_world",
        default_bindings_module: "silta_sdk::__private::backoffice",
        runtime_path: "silta_sdk::__private::wit_bindgen::rt",
    });
}
