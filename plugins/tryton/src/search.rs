//! What to search Tryton for: the identities a lookup is given, as one
//! `party.party` domain, and how well a party found matches them.
//!
//! - An email address matches an `email` contact mechanism whatever its
//!   case (`ilike`, with `%`, `_` and `\` escaped).
//! - A phone number (kinds `phone` and `whatsapp`, E.164) matches a `phone`
//!   or `mobile` contact mechanism when Tryton's `value_compact` is the
//!   E.164 number (what Tryton stores when the `phonenumbers` library is
//!   installed, however the number was typed), or when `value` is written
//!   the way people and Tryton write it: E.164 (`+358401234567`),
//!   international (`+358 40 1234567`, Tryton's own format) or, for
//!   numbers of the configured default region, national (`040 1234567`).
//! - An `erp-customer` identity in scope `app("tryton")` (what this plugin
//!   returned before) matches the party with that id.
//!
//! Other identity kinds say nothing to Tryton and are left out.

use phonenumber::Mode;
use serde_json::{Value, json};
use silta_sdk::model::{PhoneNumber, Region};
use silta_sdk::types::{Identity, IdentityKind, IdentityScope};

use crate::mapping::{Mechanism, Party};

/// The system name: the scope of the `erp-customer` identities.
pub const SYSTEM: &str = "tryton";

/// At most this many identities of a lookup are searched for; a party
/// reached by more is found by the first ones.
pub const MAX_CRITERIA: usize = 20;

/// The contact mechanism types that hold phone numbers.
pub const PHONE_TYPES: [&str; 2] = ["phone", "mobile"];

/// The identities of one lookup that Tryton can be searched for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    /// Email addresses, lower case.
    pub emails: Vec<String>,
    /// Phone numbers, E.164.
    pub phones: Vec<String>,
    /// Party ids from earlier lookups.
    pub party_ids: Vec<u64>,
}

// === impl Criteria ===

impl Criteria {
    /// The searchable identities among `identities` (at most
    /// [`MAX_CRITERIA`]), without duplicates.
    #[must_use]
    pub fn from_identities(identities: &[Identity]) -> Self {
        let mut criteria = Self::default();
        for identity in identities {
            if criteria.len() >= MAX_CRITERIA {
                break;
            }
            let value = identity.value.trim();
            match (&identity.kind, &identity.scope) {
                (IdentityKind::Email, _) if value.contains('@') => {
                    push_new(&mut criteria.emails, value.to_lowercase());
                }
                (IdentityKind::Phone | IdentityKind::Whatsapp, _) => {
                    if let Ok(e164) = silta_sdk::validate::phone("phone", value) {
                        push_new(&mut criteria.phones, e164);
                    }
                }
                (IdentityKind::ErpCustomer, IdentityScope::App(app)) if app == SYSTEM => {
                    if let Ok(id) = value.parse() {
                        push_new(&mut criteria.party_ids, id);
                    }
                }
                _ => {}
            }
        }
        criteria
    }

    /// How many identities are searched for.
    #[must_use]
    pub fn len(&self) -> usize {
        self.emails.len() + self.phones.len() + self.party_ids.len()
    }

    /// Whether there is nothing to search for.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `party.party` domain: any of the identities.
    #[must_use]
    pub fn domain(&self, region: Option<Region>) -> Value {
        let mut any = vec![json!("OR")];
        if !self.party_ids.is_empty() {
            any.push(json!(["id", "in", self.party_ids]));
        }
        for email in &self.emails {
            any.push(json!([
                "contact_mechanisms",
                "where",
                [
                    ["type", "=", "email"],
                    ["value", "ilike", escape_like(email)],
                ]
            ]));
        }
        if !self.phones.is_empty() {
            let written: Vec<String> = self
                .phones
                .iter()
                .flat_map(|e164| written_forms(e164, region))
                .collect();
            any.push(json!([
                "contact_mechanisms",
                "where",
                [
                    ["type", "in", PHONE_TYPES],
                    [
                        "OR",
                        ["value_compact", "in", self.phones],
                        ["value", "in", written]
                    ],
                ]
            ]));
        }
        Value::Array(any)
    }

    /// How well `party` matches: 1000 for its id, plus one for every email
    /// and phone number among its contact mechanisms. A party Tryton found
    /// may score 0 when it normalizes differently (a national number read
    /// with the party's own country); it still matched.
    #[must_use]
    pub fn score(&self, party: &Party, region: Option<Region>) -> u32 {
        let by_id = if self.party_ids.contains(&party.id) {
            1000
        } else {
            0
        };
        let emails = self
            .emails
            .iter()
            .filter(|email| {
                party
                    .mechanisms
                    .iter()
                    .any(|m| m.kind == "email" && m.value.trim().to_lowercase() == **email)
            })
            .count();
        let phones = self
            .phones
            .iter()
            .filter(|phone| {
                party
                    .mechanisms
                    .iter()
                    .any(|m| phone_of(m, region).as_deref() == Some(phone.as_str()))
            })
            .count();
        by_id + u32::try_from(emails + phones).unwrap_or(u32::MAX)
    }
}

