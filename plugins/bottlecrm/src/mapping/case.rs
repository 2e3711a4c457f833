//! A Silta ticket as a BottleCRM case.
//!
//! BottleCRM's rules shape the mapping: a case name is unique
//! (case-insensitively) and at most 64 characters; `status`, `priority` and
//! `type_of_case` are fixed lists; `closed_on` is required even for an open
//! case; related ids travel as a JSON *string* (`"contacts": "[1]"`); and an
//! update replaces every field. The description ends with a marker naming
//! the Silta case, which is how a case this plugin created is found again:
//! the API's create answer carries no id.

use serde::Deserialize;
use serde_json::{Value, json};
use silta_sdk::PluginError;
use silta_sdk::types::{BackofficeLink, Ticket};

use crate::mapping::reply::truncate;
use crate::mapping::{SYSTEM, collapse, contact::User, parse};
use crate::settings::Settings;

/// `object-type` of a case's link.
pub const OBJECT_TYPE: &str = "case";

/// BottleCRM's limit on a case name, in characters.
pub const NAME_LIMIT: usize = 64;

/// What a new case is, unless an agent changes it.
const DEFAULT_TYPE: &str = "Question";

/// A case as the API returns it (`cases_obj`, `cases[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Case {
    /// Its id.
    pub id: u64,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// `New`, `Assigned`, `Pending`, `Closed`, `Rejected` or `Duplicate`.
    #[serde(default)]
    pub status: Option<String>,
    /// `Low`, `Normal`, `High` or `Urgent`.
    #[serde(default)]
    pub priority: Option<String>,
    /// `Question`, `Incident` or `Problem`.
    #[serde(default)]
    pub case_type: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub closed_on: Option<String>,
    /// Free text; ends with this plugin's marker on cases it made.
    #[serde(default)]
    pub description: Option<String>,
    /// The contacts it concerns.
    #[serde(default)]
    pub contacts: Vec<ContactRef>,
    /// The CRM users it is assigned to.
    #[serde(default)]
    pub assigned_to: Vec<User>,
}

/// A contact a case names (only its id is read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ContactRef {
    /// The contact's id.
    pub id: u64,
}

/// What to write into a case: the body of `POST /api/cases/` and
/// `PUT /api/cases/<id>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFields {
    /// Unique, at most [`NAME_LIMIT`] characters.
    pub name: String,
    /// BottleCRM's status.
    pub status: String,
    /// BottleCRM's priority.
    pub priority: String,
    /// BottleCRM's type of case.
    pub case_type: String,
    /// `YYYY-MM-DD`.
    pub closed_on: String,
    /// The ticket's description and the marker.
    pub description: String,
    /// Contact ids.
    pub contacts: Vec<u64>,
}

/// The case in a detail answer (`{"cases_obj": {...}}`).
pub fn from_detail(value: &Value) -> Result<Case, PluginError> {
    parse(value.get("cases_obj"), "the case's `cases_obj`")
}

/// The cases in a list answer (`{"cases": [...]}`).
pub fn from_list(value: &Value) -> Result<Vec<Case>, PluginError> {
    parse(value.get("cases"), "the case list's `cases`")
}

/// The marker on the description's last line for Silta case `case_id`.
pub fn marker(case_id: &str) -> String {
    format!("[silta case {}]", case_id.trim())
}

/// Checks that `case-id` can sit in the marker: 1 to 64 characters, no
/// spaces, control characters or `]`.
pub fn check_case_id(case_id: &str) -> Result<(), PluginError> {
    let id = case_id.trim();
    if id.is_empty()
        || id.chars().count() > 64
        || id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ']')
    {
        return Err(PluginError::bad_input(format!(
            "`case-id` `{}` is not a case id",
            truncate(case_id, 64)
        )));
    }
    Ok(())
}

/// The case among `cases` that carries `marker`, newest (highest id) first.
pub fn find<'a>(cases: &'a [Case], marker: &str) -> Option<&'a Case> {
    cases
        .iter()
        .filter(|c| c.description.as_deref().is_some_and(|d| d.contains(marker)))
        .max_by_key(|c| c.id)
}

/// What to search case names for to find this ticket's case, whichever
/// name it got: the start of the title, which both names begin with.
pub fn search_term(ticket: &Ticket) -> String {
    collapse(&ticket.title).chars().take(40).collect()
}

/// The name a ticket's case gets first: the title on one line, cut to fit.
pub fn name(ticket: &Ticket) -> Result<String, PluginError> {
    let title = collapse(&ticket.title);
    if title.is_empty() {
        return Err(PluginError::bad_input(
            "`title` is empty; a case needs a name",
        ));
    }
    Ok(truncate(&title, NAME_LIMIT))
}

/// The name when another case already has [`name`]'s: the title with a
/// tag from the Silta case id (`Where is my order? #9abc1234`).
pub fn unique_name(ticket: &Ticket) -> Result<String, PluginError> {
    let tag: String = ticket
        .case_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    // The end of a UUIDv7 is its random part.
    let tag = &tag[tag.len().saturating_sub(8)..];
    let suffix = format!(" #{tag}");
    let title = truncate(
        &collapse(&ticket.title),
        NAME_LIMIT.saturating_sub(suffix.chars().count()),
    );
    if title.is_empty() {
        return Err(PluginError::bad_input(
            "`title` is empty; a case needs a name",
        ));
    }
    Ok(format!("{title}{suffix}"))
}

