//! BottleCRM contacts: reading them from the API's answers, matching them to
//! a customer's identities, turning them into a party's [`Background`], and
//! the body that creates one.

use serde::Deserialize;
use serde_json::{Value, json};
use silta_sdk::types::{
    Assurance, Background, BackofficeLink, Identity, IdentityKind, IdentityScope,
};
use silta_sdk::{PluginError, validate};

use crate::mapping::{SYSTEM, collapse, parse};
use crate::settings::Settings;

/// `object-type` of a contact's link.
pub const OBJECT_TYPE: &str = "contact";

/// BottleCRM's limit on a name field.
const NAME_LIMIT: usize = 255;

/// What BottleCRM requires as last name when the customer gave only one name.
pub const NO_LAST_NAME: &str = "-";

/// A contact as the API returns it (`contact_obj`, `contact_obj_list[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Contact {
    /// Its id.
    pub id: u64,
    /// First name; unique in BottleCRM.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email; unique in BottleCRM.
    #[serde(default)]
    pub email: Option<String>,
    /// E.164 phone; unique in BottleCRM.
    #[serde(default)]
    pub phone: Option<String>,
    /// Its address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// When it was created (RFC 3339, the CRM's time zone).
    #[serde(default)]
    pub created_on: Option<String>,
    /// The CRM users it is assigned to.
    #[serde(default)]
    pub assigned_to: Vec<User>,
}

/// A contact's address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[allow(missing_docs)]
pub struct Address {
    #[serde(default)]
    pub address_line: Option<String>,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

/// A CRM user (who a contact or case is assigned to).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The user's email, their login.
    #[serde(default)]
    pub email: Option<String>,
}

/// A contact to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    /// First name (the given names).
    pub first_name: String,
    /// Last name (the last word of the name, or [`NO_LAST_NAME`]).
    pub last_name: String,
    /// Email, which BottleCRM requires.
    pub email: String,
    /// E.164 phone, when the customer has one.
    pub phone: Option<String>,
}

// === impl Contact ===

impl Contact {
    /// `first last`, without the placeholder last name.
    pub fn name(&self) -> String {
        let first = text(&self.first_name);
        let last = text(&self.last_name);
        let last = if last == NO_LAST_NAME { "" } else { last };
        format!("{first} {last}").trim().to_owned()
    }

    /// Whether its email is `email` (ignoring case and surrounding space).
    pub fn has_email(&self, email: &str) -> bool {
        text(&self.email).eq_ignore_ascii_case(email.trim())
    }

    /// Whether its phone is the E.164 number `phone` (BottleCRM's search
    /// matches substrings; this is exact).
    pub fn has_phone(&self, phone: &str) -> bool {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let mine = text(&self.phone);
        !mine.is_empty() && mine.starts_with('+') && digits(mine) == digits(phone)
    }

    fn city(&self) -> &str {
        self.address.as_ref().map_or("", |a| text(&a.city))
    }

    fn country(&self) -> &str {
        self.address.as_ref().map_or("", |a| text(&a.country))
    }

