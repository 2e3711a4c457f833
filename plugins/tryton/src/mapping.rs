//! Tryton's records as the contact format: the calls' parameters, their
//! results read into [`Party`] and [`Sale`], and the [`Background`] made of
//! them.
//!
//! Pure: no host calls. A result that is not what the call asked for is
//! `bad-input` naming the record and the field, never a trap.

use serde_json::{Map, Value, json};
use silta_sdk::model::Region;
use silta_sdk::types::{
    Assurance, Background, BackofficeLink, Identity, IdentityKind, IdentityScope, PluginError,
};

use crate::search::{self, Criteria, SYSTEM};
use crate::settings::Settings;
use crate::values;

/// Method of the party search.
pub const PARTY_SEARCH: &str = "model.party.party.search_read";
/// Method of the sale order search.
pub const SALE_SEARCH: &str = "model.sale.sale.search_read";
/// Tryton model of a party.
pub const PARTY_MODEL: &str = "party.party";
/// Tryton model of a sale order.
pub const SALE_MODEL: &str = "sale.sale";
/// At most this many parties are read per lookup; the best match wins.
pub const MAX_PARTIES: u32 = 10;

const MECHANISMS: &str = "contact_mechanisms.";
const PARTY_FIELDS: [&str; 5] = [
    "name",
    "code",
    "contact_mechanisms.type",
    "contact_mechanisms.value",
    "contact_mechanisms.value_compact",
];
/// Sale fields read, and the snapshot key each becomes (`currency.code`
/// comes back as `{"currency.": {"code": ...}}`).
const SALE_FIELDS: [(&str, &str); 7] = [
    ("number", "number"),
    ("reference", "reference"),
    ("description", "description"),
    ("sale_date", "sale_date"),
    ("state", "state"),
    ("total_amount", "total_amount"),
    ("currency.code", "currency"),
];

/// A party as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Its id.
    pub id: u64,
    /// Its code (Tryton's customer number), if set.
    pub code: Option<String>,
    /// Its name.
    pub name: String,
    /// Its active contact mechanisms, in Tryton's order.
    pub mechanisms: Vec<Mechanism>,
}

/// A contact mechanism as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mechanism {
    /// `email`, `phone`, `mobile`, `website`, ...
    pub kind: String,
    /// The value as Tryton shows it.
    pub value: String,
    /// Tryton's compact form (E.164 for a phone with `phonenumbers`).
    pub value_compact: Option<String>,
}

/// A sale order as read: its id and its snapshot fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// Its id.
    pub id: u64,
    /// Snapshot fields in the order read (`number`, `reference`,
    /// `description`, `sale_date`, `state`, `total_amount`, `currency`),
    /// only those set.
    pub snapshot: Vec<(String, String)>,
}

/// The parameters of [`PARTY_SEARCH`] for `criteria`, best candidates first.
#[must_use]
pub fn party_params(criteria: &Criteria, region: Option<Region>) -> Value {
    json!([
        criteria.domain(region),
        0,
        MAX_PARTIES,
        [["id", "ASC"]],
        PARTY_FIELDS,
        {}
    ])
}

/// The parameters of [`SALE_SEARCH`]: the party's `limit` newest orders, by
/// order date with undated ones (drafts, quotations) first, then newest id;
/// Tryton's own order for sales.
#[must_use]
pub fn sale_params(party: u64, limit: u32) -> Value {
    let fields: Vec<&str> = SALE_FIELDS.iter().map(|(field, _)| *field).collect();
    json!([
        [["party", "=", party]],
        0,
        limit,
        [["sale_date", "DESC NULLS FIRST"], ["id", "DESC"]],
        fields,
        {}
    ])
}

/// The parties of a [`PARTY_SEARCH`] result.
pub fn parties(result: &Value) -> Result<Vec<Party>, PluginError> {
    records(PARTY_SEARCH, result)?
        .iter()
        .enumerate()
        .map(|(n, record)| party(n, record))
        .collect()
}

fn party(n: usize, record: &Map<String, Value>) -> Result<Party, PluginError> {
    let id = id(PARTY_SEARCH, n, record)?;
    let at = |field: &str| format!("party {id} `{field}`");
    let name = text(&at("name"), record.get("name"))?
        .ok_or_else(|| malformed(&at("name"), "is missing"))?;
    let code = text(&at("code"), record.get("code"))?;
    let mechanisms = match record.get(MECHANISMS) {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(m, mechanism)| {
                let at = |field: &str| format!("party {id} `contact_mechanisms[{m}].{field}`");
                let mechanism = mechanism
                    .as_object()
                    .ok_or_else(|| malformed(&at("*"), "is not an object"))?;
                Ok(Mechanism {
                    kind: text(&at("type"), mechanism.get("type"))?
                        .ok_or_else(|| malformed(&at("type"), "is missing"))?,
                    value: text(&at("value"), mechanism.get("value"))?.unwrap_or_default(),
                    value_compact: text(&at("value_compact"), mechanism.get("value_compact"))?,
                })
            })
            .collect::<Result<_, PluginError>>()?,
        Some(Value::Null) => Vec::new(),
        _ => {
            return Err(malformed(
                &format!("party {id} `contact_mechanisms.`"),
                "is missing or not a list of the related records asked for",
            ));
        }
    };
    Ok(Party {
        id,
        code,
        name,
        mechanisms,
    })
}

