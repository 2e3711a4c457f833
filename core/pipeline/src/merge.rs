//! Merging parties, and undoing a merge.
//!
//! A merge is a record, never a delete: each merged party stays, with
//! status `merged` and `merged_into` pointing at the survivor (so its id
//! keeps resolving), and its identities, conversations, interactions,
//! cases and back-office links move to the survivor. The record lists
//! exactly what moved from which party, the field decisions, the evidence
//! and who decided, so [`unmerge`] moves exactly that back and restores
//! the parties. Records that reached the survivor after the merge stay
//! with it.

use std::sync::Arc;

use silta_model::{
    FieldDecision, MergeDecider, MergeEvidence, MergeId, MergeRecord, Party, PartyId, PartyStatus,
    Timestamp,
};
use silta_store::{Store, StoreTx, transact};

use crate::error::{PipelineError, Result};
use crate::events;

/// What an agent asks to merge.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeRequest {
    /// The party that remains.
    pub survivor: PartyId,
    /// The parties merged into it.
    pub merged: Vec<PartyId>,
    /// Fields to take from a merged party instead of the survivor
    /// (`display_name`, `names`, `languages`, `attributes.<name>`).
    pub field_decisions: Vec<FieldDecision>,
    /// Why the parties are the same.
    pub evidence: Vec<MergeEvidence>,
    /// Who decided.
    pub decided_by: MergeDecider,
}

/// Merge as `request` says; returns the record.
pub async fn merge(store: &Arc<dyn Store>, request: MergeRequest) -> Result<MergeRecord> {
    transact(&**store, move |tx| {
        Box::pin(async move { abort_on_store_error(merge_in(tx, request).await) })
    })
    .await?
}

/// Undo merge `id`; returns the record, now reverted.
pub async fn unmerge(store: &Arc<dyn Store>, id: MergeId) -> Result<MergeRecord> {
    transact(&**store, move |tx| {
        Box::pin(async move { abort_on_store_error(unmerge_in(tx, id).await) })
    })
    .await?
}

/// A refusal (checked before any write) commits nothing and is returned;
/// a store error aborts the unit, so a half-done merge is never kept.
fn abort_on_store_error<T>(outcome: Result<T>) -> silta_store::Result<Result<T>> {
    match outcome {
        Err(PipelineError::Store(err)) => Err(err),
        other => Ok(other),
    }
}

async fn merge_in(tx: &mut dyn StoreTx, request: MergeRequest) -> Result<MergeRecord> {
    let mut survivor = active_party(tx, request.survivor, "survivor").await?;
    if request.merged.is_empty() {
        return Err(PipelineError::Invalid(
            "name at least one party to merge".into(),
        ));
    }
    let mut merged = Vec::with_capacity(request.merged.len());
    for id in &request.merged {
        if *id == survivor.id || merged.iter().any(|p: &Party| p.id == *id) {
            return Err(PipelineError::Invalid(format!(
                "party {id} is named twice (or is the survivor)"
            )));
        }
        merged.push(active_party(tx, *id, "merged party").await?);
    }
    for decision in &request.field_decisions {
        if decision.kept_from != survivor.id && !merged.iter().any(|p| p.id == decision.kept_from) {
            return Err(PipelineError::Invalid(format!(
                "field decision for `{}` keeps the value of party {}, which is not in this merge",
                decision.field, decision.kept_from
            )));
        }
        if !is_mergeable_field(&decision.field) {
            return Err(PipelineError::Invalid(format!(
                "field `{}` cannot be decided; use display_name, names, languages or attributes.<name>",
                decision.field
            )));
        }
    }
    let now = Timestamp::now();
    let survivor_before = survivor.clone();
    let mut decisions = request.field_decisions.clone();
    for party in &merged {
        if survivor.display_name.is_none()
            && party.display_name.is_some()
            && !decisions.iter().any(|d| d.field == "display_name")
        {
            decisions.push(FieldDecision {
                field: "display_name".into(),
                kept_from: party.id,
                reason: Some("the survivor had no display name".into()),
            });
        }
    }
    for decision in &decisions {
        if let Some(source) = merged.iter().find(|p| p.id == decision.kept_from) {
            copy_field(&decision.field, source, &mut survivor);
        }
    }
    let mut moved = Vec::with_capacity(merged.len());
    for mut party in merged {
        moved.push(tx.move_party_records(party.id, survivor.id).await?);
        party.status = PartyStatus::Merged;
        party.merged_into = Some(survivor.id);
        party.updated_at = now;
        tx.update_party(&party).await?;
    }
    survivor.updated_at = now;
    tx.update_party(&survivor).await?;
    let record = MergeRecord {
        id: MergeId::new(),
        survivor: survivor.id,
        merged: request.merged,
        moved,
        survivor_before: Some(survivor_before),
        field_decisions: decisions,
        evidence: request.evidence,
        rule: "manual".into(),
        decided_by: request.decided_by,
        at: now,
        reverted_at: None,
    };
    tx.save_merge(&record).await?;
    tx.append_event(&events::party_merged(&record)).await?;
    Ok(record)
}

