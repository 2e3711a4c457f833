//! `lookup-party`: find the customer's contact by BottleCRM contact id,
//! email, or phone (or WhatsApp number), in that order; optionally create
//! one for a stranger.
//!
//! Calls: `GET /api/contacts/<id>/`, `GET /api/contacts/?email=...`,
//! `GET /api/contacts/?phone=...` (BottleCRM's search matches substrings,
//! so results are filtered to exact matches), and with `create_contacts`
//! `POST /api/contacts/`.

use serde_json::Value;
use silta_sdk::PluginError;
use silta_sdk::types::{Background, Identity, IdentityKind, IdentityScope};

use crate::mapping::contact::{self, Contact, NewContact};
use crate::mapping::{SYSTEM, remote_id, reply};
use crate::ops::{get, send, taken};
use crate::settings::Settings;
use crate::transport::{Method, Transport, query_value};

/// How many search results are read; exact matches come first in practice
/// (a search for a full address or number), and the rest are near misses.
const SEARCH_LIMIT: u32 = 50;

/// One way to find a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Id(u64),
    Email(String),
    Phone(String),
}

/// What BottleCRM knows about the party with these identities, or `None`.
pub fn lookup(
    crm: &impl Transport,
    settings: &Settings,
    identities: &[Identity],
) -> Result<Option<Background>, PluginError> {
    for key in keys(identities) {
        if let Some(contact) = find(crm, &key)? {
            silta_sdk::debug!("found contact {}", contact.id);
            return Ok(Some(contact::background(&contact, settings)));
        }
    }
    if !settings.create_contacts {
        return Ok(None);
    }
    let Some(new) = NewContact::from_identities(identities) else {
        silta_sdk::debug!("no contact found; too little known to create one (a name and an email)");
        return Ok(None);
    };
    let created = create(crm, &new)?;
    silta_sdk::info!("created contact {}", created.id);
    Ok(Some(contact::background(&created, settings)))
}

/// The keys to search by, best first: contact ids, then emails, then
/// phones; each once.
fn keys(identities: &[Identity]) -> Vec<Key> {
    let mut ids = Vec::new();
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    for identity in identities {
        let value = identity.value.trim();
        let ours =
            matches!(&identity.scope, IdentityScope::App(app) if app.eq_ignore_ascii_case(SYSTEM));
        match identity.kind {
            IdentityKind::CrmContact if ours => match remote_id("identities[].value", value) {
                Ok(id) => ids.push(Key::Id(id)),
                Err(_) => silta_sdk::warn!("skipped a crm-contact identity that is not an id"),
            },
            IdentityKind::Email if !value.is_empty() => emails.push(Key::Email(value.to_owned())),
            // A WhatsApp id is the customer's number in E.164 too.
            IdentityKind::Phone | IdentityKind::Whatsapp if value.starts_with('+') => {
                phones.push(Key::Phone(value.to_owned()));
            }
            _ => {}
        }
    }
    let mut keys: Vec<Key> = Vec::new();
    for key in ids.into_iter().chain(emails).chain(phones) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

fn find(crm: &impl Transport, key: &Key) -> Result<Option<Contact>, PluginError> {
    match key {
        Key::Id(id) => {
            let answer = crm.send(Method::Get, &format!("/contacts/{id}/"), None)?;
            if answer.status == 404 {
                return Ok(None);
            }
            let value = reply::json(&answer, "reading a contact")?;
            contact::from_detail(&value).map(Some)
        }
        Key::Email(email) => {
            let found = search(crm, "email", email)?;
            Ok(found.into_iter().find(|c| c.has_email(email)))
        }
        Key::Phone(phone) => {
            let found = search(crm, "phone", phone)?;
            Ok(found.into_iter().find(|c| c.has_phone(phone)))
        }
    }
}

fn search(crm: &impl Transport, field: &str, value: &str) -> Result<Vec<Contact>, PluginError> {
    let path = format!(
        "/contacts/?{field}={}&limit={SEARCH_LIMIT}",
        query_value(value)
    );
    let answer = get(crm, &path, &format!("the contact search by {field}"))?;
    contact::from_list(&answer)
}

/// Creates `new` and reads it back. BottleCRM wants first name, email and
/// phone unique: a taken first name gets the email as suffix, a taken or
/// refused phone is left out, and a taken email means someone created the
/// contact meanwhile, which is then the answer.
fn create(crm: &impl Transport, new: &NewContact) -> Result<Contact, PluginError> {
    let mut new = new.clone();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let answer = send(crm, Method::Post, "/contacts/", &new.body())?;
        let Some(errors) = reply::validation_errors(&answer) else {
            reply::json(&answer, "creating a contact")?;
            break;
        };
        let field = |name| reply::field_errors(&errors, &["contact_errors", name]);
        if taken(&field("email")) {
            break;
        }
        let first_name = field("first_name");
        let phone = field("phone");
        // Only a taken first name and a taken or refused phone can be fixed.
        let only = |keys: &[&str], value: Option<&Value>| {
            value
                .and_then(Value::as_object)
                .is_some_and(|o| !o.is_empty() && o.keys().all(|k| keys.contains(&k.as_str())))
        };
        let fixable = only(&["contact_errors"], errors.get("errors"))
            && only(
                &["first_name", "phone"],
                errors.get("errors").and_then(|e| e.get("contact_errors")),
            )
            && (first_name.is_empty() || taken(&first_name));
        if !fixable || attempts == 3 {
            return Err(reply::error(&answer, "creating a contact"));
        }
        if !first_name.is_empty() {
            new = new.with_unique_first_name();
        }
        if !phone.is_empty() {
            new = new.without_phone();
        }
    }
    // The answer carries no id: read the contact back by its unique email.
    let email = Key::Email(new.email.clone());
    find(crm, &email)?.ok_or_else(|| {
        PluginError::retryable("BottleCRM accepted the new contact but does not list it yet")
    })
}
