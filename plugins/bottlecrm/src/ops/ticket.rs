//! `upsert-ticket`: create or update a BottleCRM case.
//!
//! Create (no `remote-id`): `GET /api/cases/?name=...` first, in case an
//! earlier try made the case but got no answer (found by the marker in its
//! description: then it is updated instead); `POST /api/cases/`, again with
//! a tagged name when the name is taken; `GET /api/cases/?name=...` to learn
//! the new case's id, which the create answer does not carry.
//!
//! Update: `GET /api/cases/<id>/` (an update replaces every field, so the
//! rest is kept from here), then `PUT /api/cases/<id>/`.

use silta_sdk::PluginError;
use silta_sdk::types::{BackofficeLink, Ticket};

use crate::mapping::case::{self, Case};
use crate::mapping::{contact_ids, remote_id, reply};
use crate::ops::{get, send, taken};
use crate::settings::Settings;
use crate::transport::{Method, Transport, query_value};

/// How many cases a name search reads.
const SEARCH_LIMIT: u32 = 100;

/// Creates or updates the case for `ticket`; `today` (`YYYY-MM-DD`) goes
/// into `closed_on` where BottleCRM needs a date.
pub fn upsert(
    crm: &impl Transport,
    settings: &Settings,
    ticket: &Ticket,
    today: &str,
) -> Result<BackofficeLink, PluginError> {
    case::check_case_id(&ticket.case_id)?;
    let contacts = contact_ids(&ticket.party_links)?;
    match ticket
        .remote_id
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(raw) => {
            let id = remote_id("remote-id", raw)?;
            let existing = read(crm, id)?;
            update(crm, settings, ticket, &existing, &contacts, today)
        }
        None => create(crm, settings, ticket, contacts, today),
    }
}

fn create(
    crm: &impl Transport,
    settings: &Settings,
    ticket: &Ticket,
    contacts: Vec<u64>,
    today: &str,
) -> Result<BackofficeLink, PluginError> {
    let marker = case::marker(&ticket.case_id);
    let mut fields = case::new_case(ticket, contacts, today)?;
    let term = case::search_term(ticket);
    if let Some(earlier) = search(crm, &term, &marker)? {
        silta_sdk::debug!(
            "case {} was made by an earlier try; updating it",
            earlier.id
        );
        return update(crm, settings, ticket, &earlier, &fields.contacts, today);
    }
    let answer = send(crm, Method::Post, "/cases/", &fields.body())?;
    if name_taken(&answer) {
        fields.name = case::unique_name(ticket)?;
        let again = send(crm, Method::Post, "/cases/", &fields.body())?;
        reply::json(&again, "creating a case")?;
    } else {
        reply::json(&answer, "creating a case")?;
    }
    let made = search(crm, &term, &marker)?.ok_or_else(|| {
        PluginError::retryable("BottleCRM accepted the new case but does not list it yet")
    })?;
    silta_sdk::info!("created case {}", made.id);
    Ok(fields.link(made.id, settings))
}

fn update(
    crm: &impl Transport,
    settings: &Settings,
    ticket: &Ticket,
    existing: &Case,
    contacts: &[u64],
    today: &str,
) -> Result<BackofficeLink, PluginError> {
    let mut fields = case::updated_case(ticket, existing, contacts, today)?;
    let path = format!("/cases/{}/", existing.id);
    let answer = send(crm, Method::Put, &path, &fields.body())?;
    if name_taken(&answer) {
        fields.name = case::unique_name(ticket)?;
        let again = send(crm, Method::Put, &path, &fields.body())?;
        reply::json(&again, "updating the case")?;
    } else {
        reply::json(&answer, "updating the case")?;
    }
    Ok(fields.link(existing.id, settings))
}

/// The case `id`. BottleCRM answers 500 for a case that does not exist; when
/// the case list still answers, that 500 means "no such case" (`permanent`),
/// otherwise the server is in trouble (`retryable`).
fn read(crm: &impl Transport, id: u64) -> Result<Case, PluginError> {
    let answer = crm.send(Method::Get, &format!("/cases/{id}/"), None)?;
    if answer.status == 500 {
        let probe = crm.send(Method::Get, "/cases/?status=New&limit=1", None)?;
        if probe.status == 200 {
            return Err(PluginError::permanent(format!(
                "case {id} is not in BottleCRM (it may have been deleted); clear the ticket link \
                 to create a new case"
            )));
        }
    }
    let found = case::from_detail(&reply::json(&answer, "reading the case")?)?;
    if found.id != id {
        return Err(PluginError::bad_input(format!(
            "BottleCRM answered case {} when asked for case {id}",
            found.id
        )));
    }
    Ok(found)
}

/// The case whose name contains `term` and whose description carries `marker`.
fn search(crm: &impl Transport, term: &str, marker: &str) -> Result<Option<Case>, PluginError> {
    let path = format!("/cases/?name={}&limit={SEARCH_LIMIT}", query_value(term));
    let cases = case::from_list(&get(crm, &path, "the case search")?)?;
    Ok(case::find(&cases, marker).cloned())
}

/// Whether BottleCRM refused the case because another one has its name.
fn name_taken(answer: &crate::transport::Answer) -> bool {
    reply::validation_errors(answer).is_some_and(|e| taken(&reply::field_errors(&e, &["name"])))
}
