//! An activity as a comment on the BottleCRM contact: the contact's history,
//! which is what an agent opening the contact sees.
//!
//! BottleCRM keeps at most 255 characters per comment (and silently drops a
//! longer one), so the comment is a summary: direction, channel, time and
//! subject on the first line, the text with its whitespace collapsed and cut
//! to fit, and a marker naming the Silta interaction on the last line. The
//! whole interaction stays in Silta's timeline. The marker makes recording
//! idempotent: a retried call finds the comment it already made.

use serde::Deserialize;
use serde_json::Value;
use silta_sdk::types::{Activity, BackofficeLink, Direction};
use silta_sdk::{PluginError, time};

use crate::mapping::reply::truncate;
use crate::mapping::{SYSTEM, collapse, parse};
use crate::settings::Settings;

/// `object-type` of a comment's link.
pub const OBJECT_TYPE: &str = "contact-comment";

/// BottleCRM's limit on a comment, in characters.
pub const LIMIT: usize = 255;

const CHANNEL_LIMIT: usize = 32;
const SUBJECT_LIMIT: usize = 80;
const INTERACTION_ID_LIMIT: usize = 64;

/// A comment as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    /// Its id.
    pub id: u64,
    /// Its text.
    #[serde(default)]
    pub comment: Option<String>,
    /// When it was made (RFC 3339, the CRM's time zone).
    #[serde(default)]
    pub commented_on: Option<String>,
}

/// The marker on the last line of the comment for `interaction_id`.
pub fn marker(interaction_id: &str) -> String {
    format!("[silta {interaction_id}]")
}

/// The comment's text: at most [`LIMIT`] characters, ending in the marker.
///
/// ```text
/// Inbound email, 2026-11-23 20:54 UTC: Where is my order?
/// Hello, I ordered a blue kettle on Monday and it has not arrived yet…
/// [silta 01936f4e-8a52-7c3e-9d4f-123456789abc]
/// ```
pub fn text(activity: &Activity) -> Result<String, PluginError> {
    let id = activity.interaction_id.trim();
    if id.is_empty()
        || id.chars().count() > INTERACTION_ID_LIMIT
        || id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ']')
    {
        return Err(PluginError::bad_input(format!(
            "`interaction-id` `{}` is not an interaction id",
            truncate(&activity.interaction_id, INTERACTION_ID_LIMIT)
        )));
    }
    let at = time::to_rfc3339(&activity.occurred_at)
        .ok_or_else(|| PluginError::bad_input("`occurred-at` is outside the years 1970 to 9999"))?;
    // `2026-11-23T20:54:41.123Z` -> `2026-11-23 20:54 UTC`
    let when = match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(minute)) => format!("{day} {minute} UTC"),
        _ => at.clone(),
    };
    let direction = match activity.direction {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
    };
    let channel = truncate(&collapse(&activity.channel), CHANNEL_LIMIT);
    let mut head = format!("{direction} {channel}, {when}");
    if let Some(subject) = activity
        .subject
        .as_deref()
        .map(collapse)
        .filter(|s| !s.is_empty())
    {
        head.push_str(": ");
        head.push_str(&truncate(&subject, SUBJECT_LIMIT));
    }
    let marker = marker(id);
    let body = collapse(&activity.text);
    // Two line breaks between the three parts.
    let room = LIMIT
        .saturating_sub(head.chars().count())
        .saturating_sub(marker.chars().count())
        .saturating_sub(2);
    Ok(if body.is_empty() || room < 2 {
        format!("{head}\n{marker}")
    } else {
        format!("{head}\n{}\n{marker}", truncate(&body, room))
    })
}

/// The comments in a contact's detail answer (`{"comments": [...]}`).
pub fn from_detail(value: &Value) -> Result<Vec<Comment>, PluginError> {
    parse(value.get("comments"), "the contact's `comments`")
}

/// The comment carrying `marker`, if any.
pub fn find<'a>(comments: &'a [Comment], marker: &str) -> Option<&'a Comment> {
    comments
        .iter()
        .find(|c| c.comment.as_deref().is_some_and(|t| t.contains(marker)))
}

/// The link to `comment` on contact `contact_id`; its URL is the contact's,
/// where the comment shows.
pub fn link(comment: &Comment, contact_id: u64, settings: &Settings) -> BackofficeLink {
    let mut snapshot = vec![
        ("contact_id".to_owned(), contact_id.to_string()),
        (
            "comment".to_owned(),
            comment.comment.clone().unwrap_or_default(),
        ),
    ];
    if let Some(at) = &comment.commented_on {
        snapshot.push(("commented_on".to_owned(), at.clone()));
    }
    BackofficeLink {
        system: SYSTEM.to_owned(),
        object_type: OBJECT_TYPE.to_owned(),
        remote_id: comment.id.to_string(),
        url: Some(settings.contact_url(contact_id)),
        snapshot,
    }
}