/// BottleCRM's status for Silta's `status` (`open`, `pending`, `resolved`,
/// `closed`; BottleCRM's own names are taken as they are).
///
/// `open` keeps `New` or `Assigned` when the case has one, and is
/// `Assigned` when reopening a case that is assigned to someone; `closed`
/// and `resolved` keep `Rejected` or `Duplicate`, which are closed too.
pub fn status(silta: &str, existing: Option<&Case>) -> Result<String, PluginError> {
    let current = existing.and_then(|c| c.status.as_deref()).unwrap_or("");
    let assigned = existing.is_some_and(|c| !c.assigned_to.is_empty());
    let wanted = silta.trim().to_ascii_lowercase();
    Ok(match wanted.as_str() {
        "open" => match current {
            "New" | "Assigned" => current.to_owned(),
            _ if assigned => "Assigned".to_owned(),
            _ => "New".to_owned(),
        },
        "pending" => "Pending".to_owned(),
        "resolved" | "closed" => match current {
            "Closed" | "Rejected" | "Duplicate" => current.to_owned(),
            _ => "Closed".to_owned(),
        },
        "new" => "New".to_owned(),
        "assigned" => "Assigned".to_owned(),
        "rejected" => "Rejected".to_owned(),
        "duplicate" => "Duplicate".to_owned(),
        _ => {
            return Err(PluginError::bad_input(format!(
                "`status` is `{silta}`; expected open, pending, resolved or closed"
            )));
        }
    })
}

/// Whether BottleCRM's `status` means the case is done.
pub fn is_closed(status: &str) -> bool {
    matches!(status, "Closed" | "Rejected" | "Duplicate")
}

/// BottleCRM's priority for Silta's (`low`, `normal`/`medium`, `high`,
/// `urgent`/`critical`); none keeps the case's, or is `Normal`.
pub fn priority(silta: Option<&str>, existing: Option<&Case>) -> Result<String, PluginError> {
    let Some(wanted) = silta.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(existing
            .and_then(|c| c.priority.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "Normal".to_owned()));
    };
    Ok(match wanted.to_ascii_lowercase().as_str() {
        "low" => "Low",
        "normal" | "medium" => "Normal",
        "high" => "High",
        "urgent" | "critical" => "Urgent",
        _ => {
            return Err(PluginError::bad_input(format!(
                "`priority` is `{wanted}`; expected low, normal, high or urgent"
            )));
        }
    }
    .to_owned())
}

/// The description: the ticket's, then the marker on its own line.
pub fn description(ticket: &Ticket) -> String {
    let text = ticket.description.trim();
    let marker = marker(&ticket.case_id);
    if text.is_empty() {
        marker
    } else {
        format!("{text}\n\n{marker}")
    }
}

/// The fields of a new case for `ticket`; `today` is `YYYY-MM-DD`, which
/// becomes `closed_on` (BottleCRM requires one even for an open case).
pub fn new_case(
    ticket: &Ticket,
    contacts: Vec<u64>,
    today: &str,
) -> Result<CaseFields, PluginError> {
    Ok(CaseFields {
        name: name(ticket)?,
        status: status(&ticket.status, None)?,
        priority: priority(ticket.priority.as_deref(), None)?,
        case_type: DEFAULT_TYPE.to_owned(),
        closed_on: today.to_owned(),
        description: description(ticket),
        contacts,
    })
}

/// The fields that replace `existing` for `ticket`: what the ticket says
/// (the name follows the title, keeping its tag if it has one), and for
/// the rest what the case has (its type, its other contacts). `closed_on`
/// becomes `today` when the case closes now, and stays otherwise.
pub fn updated_case(
    ticket: &Ticket,
    existing: &Case,
    contacts: &[u64],
    today: &str,
) -> Result<CaseFields, PluginError> {
    let status = status(&ticket.status, Some(existing))?;
    let was_closed = existing.status.as_deref().is_some_and(is_closed);
    let closes_now = is_closed(&status) && !was_closed;
    let closed_on = match &existing.closed_on {
        Some(date) if !date.is_empty() && !closes_now => date.clone(),
        _ => today.to_owned(),
    };
    // Keep the name while it is this title's (plain or tagged).
    let current = existing.name.clone().unwrap_or_default();
    let name = if current == name(ticket)? || current == unique_name(ticket)? {
        current
    } else {
        name(ticket)?
    };
    let mut all: Vec<u64> = existing.contacts.iter().map(|c| c.id).collect();
    for id in contacts {
        if !all.contains(id) {
            all.push(*id);
        }
    }
    Ok(CaseFields {
        name,
        status,
        priority: priority(ticket.priority.as_deref(), Some(existing))?,
        case_type: existing
            .case_type
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| DEFAULT_TYPE.to_owned()),
        closed_on,
        description: description(ticket),
        contacts: all,
    })
}

// === impl CaseFields ===

impl CaseFields {
    /// The request body; related ids are a JSON string, as BottleCRM wants.
    pub fn body(&self) -> Value {
        let contacts = format!(
            "[{}]",
            self.contacts
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        json!({
            "name": self.name,
            "status": self.status,
            "priority": self.priority,
            "type_of_case": self.case_type,
            "closed_on": self.closed_on,
            "description": self.description,
            "contacts": contacts,
        })
    }

    /// The link to case `id` written with these fields.
    pub fn link(&self, id: u64, settings: &Settings) -> BackofficeLink {
        let contacts = self
            .contacts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut snapshot = vec![
            ("name".to_owned(), self.name.clone()),
            ("status".to_owned(), self.status.clone()),
            ("priority".to_owned(), self.priority.clone()),
            ("type_of_case".to_owned(), self.case_type.clone()),
            ("closed_on".to_owned(), self.closed_on.clone()),
        ];
        if !contacts.is_empty() {
            snapshot.push(("contact_ids".to_owned(), contacts));
        }
        BackofficeLink {
            system: SYSTEM.to_owned(),
            object_type: OBJECT_TYPE.to_owned(),
            remote_id: id.to_string(),
            url: Some(settings.case_url(id)),
            snapshot,
        }
    }
}
