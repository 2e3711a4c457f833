//! Plugin `bottlecrm`: the BottleCRM (django-crm) back office. See
//! `README.md` for the manifest, the configuration and the API calls.
//!
//! - `lookup-party` ([`ops::lookup`]): the customer's contact, found by
//!   contact id, email or phone, as the party's background; optionally a
//!   new contact for a stranger;
//! - `record-activity` ([`ops::activity`]): a comment on the contact;
//! - `upsert-ticket` ([`ops::ticket`]): a case, created or updated.
//!
//! The operations run over a [`transport::Transport`]; here it is the
//! host's `wasi:http` with the operator's token. [`mapping`] is the pure
//! translation, tested natively.

pub mod mapping;
pub mod ops;
pub mod settings;
pub mod transport;

use silta_sdk::types::{
    Activity, Background, BackofficeLink, Identity, IdentityKind, PluginError, PluginInfo, Ticket,
};
use silta_sdk::{Backoffice, Plugin, time};

use crate::settings::Settings;
use crate::transport::HostTransport;

/// The plugin id; equal to `id` in `plugin.toml`.
pub const ID: &str = "bottlecrm";

/// The plugin.
pub struct BottleCrm;

// === impl BottleCrm ===

impl Plugin for BottleCrm {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            ID,
            env!("CARGO_PKG_VERSION"),
            "BottleCRM",
            "BottleCRM (django-crm) contacts as party background, interactions as contact \
             comments, Silta cases as BottleCRM cases.",
        )
        .with_identity_kinds([
            IdentityKind::CrmContact,
            IdentityKind::Email,
            IdentityKind::Phone,
        ])
    }
}

impl Backoffice for BottleCrm {
    fn lookup_party(identities: Vec<Identity>) -> Result<Option<Background>, PluginError> {
        let (settings, crm) = connect()?;
        ops::lookup::lookup(&crm, &settings, &identities)
    }

    fn record_activity(activity: Activity) -> Result<BackofficeLink, PluginError> {
        let (settings, crm) = connect()?;
        ops::activity::record(&crm, &settings, &activity)
    }

    fn upsert_ticket(ticket: Ticket) -> Result<BackofficeLink, PluginError> {
        let (settings, crm) = connect()?;
        ops::ticket::upsert(&crm, &settings, &ticket, &today())
    }
}

fn connect() -> Result<(Settings, HostTransport), PluginError> {
    let settings = Settings::from_host()?;
    let crm = HostTransport::open(&settings.api)?;
    Ok((settings, crm))
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn today() -> String {
    time::to_rfc3339(&time::now())
        .and_then(|at| at.get(..10).map(str::to_owned))
        .unwrap_or_else(|| "1970-01-01".to_owned())
}

silta_sdk::export_backoffice!(BottleCrm);
