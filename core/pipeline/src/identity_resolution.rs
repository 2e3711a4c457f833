//! Identity resolution: which party a sender is, and which identities a
//! back office may add to a party.
//!
//! The rules, in order, for a sender's identity on a channel:
//! 1. **known-identity**: the identity (kind, scope, value) is stored, and
//!    the same source (the same channel plugin) asserted it first. The
//!    same claim made again names the same party.
//! 2. **attested-identity-match**: the stored identity, or one of another
//!    kind with the same value (a phone number and a WhatsApp number), is
//!    held with attested assurance (channel-attested, HMAC-verified,
//!    agent-verified; a CRM or ERP record) and the sender's is attested
//!    too. The evidence is strong: the new identity joins that party.
//! 3. Otherwise the identity is new to Silta (**new-party**), or it
//!    matches another party's without strong evidence on both sides: Silta
//!    keeps a separate party and publishes `silta.identity.conflict` with
//!    the evidence (**unconfirmed-claim**). Because identities are unique
//!    on (kind, scope, value), the separate party holds the claim scoped
//!    to the channel account that made it, so the same claimant lands in
//!    the same separate party next time.
//!
//! A back office's identities ([`attach_backoffice_identities`]) are an
//! explicit link: a new one joins the party the lookup was made for, a
//! stored one of that party is raised to the back office's assurance, and
//! one held by another party is left there and raised as a conflict.

use serde_json::json;
use silta_model::{
    ChannelAccountId, Identity, IdentityKey, IdentityScope, LinkDecision, Party, PartyId, Timestamp,
};
use silta_store::StoreTx;

use crate::error::Result;
use crate::events;

/// How many `merged_into` hops are followed to a survivor.
const MAX_MERGE_HOPS: usize = 16;

/// Where a sender was placed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The sender's party.
    pub party: PartyId,
    /// The rule that decided.
    pub decision: LinkDecision,
}

/// Who is claiming an identity: the channel plugin and account an
/// interaction came in on.
#[derive(Debug, Clone, Copy)]
pub struct Claimant<'a> {
    /// The channel plugin (`"email"`), the identity's source.
    pub plugin: &'a str,
    /// The channel account.
    pub channel_account: ChannelAccountId,
}

/// The party of `sender` claimed by `claimant`, creating a party (and
/// publishing `silta.party.created`) when the rules call for one.
pub async fn resolve_sender(
    tx: &mut dyn StoreTx,
    sender: &Identity,
    claimant: Claimant<'_>,
) -> Result<Resolution> {
    let key = sender.key();
    if let Some(stored) = tx.identity_by_key(&key).await?
        && let Some(holder) = stored.party_id
    {
        let holder = survivor(tx, holder).await?;
        if stored
            .source
            .as_deref()
            .is_none_or(|s| s == claimant.plugin)
        {
            raise_assurance(tx, stored, sender).await?;
            return Ok(decided(
                holder,
                "known-identity",
                &key,
                format!("{} already asserted this identity", claimant.plugin),
            ));
        }
        if stored.assurance.is_attested() && sender.assurance.is_attested() {
            raise_assurance(tx, stored.clone(), sender).await?;
            return Ok(decided(
                holder,
                "attested-identity-match",
                &key,
                format!(
                    "held {:?} by the party and claimed {:?} by {}: attested on both sides",
                    stored.assurance, sender.assurance, claimant.plugin
                ),
            ));
        }
        return unconfirmed_claim(tx, sender, claimant, &stored, holder).await;
    }
    let mut weak_matches = Vec::new();
    for other in key.equivalents() {
        let Some(stored) = tx.identity_by_key(&other).await? else {
            continue;
        };
        let Some(holder) = stored.party_id else {
            continue;
        };
        let holder = survivor(tx, holder).await?;
        if stored.assurance.is_attested() && sender.assurance.is_attested() {
            insert_identity(tx, sender, holder, claimant.plugin).await?;
            return Ok(decided(
                holder,
                "attested-identity-match",
                &other,
                format!(
                    "the party holds {other_kind} {value} ({:?}) and {} attests {kind} {value} ({:?})",
                    stored.assurance,
                    claimant.plugin,
                    sender.assurance,
                    other_kind = other.kind().name(),
                    kind = key.kind().name(),
                    value = key.value(),
                ),
            ));
        }
        weak_matches.push((other, stored, holder));
    }
    let party = new_party(tx, sender).await?;
    insert_identity(tx, sender, party, claimant.plugin).await?;
    if weak_matches.is_empty() {
        return Ok(decided(
            party,
            "new-party",
            &key,
            "no stored identity matched".to_owned(),
        ));
    }
    for (other, stored, holder) in &weak_matches {
        let evidence = evidence(sender, claimant, stored);
        tx.append_event(&events::identity_conflict(other, *holder, party, &evidence))
            .await?;
    }
    Ok(decided(
        party,
        "unconfirmed-claim",
        &key,
        format!(
            "{} matches another party's identity, but not attested on both sides; kept apart and raised as a conflict",
            key.value()
        ),
    ))
}

