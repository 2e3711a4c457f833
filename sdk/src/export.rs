//! The export macros: the one line that turns an author's type into the
//! component's exports.
//!
//! Each macro links the generated glue of exactly the interfaces of its
//! world, together with the `component-type` sections that describe them
//! (see the `bindings` module), so the component exports what the manifest's
//! `worlds` promise and nothing else.
//!
//! Call exactly one of the three macros, once per component: two calls
//! would export `describe` twice and the link fails.
//!
//! The glue is emitted for `wasm32` only. A native build of the plugin
//! crate (its unit tests, or the `cdylib` cargo builds beside them) has
//! no component to export from, and native linkers refuse the WIT export
//! names; it still checks that the type implements the traits.

/// Exports `$plugin` as a plugin of world `channel`: `describe` from
/// [`Plugin`](crate::Plugin) and `normalize`, `render` and
/// `interpret-response` from [`Channel`](crate::Channel).
///
/// Call it once, at the top level of the plugin crate (a `cdylib` built for
/// `wasm32-wasip2`):
///
/// ```ignore
/// struct Webhook;
/// impl silta_sdk::Plugin for Webhook { /* ... */ }
/// impl silta_sdk::Channel for Webhook { /* ... */ }
/// silta_sdk::export_channel!(Webhook);
/// ```
#[macro_export]
macro_rules! export_channel {
    ($plugin:ty) => {
        $crate::__assert_impl!($plugin: $crate::Channel);
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type SiltaExport = $crate::__private::Export<$plugin>;
            $crate::__private::base::export_plugin_world!(
                SiltaExport with_types_in $crate::__private::base
            );
            $crate::__private::channel::export_channel_world!(
                SiltaExport with_types_in $crate::__private::channel
            );
        };
    };
}

/// Exports `$plugin` as a plugin of world `backoffice`: `describe` from
/// [`Plugin`](crate::Plugin) and `lookup-party`, `record-activity` and
/// `upsert-ticket` from [`Backoffice`](crate::Backoffice).
///
/// Call it once, at the top level of the plugin crate.
#[macro_export]
macro_rules! export_backoffice {
    ($plugin:ty) => {
        $crate::__assert_impl!($plugin: $crate::Backoffice);
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type SiltaExport = $crate::__private::Export<$plugin>;
            $crate::__private::base::export_plugin_world!(
                SiltaExport with_types_in $crate::__private::base
            );
            $crate::__private::backoffice::export_backoffice_world!(
                SiltaExport with_types_in $crate::__private::backoffice
            );
        };
    };
}

/// Exports `$plugin` as a plugin of both worlds (world
/// `channel-and-backoffice`): it implements [`Plugin`](crate::Plugin),
/// [`Channel`](crate::Channel) and [`Backoffice`](crate::Backoffice). The
/// manifest then names both: `worlds = ["channel", "backoffice"]`.
///
/// Call it once, at the top level of the plugin crate.
#[macro_export]
macro_rules! export_channel_and_backoffice {
    ($plugin:ty) => {
        $crate::__assert_impl!($plugin: $crate::Channel);
        $crate::__assert_impl!($plugin: $crate::Backoffice);
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type SiltaExport = $crate::__private::Export<$plugin>;
            $crate::__private::base::export_plugin_world!(
                SiltaExport with_types_in $crate::__private::base
            );
            $crate::__private::channel::export_channel_world!(
                SiltaExport with_types_in $crate::__private::channel
            );
            $crate::__private::backoffice::export_backoffice_world!(
                SiltaExport with_types_in $crate::__private::backoffice
            );
        };
    };
}

/// Fails to compile, naming the missing trait, when `$ty` does not
/// implement `$trait` (clearer than an error deep in generated glue).
#[doc(hidden)]
#[macro_export]
macro_rules! __assert_impl {
    ($ty:ty: $trait:path) => {
        const _: fn() = || {
            fn implements<T: $trait>() {}
            implements::<$ty>();
        };
    };
}
