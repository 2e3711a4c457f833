//! Where the Graph API is: the operator's `graph_url` and `api_version`,
//! read and checked the same way by every Meta plugin.

use silta_sdk::PluginError;
use silta_sdk::validate;

/// Config key: the Graph API origin.
pub const GRAPH_URL_KEY: &str = "graph_url";
/// Config key: the Graph API version.
pub const API_VERSION_KEY: &str = "api_version";
/// Where the Graph API is unless `graph_url` says otherwise.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
/// The Graph API version unless `api_version` says otherwise.
pub const DEFAULT_API_VERSION: &str = "v21.0";

/// `graph_url` (trimmed, no trailing `/`) and `api_version` (`vNN.N`) from
/// `value` (a config reader that gives `None` for unset or blank keys), or
/// their defaults; a wrong value is `permanent`, naming the key to fix.
pub fn endpoint(value: impl Fn(&str) -> Option<String>) -> Result<(String, String), PluginError> {
    let graph_url = value(GRAPH_URL_KEY).unwrap_or_else(|| DEFAULT_GRAPH_URL.to_owned());
    let graph_url = graph_url.trim_end_matches('/').to_owned();
    validate::http_url(GRAPH_URL_KEY, &graph_url)
        .map_err(|error| PluginError::permanent(format!("config key {}", error.message())))?;
    let api_version = value(API_VERSION_KEY).unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
    let well_formed = api_version.strip_prefix('v').is_some_and(|number| {
        number.split_once('.').is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    });
    if !well_formed {
        return Err(PluginError::permanent(format!(
            "config key `{API_VERSION_KEY}` must be a Graph API version such as \"{DEFAULT_API_VERSION}\", got {api_version:?}"
        )));
    }
    Ok((graph_url, api_version))
}