    /// The address on one line (`1 Test St, Main St, Helsinki, 00100`).
    fn full_address(&self) -> String {
        let Some(a) = &self.address else {
            return String::new();
        };
        [&a.address_line, &a.street, &a.city, &a.state, &a.postcode]
            .into_iter()
            .map(text)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn assigned_to(&self) -> String {
        self.assigned_to
            .iter()
            .map(|u| text(&u.email))
            .filter(|e| !e.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The contact in a detail answer (`{"contact_obj": {...}, ...}`).
pub fn from_detail(value: &Value) -> Result<Contact, PluginError> {
    parse(value.get("contact_obj"), "the contact's `contact_obj`")
}

/// The contacts in a search answer (`{"contact_obj_list": [...], ...}`).
pub fn from_list(value: &Value) -> Result<Vec<Contact>, PluginError> {
    parse(
        value.get("contact_obj_list"),
        "the contact list's `contact_obj_list`",
    )
}

/// The link to `contact`, with the fields an agent needs.
pub fn link(contact: &Contact, settings: &Settings) -> BackofficeLink {
    let mut snapshot = Vec::new();
    let mut put = |key: &str, value: &str| {
        if !value.trim().is_empty() {
            snapshot.push((key.to_owned(), value.trim().to_owned()));
        }
    };
    put("name", &contact.name());
    put("first_name", text(&contact.first_name));
    put("last_name", text(&contact.last_name));
    put("email", text(&contact.email));
    put("phone", text(&contact.phone));
    put("address", &contact.full_address());
    put("city", contact.city());
    put("country", contact.country());
    put("description", text(&contact.description));
    put("assigned_to", &contact.assigned_to());
    put("created_on", text(&contact.created_on));
    BackofficeLink {
        system: SYSTEM.to_owned(),
        object_type: OBJECT_TYPE.to_owned(),
        remote_id: contact.id.to_string(),
        url: Some(settings.contact_url(contact.id)),
        snapshot,
    }
}

/// What BottleCRM knows about the party: its name, the contact id, email
/// and phone as identities, the contact's link, and who it is assigned to.
///
/// An email or phone the CRM holds that the contact format would refuse is
/// left out (and logged) rather than failing the lookup.
pub fn background(contact: &Contact, settings: &Settings) -> Background {
    let name = contact.name();
    let display_name = (!name.is_empty()).then_some(name);
    let identity = |kind: IdentityKind, value: String, scope: IdentityScope| Identity {
        kind,
        value,
        scope,
        assurance: Assurance::ChannelAttested,
        display_name: display_name.clone(),
    };
    let mut identities = vec![identity(
        IdentityKind::CrmContact,
        contact.id.to_string(),
        IdentityScope::App(SYSTEM.to_owned()),
    )];
    let email = text(&contact.email);
    if !email.is_empty() {
        match validate::email("email", email) {
            Ok(email) => {
                identities.push(identity(IdentityKind::Email, email, IdentityScope::Global))
            }
            Err(_) => silta_sdk::warn!("contact {}: its email is not usable; left out", contact.id),
        }
    }
    let phone = text(&contact.phone);
    if !phone.is_empty() {
        match validate::phone("phone", phone) {
            Ok(phone) => {
                identities.push(identity(IdentityKind::Phone, phone, IdentityScope::Global))
            }
            Err(_) => silta_sdk::warn!("contact {}: its phone is not E.164; left out", contact.id),
        }
    }
    let mut attributes = vec![("contact_id".to_owned(), contact.id.to_string())];
    let assigned = contact.assigned_to();
    if !assigned.is_empty() {
        attributes.push(("assigned_to".to_owned(), assigned));
    }
    Background {
        display_name,
        identities,
        links: vec![link(contact, settings)],
        attributes,
    }
}

// === impl NewContact ===

impl NewContact {
    /// The contact to create for a customer known by `identities`: needs a
    /// display name and an email (BottleCRM requires one); takes the first
    /// usable phone too. `None` when they do not carry enough.
    pub fn from_identities(identities: &[Identity]) -> Option<NewContact> {
        let name = identities
            .iter()
            .filter_map(|i| i.display_name.as_deref())
            .map(collapse)
            .find(|n| !n.is_empty())?;
        let email = identities
            .iter()
            .filter(|i| i.kind == IdentityKind::Email)
            .find_map(|i| validate::email("email", &i.value).ok())?;
        let phone = identities
            .iter()
            .filter(|i| matches!(i.kind, IdentityKind::Phone | IdentityKind::Whatsapp))
            .find_map(|i| validate::phone("phone", &i.value).ok());
        let (first_name, last_name) = split_name(&name);
        Some(NewContact {
            first_name,
            last_name,
            email,
            phone,
        })
    }

    /// The same contact under a first name no other contact has: BottleCRM
    /// wants first names unique, and the email is (`Aino (aino@example.fi)`).
    pub fn with_unique_first_name(&self) -> NewContact {
        let suffix = format!(" ({})", self.email);
        let room = NAME_LIMIT.saturating_sub(suffix.chars().count());
        let first: String = self.first_name.chars().take(room).collect();
        NewContact {
            first_name: format!("{first}{suffix}"),
            ..self.clone()
        }
    }

    /// The same contact without its phone (BottleCRM refused it).
    pub fn without_phone(&self) -> NewContact {
        NewContact {
            phone: None,
            ..self.clone()
        }
    }

    /// The body of `POST /api/contacts/`.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "description": "Created by Silta.",
        });
        if let (Some(phone), Some(map)) = (&self.phone, body.as_object_mut()) {
            map.insert("phone".to_owned(), Value::String(phone.clone()));
        }
        body
    }
}

/// `"Aino Maria Virtanen"` → (`"Aino Maria"`, `"Virtanen"`); a single name
/// gets [`NO_LAST_NAME`], since BottleCRM requires a last name.
pub fn split_name(name: &str) -> (String, String) {
    let name = collapse(name);
    let (first, last) = match name.rsplit_once(' ') {
        Some((first, last)) => (first.to_owned(), last.to_owned()),
        None => (name, NO_LAST_NAME.to_owned()),
    };
    let cap = |s: String| s.chars().take(NAME_LIMIT).collect::<String>();
    (cap(first), cap(last))
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().map_or("", str::trim)
}
