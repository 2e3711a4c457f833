//! `lookup-party`: search the parties, choose one, read its sale orders.
//!
//! At most two JSON-RPC calls: [`mapping::PARTY_SEARCH`] for parties with
//! any of the identities (none when no identity is searchable), then, when
//! a party matched and `max_orders` is above 0, [`mapping::SALE_SEARCH`]
//! for its newest orders.
//!
//! When several parties match (the same address on two records, a shared
//! phone), the one matching best wins: the party id of an earlier lookup
//! first, then the most matching identities, then the oldest (lowest id).
//! Its identities alone are returned, since Silta attaches them all to one
//! party; the other ids go into the `other_parties` attribute and the log.

use silta_sdk::types::{Background, Identity, PluginError};

use crate::mapping::{self, Party};
use crate::rpc::Rpc;
use crate::search::Criteria;
use crate::settings::Settings;

/// What Tryton knows about the party reached by `identities`; `None` when no
/// party matches or no identity is searchable.
pub fn lookup(
    settings: &Settings,
    identities: &[Identity],
    rpc: &mut impl Rpc,
) -> Result<Option<Background>, PluginError> {
    let criteria = Criteria::from_identities(identities);
    if criteria.is_empty() {
        silta_sdk::debug!(
            "none of the {} identities can be searched in Tryton",
            identities.len()
        );
        return Ok(None);
    }
    let region = settings.phone_region;
    let found = rpc.call(
        mapping::PARTY_SEARCH,
        mapping::party_params(&criteria, region),
    )?;
    let parties = mapping::parties(&found)?;
    let Some((party, others)) = choose(&criteria, parties, settings) else {
        silta_sdk::debug!("no Tryton party matches {} identities", criteria.len());
        return Ok(None);
    };
    if !others.is_empty() {
        silta_sdk::warn!(
            "{} Tryton parties match; chose party {} (best match, then oldest), not {:?}",
            others.len() + 1,
            party.id,
            others
        );
    }
    let sales = if settings.max_orders == 0 {
        Vec::new()
    } else {
        let found = rpc.call(
            mapping::SALE_SEARCH,
            mapping::sale_params(party.id, settings.max_orders),
        )?;
        mapping::sales(&found)?
    };
    Ok(Some(mapping::background(settings, &party, &sales, &others)))
}

/// The best match and the ids of the others.
fn choose(
    criteria: &Criteria,
    parties: Vec<Party>,
    settings: &Settings,
) -> Option<(Party, Vec<u64>)> {
    let mut scored: Vec<(u32, Party)> = parties
        .into_iter()
        .map(|party| (criteria.score(&party, settings.phone_region), party))
        .collect();
    scored.sort_by(|(a, pa), (b, pb)| b.cmp(a).then(pa.id.cmp(&pb.id)));
    let mut scored = scored.into_iter().map(|(_, party)| party);
    let best = scored.next()?;
    Some((best, scored.map(|party| party.id).collect()))
}
