//! The translation between BottleCRM's API and the contact format, pure: no
//! host calls, so `cargo test` runs all of it natively.
//!
//! - [`reply`]: what an answer means (a body, or an error of the right case);
//! - [`contact`]: contacts, the party's background, new contacts;
//! - [`comment`]: an activity as a contact comment;
//! - [`case`]: a ticket as a case.

pub mod case;
pub mod comment;
pub mod contact;
pub mod reply;

use serde::de::DeserializeOwned;
use serde_json::Value;
use silta_sdk::PluginError;
use silta_sdk::types::BackofficeLink;

/// `system` of every link this plugin makes and reads.
pub const SYSTEM: &str = "bottlecrm";

/// Reads `value` as a `T`; a missing or differently shaped value is a
/// `bad-input` error naming `what` (BottleCRM, or something posing as it,
/// answered in a shape this plugin does not know).
pub fn parse<T: DeserializeOwned>(value: Option<&Value>, what: &str) -> Result<T, PluginError> {
    let value =
        value.ok_or_else(|| PluginError::bad_input(format!("BottleCRM's answer has no {what}")))?;
    T::deserialize(value).map_err(|error| {
        PluginError::bad_input(format!(
            "BottleCRM's answer has {what} of an unknown shape: {error}"
        ))
    })
}

/// The BottleCRM contact ids among a party's links (`system` `bottlecrm`,
/// `object-type` `contact`), in order, without repeats.
pub fn contact_ids(links: &[BackofficeLink]) -> Result<Vec<u64>, PluginError> {
    let mut ids = Vec::new();
    for link in links {
        if link.system.eq_ignore_ascii_case(SYSTEM) && link.object_type == contact::OBJECT_TYPE {
            let id = remote_id("party-links[].remote-id", &link.remote_id)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// A BottleCRM id (a positive integer) from `raw`; anything else is
/// `bad-input` naming `field`. Ids go into URL paths, so this is strict.
pub fn remote_id(field: &str, raw: &str) -> Result<u64, PluginError> {
    let trimmed = raw.trim();
    match trimmed.parse::<u64>() {
        Ok(id) if id > 0 && trimmed.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err(PluginError::bad_input(format!(
            "`{field}` is `{raw}`, not a BottleCRM id (a positive whole number)"
        ))),
    }
}

/// Whitespace runs as single spaces, trimmed.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
