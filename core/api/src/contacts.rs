//! What agents do with the contact graph: merge and unmerge parties, ask
//! why an interaction was linked where it is, manage cases (status,
//! conversations, messages on the case's channels, the back-office
//! ticket).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use silta_model::{
    AgentId, CaseId, CaseStatus, ConversationId, FieldDecision, InteractionId, MergeDecider,
    MergeEvidence, MergeId, PartyId,
};
use silta_pipeline::cases::{self, CaseTarget, TicketRequest};
use silta_pipeline::merge::{self, MergeRequest};
use utoipa::ToSchema;

use crate::messages::{Queued, answer, idempotency_key, json_body, message, submit};
use crate::query::{parse, party_or_404};
use crate::{ApiError, AppState};

/// A merge an agent decided.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The party that remains.
    pub survivor: String,
    /// The parties merged into it.
    pub merged: Vec<String>,
    /// The agent deciding (a UUIDv7).
    pub agent_id: String,
    /// Fields to take from a merged party: `[{"field": "display_name", "kept_from": "<party id>"}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub field_decisions: Vec<FieldDecision>,
    /// Why: `[{"description": "same customer, confirmed by phone"}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<MergeEvidence>,
}

/// Merge parties into a survivor (a record, never a delete).
#[utoipa::path(post, path = "/v1/parties/merge", request_body = MergeBody,
    responses((status = 201, description = "The merge record"), (status = 400, description = "Malformed body"),
              (status = 404, description = "No such party"), (status = 409, description = "A party is already merged"),
              (status = 422, description = "Cannot be merged as asked")),
    security(("bearer" = [])))]
pub async fn merge_parties(
    State(state): State<Arc<AppState>>,
    body: bytes::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: MergeBody = json_body(&body)?;
    let merged = body
        .merged
        .iter()
        .map(|id| parse::<PartyId>("party", id))
        .collect::<Result<Vec<_>, _>>()?;
    let request = MergeRequest {
        survivor: parse("party", &body.survivor)?,
        merged,
        field_decisions: body.field_decisions,
        evidence: body.evidence,
        decided_by: MergeDecider::Agent(parse::<AgentId>("agent", &body.agent_id)?),
    };
    let record = merge::merge(&state.store, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "merge": record }))))
}

/// A merge record.
#[utoipa::path(get, path = "/v1/merges/{id}", params(("id" = String, Path, description = "Merge id")),
    responses((status = 200, description = "The merge record"), (status = 404, description = "No such merge")),
    security(("bearer" = [])))]
pub async fn get_merge(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let merge_id: MergeId = parse("merge", &id)?;
    let record = state
        .store
        .merge(merge_id)
        .await?
        .ok_or_else(|| ApiError::not_found("merge", &id))?;
    Ok(Json(json!({ "merge": record })))
}

/// Undo a merge: the parties come back with exactly the records it moved.
#[utoipa::path(post, path = "/v1/merges/{id}/unmerge", params(("id" = String, Path, description = "Merge id")),
    responses((status = 200, description = "The merge record, reverted"), (status = 404, description = "No such merge"),
              (status = 409, description = "Already undone, or a later merge must be undone first")),
    security(("bearer" = [])))]
pub async fn unmerge(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let merge_id: MergeId = parse("merge", &id)?;
    let record = merge::unmerge(&state.store, merge_id).await?;
    Ok(Json(json!({ "merge": record })))
}

/// Why an interaction is linked to its party, conversation and case: the
/// rule, identity and thread key of each decision, and the merges that
/// moved it since.
#[utoipa::path(get, path = "/v1/interactions/{id}/explain", params(("id" = String, Path, description = "Interaction id")),
    responses((status = 200, description = "The linking decisions"), (status = 404, description = "No such interaction")),
    security(("bearer" = [])))]
pub async fn explain(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let interaction_id: InteractionId = parse("interaction", &id)?;
    let interaction = state
        .store
        .interaction(interaction_id)
        .await?
        .ok_or_else(|| ApiError::not_found("interaction", &id))?;
    let mut merges = Vec::new();
    if let Some(party) = interaction.party_id {
        for record in state.store.merges_of_party(party).await? {
            let moved = record
                .moved
                .iter()
                .find(|m| m.interactions.contains(&interaction.id));
            if let Some(moved) = moved {
                merges.push(json!({
                    "merge_id": record.id,
                    "survivor": record.survivor,
                    "from_party": moved.party,
                    "at": record.at,
                    "reverted_at": record.reverted_at,
                    "decided_by": record.decided_by,
                }));
            }
        }
    }
    let linking = interaction.linking.as_ref();
    Ok(Json(json!({
        "interaction_id": interaction.id,
        "party": { "id": interaction.party_id, "decision": linking.map(|l| &l.party) },
        "conversation": { "id": interaction.conversation_id, "decision": linking.map(|l| &l.conversation) },
        "case": { "id": interaction.case_id, "decision": linking.map(|l| &l.case) },
        "merges": merges,
        "threading_reason": interaction.threading_reason,
    })))
}