/// The E.164 number a `phone` or `mobile` contact mechanism holds, if it
/// reads as one: its `value_compact` when Tryton normalized it, else its
/// `value` in international form, or national form in `region`.
#[must_use]
pub fn phone_of(mechanism: &Mechanism, region: Option<Region>) -> Option<String> {
    if !PHONE_TYPES.contains(&mechanism.kind.as_str()) {
        return None;
    }
    let candidates = [
        mechanism.value_compact.as_deref(),
        Some(mechanism.value.as_str()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|raw| PhoneNumber::parse("phone", raw, region).ok())
        .map(String::from)
}

/// How a person or Tryton may have written `e164` in a contact mechanism.
fn written_forms(e164: &str, region: Option<Region>) -> Vec<String> {
    let mut forms = vec![e164.to_owned()];
    if let Ok(number) = phonenumber::parse(None, e164) {
        push_new(
            &mut forms,
            number.format().mode(Mode::International).to_string(),
        );
        if region.is_some_and(|region| number.country().id() == Some(region)) {
            push_new(&mut forms, number.format().mode(Mode::National).to_string());
        }
    }
    forms
}

/// `text` matched literally by Tryton's `ilike` (escape character `\`).
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        list.push(value);
    }
}

#[cfg(test)]
mod tests {
    use silta_sdk::types::{Assurance, IdentityScope};

    use super::*;

    fn identity(kind: IdentityKind, value: &str) -> Identity {
        Identity::new(kind, value).with_assurance(Assurance::ChannelAsserted)
    }

    #[test]
    fn keeps_the_searchable_identities_once() {
        let criteria = Criteria::from_identities(&[
            identity(IdentityKind::Email, "Aino@Example.FI"),
            identity(IdentityKind::Email, "aino@example.fi"),
            identity(IdentityKind::Phone, "+358401234567"),
            identity(IdentityKind::Whatsapp, "+358 40 1234567"),
            identity(IdentityKind::Telegram, "12345"),
            identity(IdentityKind::ErpCustomer, "7")
                .with_scope(IdentityScope::App("tryton".into())),
            identity(IdentityKind::ErpCustomer, "8").with_scope(IdentityScope::App("other".into())),
            identity(IdentityKind::ErpCustomer, "x")
                .with_scope(IdentityScope::App("tryton".into())),
            identity(IdentityKind::Phone, "not a number"),
        ]);
        assert_eq!(criteria.emails, ["aino@example.fi"]);
        assert_eq!(criteria.phones, ["+358401234567"]);
        assert_eq!(criteria.party_ids, [7]);
        assert_eq!(criteria.len(), 3);
        assert!(Criteria::from_identities(&[identity(IdentityKind::Telegram, "1")]).is_empty());
    }

    #[test]
    fn searches_at_most_max_criteria() {
        let many: Vec<Identity> = (0..50)
            .map(|n| identity(IdentityKind::Email, &format!("a{n}@example.fi")))
            .collect();
        assert_eq!(Criteria::from_identities(&many).len(), MAX_CRITERIA);
    }

    #[test]
    fn the_domain_covers_every_written_form() {
        let criteria = Criteria {
            emails: vec!["a_b%c@example.fi".into()],
            phones: vec!["+358401234567".into()],
            party_ids: vec![7],
        };
        assert_eq!(
            criteria.domain(Some(Region::FI)),
            json!([
                "OR",
                ["id", "in", [7]],
                [
                    "contact_mechanisms",
                    "where",
                    [
                        ["type", "=", "email"],
                        ["value", "ilike", "a\\_b\\%c@example.fi"]
                    ]
                ],
                [
                    "contact_mechanisms",
                    "where",
                    [
                        ["type", "in", ["phone", "mobile"]],
                        [
                            "OR",
                            ["value_compact", "in", ["+358401234567"]],
                            [
                                "value",
                                "in",
                                ["+358401234567", "+358 40 1234567", "040 1234567"]
                            ]
                        ]
                    ]
                ]
            ])
        );
        // A number of another region is not written nationally.
        let us = Criteria {
            phones: vec!["+16502530000".into()],
            ..Criteria::default()
        };
        assert_eq!(
            us.domain(Some(Region::FI))[1][2][1][2][2],
            json!(["+16502530000", "+1 650-253-0000"])
        );
    }

    #[test]
    fn scores_by_id_then_by_matching_mechanisms() {
        let mechanism = |kind: &str, value: &str, compact: Option<&str>| Mechanism {
            kind: kind.into(),
            value: value.into(),
            value_compact: compact.map(Into::into),
        };
        let party = Party {
            id: 3,
            code: None,
            name: "Aino".into(),
            mechanisms: vec![
                mechanism("email", "Aino@example.fi", None),
                mechanism("mobile", "040 1234567", None),
                mechanism("phone", "+44 20 7946 0958", Some("+442079460958")),
            ],
        };
        let criteria = Criteria {
            emails: vec!["aino@example.fi".into()],
            phones: vec!["+358401234567".into(), "+442079460958".into()],
            party_ids: vec![],
        };
        assert_eq!(criteria.score(&party, None), 2);
        assert_eq!(criteria.score(&party, Some(Region::FI)), 3);
        let by_id = Criteria {
            party_ids: vec![3],
            ..Criteria::default()
        };
        assert_eq!(by_id.score(&party, None), 1000);
    }
}
