//! How one web chat channel account is offered to sites: the
//! `webchat = { ... }` table of a channel account in Silta's
//! configuration.

use serde::Deserialize;

/// How one web chat channel account is offered to sites.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebchatSettings {
    /// Origins of the sites that embed the widget
    /// (`"https://shop.example.com"`, scheme, host and port only); others
    /// get no CORS headers and no socket.
    pub allowed_origins: Vec<String>,
    /// Largest file a visitor may upload, in bytes (default 10 MiB).
    #[serde(default = "default_max_upload_bytes")]
    pub max_upload_bytes: usize,
    /// Media types a visitor may upload (default `image/*`,
    /// `application/pdf`, `text/plain`).
    #[serde(default = "default_upload_media_types")]
    pub upload_media_types: Vec<String>,
}

fn default_max_upload_bytes() -> usize {
    10 * 1024 * 1024
}

fn default_upload_media_types() -> Vec<String> {
    ["image/*", "application/pdf", "text/plain"]
        .map(String::from)
        .to_vec()
}

impl WebchatSettings {
    /// What is wrong with the settings, if anything.
    #[must_use]
    pub fn problem(&self) -> Option<String> {
        for origin in &self.allowed_origins {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let plain = rest.is_some_and(|host| {
                !host.is_empty()
                    && host.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    })
            });
            if !plain {
                return Some(format!(
                    "webchat.allowed_origins: {origin:?} is not an origin; write scheme, host and port only (`https://shop.example.com`)"
                ));
            }
        }
        if let Some(bad) = self.upload_media_types.iter().find(|t| {
            t.split_once('/')
                .is_none_or(|(a, b)| a.is_empty() || b.is_empty())
        }) {
            return Some(format!(
                "webchat.upload_media_types: {bad:?} is not a media type or `type/*`"
            ));
        }
        None
    }
}