async fn unmerge_in(tx: &mut dyn StoreTx, id: MergeId) -> Result<MergeRecord> {
    let Some(mut record) = tx.merge(id).await? else {
        return Err(PipelineError::NotFound {
            what: "merge",
            id: id.to_string(),
        });
    };
    if let Some(at) = record.reverted_at {
        return Err(PipelineError::Conflict(format!(
            "merge {id} was already undone at {at}"
        )));
    }
    for party in std::iter::once(&record.survivor).chain(&record.merged) {
        let later: Vec<MergeId> = tx
            .later_merges(*party, record.at)
            .await?
            .into_iter()
            .filter(|m| *m != id)
            .collect();
        if let Some(later) = later.first() {
            return Err(PipelineError::Conflict(format!(
                "party {party} was merged again later (merge {later}); undo that merge first"
            )));
        }
    }
    let now = Timestamp::now();
    for records in &record.moved {
        let Some(party_id) = records.party else {
            continue;
        };
        tx.move_records(records, party_id).await?;
        if let Some(mut party) = tx.party(party_id).await? {
            party.status = PartyStatus::Active;
            party.merged_into = None;
            party.updated_at = now;
            tx.update_party(&party).await?;
        }
    }
    if let (Some(before), Some(mut survivor)) = (
        record.survivor_before.as_ref(),
        tx.party(record.survivor).await?,
    ) {
        for decision in &record.field_decisions {
            copy_field(&decision.field, before, &mut survivor);
        }
        survivor.updated_at = now;
        tx.update_party(&survivor).await?;
    }
    record.reverted_at = Some(now);
    tx.save_merge(&record).await?;
    tx.append_event(&events::party_unmerged(&record)).await?;
    Ok(record)
}

async fn active_party(tx: &mut dyn StoreTx, id: PartyId, role: &str) -> Result<Party> {
    let Some(party) = tx.party(id).await? else {
        return Err(PipelineError::NotFound {
            what: "party",
            id: id.to_string(),
        });
    };
    if let Some(into) = party.merged_into {
        return Err(PipelineError::Conflict(format!(
            "the {role} {id} is already merged into {into}"
        )));
    }
    Ok(party)
}

fn is_mergeable_field(field: &str) -> bool {
    matches!(field, "display_name" | "names" | "languages")
        || field
            .strip_prefix("attributes.")
            .is_some_and(|n| !n.is_empty())
}

/// Set `field` of `to` to its value in `from` (removing an attribute
/// `from` lacks).
fn copy_field(field: &str, from: &Party, to: &mut Party) {
    match field {
        "display_name" => to.display_name.clone_from(&from.display_name),
        "names" => to.names.clone_from(&from.names),
        "languages" => to.languages.clone_from(&from.languages),
        other => {
            if let Some(name) = other.strip_prefix("attributes.") {
                match from.attributes.get(name) {
                    Some(value) => {
                        to.attributes.insert(name.to_owned(), value.clone());
                    }
                    None => {
                        to.attributes.remove(name);
                    }
                }
            }
        }
    }
}
