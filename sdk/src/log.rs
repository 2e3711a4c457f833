//! Logging into the host's `tracing`, tagged with the plugin id.
//!
//! Without the `log` capability the host drops the records silently, so
//! logging never makes a plugin fail. The host keeps at most 4 KiB of a
//! message and 32 fields. Never log secrets or whole payloads (they hold
//! personal data); log ids and decisions.
//!
//! In a native build (unit tests) records go to standard error.
//!
//! ```
//! silta_sdk::info!("refused event {}: no signature", "evt-1");
//! silta_sdk::log::log(silta_sdk::log::Level::Debug, "mapped", &[("parts", "2")]);
//! ```

/// How important a record is.
pub use crate::bindings::base::silta::connector::log::Level;

/// Logs `message` at `level` with key/value `fields`.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    #[cfg(target_arch = "wasm32")]
    {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        crate::bindings::base::silta::connector::log::log(level, message, &fields);
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let fields: String = fields
            .iter()
            .map(|(name, value)| format!(" {name}={value}"))
            .collect();
        eprintln!("[{level:?}] {message}{fields}");
    }
}

/// Logs `message` at `trace`.
pub fn trace(message: &str) {
    log(Level::Trace, message, &[]);
}

/// Logs `message` at `debug`.
pub fn debug(message: &str) {
    log(Level::Debug, message, &[]);
}

/// Logs `message` at `info`.
pub fn info(message: &str) {
    log(Level::Info, message, &[]);
}

/// Logs `message` at `warn`.
pub fn warn(message: &str) {
    log(Level::Warn, message, &[]);
}

/// Logs `message` at `error`.
pub fn error(message: &str) {
    log(Level::Error, message, &[]);
}

/// Logs a `format!`-style message at `trace`.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log::trace(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at `debug`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::debug(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at `info`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::info(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at `warn`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::warn(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at `error`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::error(&::std::format!($($arg)+)) };
}