/// The sale orders of a [`SALE_SEARCH`] result.
pub fn sales(result: &Value) -> Result<Vec<Sale>, PluginError> {
    records(SALE_SEARCH, result)?
        .iter()
        .enumerate()
        .map(|(n, record)| {
            let id = id(SALE_SEARCH, n, record)?;
            let mut snapshot = Vec::new();
            for (field, key) in SALE_FIELDS {
                let value = match field.split_once('.') {
                    Some((relation, sub)) => record
                        .get(&format!("{relation}."))
                        .and_then(|related| related.get(sub)),
                    None => record.get(field),
                };
                if let Some(value) = text(&format!("sale {id} `{field}`"), value)? {
                    snapshot.push((key.to_owned(), value));
                }
            }
            Ok(Sale { id, snapshot })
        })
        .collect()
}

/// What Tryton knows about `party`: its name, its identities (the party id,
/// every email address and phone number that reads as one), a link to the
/// party and one per sale order, newest first. `others` are further parties
/// that matched, named in the `other_parties` attribute.
#[must_use]
pub fn background(
    settings: &Settings,
    party: &Party,
    sales: &[Sale],
    others: &[u64],
) -> Background {
    let mut attributes = Vec::new();
    if !others.is_empty() {
        let ids: Vec<String> = others.iter().map(u64::to_string).collect();
        attributes.push(("other_parties".to_owned(), ids.join(", ")));
    }
    let mut links = vec![party_link(settings, party)];
    links.extend(sales.iter().map(|sale| BackofficeLink {
        system: SYSTEM.to_owned(),
        object_type: SALE_MODEL.to_owned(),
        remote_id: sale.id.to_string(),
        url: Some(settings.record_url(SALE_MODEL, sale.id)),
        snapshot: sale.snapshot.clone(),
    }));
    Background {
        display_name: Some(party.name.clone()),
        identities: identities(party, settings.phone_region),
        links,
        attributes,
    }
}

fn party_link(settings: &Settings, party: &Party) -> BackofficeLink {
    let first = |kinds: &[&str]| {
        party
            .mechanisms
            .iter()
            .find(|m| kinds.contains(&m.kind.as_str()) && !m.value.is_empty())
            .map(|m| m.value.clone())
    };
    let snapshot = [
        ("name", Some(party.name.clone())),
        ("code", party.code.clone()),
        ("email", first(&["email"])),
        ("phone", first(&search::PHONE_TYPES)),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v)))
    .collect();
    BackofficeLink {
        system: SYSTEM.to_owned(),
        object_type: PARTY_MODEL.to_owned(),
        remote_id: party.id.to_string(),
        url: Some(settings.record_url(PARTY_MODEL, party.id)),
        snapshot,
    }
}

/// The party's identities; an email or phone that the host would refuse
/// (a typo in the ERP) is left out rather than failing the lookup.
fn identities(party: &Party, region: Option<Region>) -> Vec<Identity> {
    let attested = |kind: IdentityKind, value: String| {
        Identity::new(kind, value)
            .with_assurance(Assurance::ChannelAttested)
            .with_display_name(party.name.clone())
    };
    let mut identities = vec![
        attested(IdentityKind::ErpCustomer, party.id.to_string())
            .with_scope(IdentityScope::App(SYSTEM.to_owned())),
    ];
    for mechanism in &party.mechanisms {
        let identity = match mechanism.kind.as_str() {
            "email" => silta_sdk::validate::email("email", mechanism.value.trim())
                .ok()
                .map(|email| attested(IdentityKind::Email, email)),
            _ => {
                search::phone_of(mechanism, region).map(|e164| attested(IdentityKind::Phone, e164))
            }
        };
        if let Some(identity) = identity
            && !identities
                .iter()
                .any(|known| known.kind == identity.kind && known.value == identity.value)
        {
            identities.push(identity);
        }
    }
    identities
}

// === reading records ===

fn records<'a>(
    method: &str,
    result: &'a Value,
) -> Result<Vec<&'a Map<String, Value>>, PluginError> {
    let list = result.as_array().ok_or_else(|| {
        PluginError::bad_input(format!("the result of `{method}` is not a list of records"))
    })?;
    list.iter()
        .enumerate()
        .map(|(n, record)| {
            record.as_object().ok_or_else(|| {
                PluginError::bad_input(format!(
                    "record {n} of the result of `{method}` is not an object"
                ))
            })
        })
        .collect()
}

fn id(method: &str, n: usize, record: &Map<String, Value>) -> Result<u64, PluginError> {
    record.get("id").and_then(Value::as_u64).ok_or_else(|| {
        PluginError::bad_input(format!(
            "record {n} of the result of `{method}` has no numeric `id`"
        ))
    })
}

fn text(at: &str, value: Option<&Value>) -> Result<Option<String>, PluginError> {
    value.map_or(Ok(None), |value| {
        values::text(value).map_err(|reason| malformed(at, &format!("is {reason}")))
    })
}

fn malformed(at: &str, what: &str) -> PluginError {
    PluginError::bad_input(format!("Tryton's {at} {what}"))
}
