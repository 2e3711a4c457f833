//! Plugin `tryton`: a back office for the Tryton ERP (modules `party` and
//! `sale`) over JSON-RPC. See `README.md` for the manifest, the
//! configuration, the calls it makes and what it returns.
//!
//! - `lookup-party`: [`lookup::lookup`] finds the party by email, phone or
//!   an earlier lookup's party id ([`search`]), and [`mapping`] turns it and
//!   its newest sale orders into a background; [`client`] sends the calls
//!   and [`rpc`] says what each answer means.
//! - `record-activity` and `upsert-ticket`: Tryton's party and sale modules
//!   have no model for either, so both are `permanent` errors; pair this
//!   plugin with a CRM or helpdesk plugin for them.

pub mod client;
pub mod lookup;
pub mod mapping;
pub mod rpc;
pub mod search;
pub mod settings;
mod values;

use silta_sdk::types::{
    Activity, Background, BackofficeLink, Identity, IdentityKind, PluginError, PluginInfo, Ticket,
};
use silta_sdk::{Backoffice, Plugin, config};

use crate::client::HttpRpc;
use crate::settings::Settings;

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "tryton";

/// The plugin.
pub struct Tryton;

// === impl Tryton ===

impl Plugin for Tryton {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "Tryton",
            "Looks parties and their recent sale orders up in a Tryton ERP over JSON-RPC.",
        )
        .with_identity_kinds([
            IdentityKind::Email,
            IdentityKind::Phone,
            IdentityKind::ErpCustomer,
        ])
    }
}

impl Backoffice for Tryton {
    fn lookup_party(identities: Vec<Identity>) -> Result<Option<Background>, PluginError> {
        let settings = Settings::from_config(config::get)?;
        let mut rpc = HttpRpc::open(&settings)?;
        lookup::lookup(&settings, &identities, &mut rpc)
    }

    fn record_activity(activity: Activity) -> Result<BackofficeLink, PluginError> {
        Err(unsupported(
            "recording an activity",
            &activity.interaction_id,
        ))
    }

    fn upsert_ticket(ticket: Ticket) -> Result<BackofficeLink, PluginError> {
        Err(unsupported(
            "creating or updating a ticket",
            &ticket.case_id,
        ))
    }
}

/// Tryton's party and sale modules have nowhere to put it.
fn unsupported(what: &str, id: &str) -> PluginError {
    PluginError::permanent(format!(
        "{what} ({id}) is not supported by the tryton plugin: Tryton's party and sale modules \
         have no activity or ticket model; pair it with a CRM or helpdesk plugin for that"
    ))
}

silta_sdk::export_backoffice!(Tryton);