/// A party's cases, newest first.
#[utoipa::path(get, path = "/v1/parties/{id}/cases", params(("id" = String, Path, description = "Party id")),
    responses((status = 200, description = "The cases"), (status = 404, description = "No such party")),
    security(("bearer" = [])))]
pub async fn party_cases(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let party = party_or_404(&state, &id).await?;
    let cases = state.store.party_cases(party.id).await?;
    Ok(Json(json!({ "items": cases })))
}

/// A change to a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseChange {
    /// `open`, `pending`, `resolved` or `closed`.
    #[schema(value_type = String)]
    pub status: CaseStatus,
}

/// Set a case's status.
#[utoipa::path(patch, path = "/v1/cases/{id}", params(("id" = String, Path, description = "Case id")),
    request_body = CaseChange,
    responses((status = 200, description = "The case"), (status = 400, description = "Malformed body"),
              (status = 404, description = "No such case")),
    security(("bearer" = [])))]
pub async fn update_case(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Result<Json<Value>, ApiError> {
    let case_id: CaseId = parse("case", &id)?;
    let change: CaseChange = json_body(&body)?;
    let case = cases::set_status(&state.store, case_id, change.status).await?;
    Ok(Json(json!({ "case": case })))
}

/// Where a conversation should go.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// An existing case of the same party; omit to open a new case.
    pub case_id: Option<String>,
}

/// Move a conversation (with its interactions) to another case, or to a
/// new one.
#[utoipa::path(post, path = "/v1/conversations/{id}/case", params(("id" = String, Path, description = "Conversation id")),
    request_body = MoveBody,
    responses((status = 200, description = "The case it is in now"), (status = 404, description = "No such conversation or case"),
              (status = 422, description = "The case belongs to another party")),
    security(("bearer" = [])))]
pub async fn move_conversation(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Result<Json<Value>, ApiError> {
    let conversation: ConversationId = parse("conversation", &id)?;
    let body: MoveBody = json_body(&body)?;
    let target = match body.case_id {
        Some(case) => CaseTarget::Existing(parse("case", &case)?),
        None => CaseTarget::New,
    };
    let case = cases::move_conversation(&state.store, conversation, target).await?;
    Ok(Json(json!({ "case": case })))
}

/// A message on a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseMessageBody {
    /// The channel account to answer on (name or id); by default the one
    /// the customer wrote on last.
    pub channel_account: Option<String>,
    /// Plain text.
    pub text: Option<String>,
    /// Content parts.
    #[schema(value_type = Option<Vec<Object>>)]
    pub parts: Option<Vec<silta_model::Part>>,
    /// Subject.
    pub subject: Option<String>,
}

/// Answer the customer of a case, on the channel they used last or on
/// one the agent picks.
#[utoipa::path(post, path = "/v1/cases/{id}/messages",
    params(("id" = String, Path, description = "Case id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried POST safe")),
    request_body = CaseMessageBody,
    responses((status = 202, description = "Queued in the outbox", body = Queued),
              (status = 400, description = "Malformed body"), (status = 404, description = "No such case or channel account"),
              (status = 422, description = "Cannot be sent as asked")),
    security(("bearer" = [])))]
pub async fn case_message(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let case_id: CaseId = parse("case", &id)?;
    let body: CaseMessageBody = json_body(&body)?;
    let msg = message(body.text, body.parts, body.subject)?;
    let key = idempotency_key(&headers)?;
    let outbound = Arc::clone(&state.outbound);
    let channel = body.channel_account;
    let submitted =
        submit(async move { outbound.send_on_case(case_id, channel, msg, key).await }).await?;
    Ok(answer(submitted))
}

/// A ticket to open for a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketBody {
    /// The back-office plugin (`bottlecrm`).
    pub plugin: String,
    /// Title; by default the case's subject.
    pub title: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Priority (`low`, `normal`, `high`, `urgent`).
    pub priority: Option<String>,
}

/// Open the case's ticket in a back office (or update it); the link is
/// kept on the case.
#[utoipa::path(post, path = "/v1/cases/{id}/ticket", params(("id" = String, Path, description = "Case id")),
    request_body = TicketBody,
    responses((status = 201, description = "The ticket's link"), (status = 404, description = "No such case or back office"),
              (status = 503, description = "The back office failed; retry later")),
    security(("bearer" = [])))]
pub async fn create_ticket(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let case_id: CaseId = parse("case", &id)?;
    let body: TicketBody = json_body(&body)?;
    let backoffice = state
        .backoffices
        .iter()
        .find(|b| b.plugin.id().as_str() == body.plugin)
        .cloned()
        .ok_or_else(|| ApiError::not_found("back-office plugin", &body.plugin))?;
    let request = TicketRequest {
        title: body.title,
        description: body.description,
        priority: body.priority,
    };
    let link = cases::upsert_ticket(&state.store, &backoffice, case_id, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "ticket": link }))))
}