/// Attach the identities a back office returned for `party`; returns how
/// many were added or strengthened.
pub async fn attach_backoffice_identities(
    tx: &mut dyn StoreTx,
    party: PartyId,
    plugin: &str,
    identities: &[Identity],
) -> Result<usize> {
    let source = format!("backoffice:{plugin}");
    let mut changed = 0;
    for identity in identities {
        let Some(stored) = tx.identity_by_key(&identity.key()).await? else {
            insert_identity(tx, identity, party, &source).await?;
            changed += 1;
            continue;
        };
        let holder = match stored.party_id {
            Some(holder) => Some(survivor(tx, holder).await?),
            None => None,
        };
        match holder {
            Some(holder) if holder != party => {
                let evidence = json!({
                    "rule": "backoffice-record",
                    "detail": format!(
                        "{plugin} returned this identity for party {party}, but party {holder} holds it"
                    ),
                    "backoffice": plugin,
                });
                tx.append_event(&events::identity_conflict(
                    &identity.key(),
                    holder,
                    party,
                    &evidence,
                ))
                .await?;
            }
            _ => {
                let mut stored = stored;
                stored.party_id = Some(party);
                if raise_assurance(tx, stored, identity).await? {
                    changed += 1;
                }
            }
        }
    }
    Ok(changed)
}

/// The survivor of `party` (itself unless it was merged).
pub async fn survivor(tx: &mut dyn StoreTx, party: PartyId) -> Result<PartyId> {
    let mut id = party;
    for _ in 0..MAX_MERGE_HOPS {
        match tx.party(id).await? {
            Some(Party {
                merged_into: Some(next),
                ..
            }) if next != id => id = next,
            _ => return Ok(id),
        }
    }
    Ok(id)
}

/// Keep the claim apart: the separate party holding it scoped to the
/// claimant's channel account, created (with a conflict event) the first
/// time.
async fn unconfirmed_claim(
    tx: &mut dyn StoreTx,
    sender: &Identity,
    claimant: Claimant<'_>,
    stored: &Identity,
    holder: PartyId,
) -> Result<Resolution> {
    let key = sender.key();
    let scoped_key = key.in_scope(IdentityScope::ChannelAccount(
        claimant.channel_account.to_string(),
    ));
    if let Some(scoped) = tx.identity_by_key(&scoped_key).await?
        && let Some(party) = scoped.party_id
    {
        let party = survivor(tx, party).await?;
        return Ok(decided(
            party,
            "unconfirmed-claim",
            &scoped_key,
            format!(
                "{} is held by party {holder}; this channel account's claim of it was kept apart before",
                key.value()
            ),
        ));
    }
    let party = new_party(tx, sender).await?;
    let mut scoped = Identity::from_key(scoped_key.clone(), sender.assurance);
    scoped.display_name.clone_from(&sender.display_name);
    insert_identity(tx, &scoped, party, claimant.plugin).await?;
    let evidence = evidence(sender, claimant, stored);
    tx.append_event(&events::identity_conflict(&key, holder, party, &evidence))
        .await?;
    Ok(decided(
        party,
        "unconfirmed-claim",
        &key,
        format!(
            "party {holder} holds {} ({:?}, from {}); the claim ({:?}, from {}) is not attested on both sides, so it was kept apart and raised as a conflict",
            key.value(),
            stored.assurance,
            stored.source.as_deref().unwrap_or("unknown"),
            sender.assurance,
            claimant.plugin
        ),
    ))
}

fn evidence(sender: &Identity, claimant: Claimant<'_>, stored: &Identity) -> serde_json::Value {
    json!({
        "rule": "unconfirmed-claim",
        "held": {
            "identity": stored.key(),
            "assurance": stored.assurance,
            "source": stored.source,
        },
        "claimed": {
            "identity": sender.key(),
            "assurance": sender.assurance,
            "source": claimant.plugin,
            "channel_account": claimant.channel_account,
        },
    })
}

async fn new_party(tx: &mut dyn StoreTx, sender: &Identity) -> Result<PartyId> {
    let mut party = Party::new(Timestamp::now());
    party.display_name.clone_from(&sender.display_name);
    tx.insert_party(&party).await?;
    tx.append_event(&events::party_created(&party)).await?;
    Ok(party.id)
}

async fn insert_identity(
    tx: &mut dyn StoreTx,
    identity: &Identity,
    party: PartyId,
    source: &str,
) -> Result<()> {
    let mut stored = identity.clone();
    stored.id = silta_model::IdentityId::new();
    stored.party_id = Some(party);
    stored.source = Some(source.to_owned());
    tx.insert_identity(&stored).await?;
    Ok(())
}

/// Store `stored` with the stronger of its assurance and `claim`'s (and
/// a display name it lacked); true when anything changed.
async fn raise_assurance(
    tx: &mut dyn StoreTx,
    mut stored: Identity,
    claim: &Identity,
) -> Result<bool> {
    let before = stored.clone();
    stored.assurance = stored.assurance.max(claim.assurance);
    if stored.display_name.is_none() {
        stored.display_name.clone_from(&claim.display_name);
    }
    if stored == before {
        return Ok(false);
    }
    tx.update_identity(&stored).await?;
    Ok(true)
}

fn decided(party: PartyId, rule: &str, identity: &IdentityKey, detail: String) -> Resolution {
    Resolution {
        party,
        decision: LinkDecision {
            rule: rule.to_owned(),
            identity: Some(identity.clone()),
            thread_key: None,
            detail,
        },
    }
}
