//! `record-activity`: a comment on the party's BottleCRM contact.
//!
//! Calls: `GET /api/contacts/<id>/` (the contact exists, and has no comment
//! for this interaction yet: a retried call returns the one it made), then
//! `POST /api/contacts/<id>/` with `{"comment": ...}`, whose answer lists
//! the contact's comments, the new one among them.

use serde_json::json;
use silta_sdk::PluginError;
use silta_sdk::types::{Activity, BackofficeLink};

use crate::mapping::{comment, contact_ids, reply};
use crate::ops::send;
use crate::settings::Settings;
use crate::transport::{Method, Transport};

/// Records `activity` on the first BottleCRM contact among its party links.
pub fn record(
    crm: &impl Transport,
    settings: &Settings,
    activity: &Activity,
) -> Result<BackofficeLink, PluginError> {
    let Some(&contact_id) = contact_ids(&activity.party_links)?.first() else {
        return Err(PluginError::bad_input(
            "`party-links` holds no bottlecrm contact; look the party up first \
             (lookup-party returns the link)",
        ));
    };
    let text = comment::text(activity)?;
    let marker = comment::marker(activity.interaction_id.trim());
    let path = format!("/contacts/{contact_id}/");

    let answer = crm.send(Method::Get, &path, None)?;
    if answer.status == 404 {
        return Err(PluginError::permanent(format!(
            "contact {contact_id} is no longer in BottleCRM; look the party up again"
        )));
    }
    let existing = comment::from_detail(&reply::json(&answer, "reading the contact")?)?;
    if let Some(done) = comment::find(&existing, &marker) {
        silta_sdk::debug!("contact {contact_id} already has comment {}", done.id);
        return Ok(comment::link(done, contact_id, settings));
    }

    let answer = send(crm, Method::Post, &path, &json!({ "comment": text }))?;
    let comments = comment::from_detail(&reply::json(&answer, "commenting on the contact")?)?;
    let made = comment::find(&comments, &marker).ok_or_else(|| {
        PluginError::permanent(format!(
            "BottleCRM accepted the comment on contact {contact_id} but did not keep it"
        ))
    })?;
    silta_sdk::debug!("recorded comment {} on contact {contact_id}", made.id);
    Ok(comment::link(made, contact_id, settings))
}
