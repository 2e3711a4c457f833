//! Reading the contact graph.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use serde_json::{Value, json};
use silta_model::{CaseId, ConversationId, Interaction, InteractionId, PartyId};
use silta_store::records::{InteractionsOf, Page};

use crate::cursor::{PageParams, encode};
use crate::{ApiError, AppState};

/// An id from the path, or 400 naming it.
pub(crate) fn parse<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    raw.parse::<T>()
        .map_err(|err| ApiError::bad_request(format!("{what} id {raw:?}: {err}")))
}

/// A page of items and where the next one starts.
#[derive(Debug, Serialize)]
pub struct PageBody<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn page<T>(page: Page<T>) -> PageBody<T> {
    PageBody {
        items: page.items,
        next_cursor: page.next.as_ref().map(encode),
    }
}

/// One page of interactions.
async fn interactions(
    state: &AppState,
    of: InteractionsOf,
    params: &PageParams,
) -> Result<Json<PageBody<Interaction>>, ApiError> {
    let found = state
        .store
        .interactions(of, params.cursor()?, params.limit())
        .await?;
    Ok(Json(page(found)))
}

/// The party `id` names (the survivor when it was merged), or 404.
pub(crate) async fn party_or_404(
    state: &AppState,
    id: &str,
) -> Result<silta_model::Party, ApiError> {
    let party_id: PartyId = parse("party", id)?;
    state
        .store
        .party(party_id)
        .await?
        .ok_or_else(|| ApiError::not_found("party", id))
}

/// A record, or 404.
fn found<T>(record: Option<T>, what: &str, id: &str) -> Result<Json<T>, ApiError> {
    record
        .map(Json)
        .ok_or_else(|| ApiError::not_found(what, id))
}

/// Parties, newest first.
#[utoipa::path(get, path = "/v1/parties", params(PageParams),
    responses((status = 200, description = "A page of parties")), security(("bearer" = [])))]
pub async fn list_parties(
    State(state): State<Arc<AppState>>,
    Query(params): Query<PageParams>,
) -> Result<Json<PageBody<silta_model::Party>>, ApiError> {
    let found = state
        .store
        .parties(params.cursor()?, params.limit())
        .await?;
    Ok(Json(page(found)))
}

/// A party with its identities and back-office links. An id of a merged
/// party answers with the survivor.
#[utoipa::path(get, path = "/v1/parties/{id}", params(("id" = String, Path, description = "Party id")),
    responses((status = 200, description = "The party"), (status = 404, description = "No such party")),
    security(("bearer" = [])))]
pub async fn get_party(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let party = party_or_404(&state, &id).await?;
    let identities = state.store.party_identities(party.id).await?;
    let links = state.store.party_links(party.id).await?;
    Ok(Json(
        json!({ "party": party, "identities": identities, "backoffice_links": links }),
    ))
}

/// A party's interactions across every channel, oldest first.
#[utoipa::path(get, path = "/v1/parties/{id}/timeline",
    params(("id" = String, Path, description = "Party id"), PageParams),
    responses((status = 200, description = "A page of interactions")), security(("bearer" = [])))]
pub async fn party_timeline(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<PageBody<Interaction>>, ApiError> {
    let party = party_or_404(&state, &id).await?;
    interactions(&state, InteractionsOf::Party(party.id), &params).await
}

/// A conversation.
#[utoipa::path(get, path = "/v1/conversations/{id}", params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, description = "The conversation"), (status = 404, description = "No such conversation")),
    security(("bearer" = [])))]
pub async fn get_conversation(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<silta_model::Conversation>, ApiError> {
    let conversation_id: ConversationId = parse("conversation", &id)?;
    found(
        state.store.conversation(conversation_id).await?,
        "conversation",
        &id,
    )
}

/// A conversation's interactions, oldest first.
#[utoipa::path(get, path = "/v1/conversations/{id}/interactions",
    params(("id" = String, Path, description = "Conversation id"), PageParams),
    responses((status = 200, description = "A page of interactions")), security(("bearer" = [])))]
pub async fn conversation_interactions(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<PageBody<Interaction>>, ApiError> {
    let conversation_id: ConversationId = parse("conversation", &id)?;
    interactions(
        &state,
        InteractionsOf::Conversation(conversation_id),
        &params,
    )
    .await
}

/// A case.
#[utoipa::path(get, path = "/v1/cases/{id}", params(("id" = String, Path, description = "Case id")),
    responses((status = 200, description = "The case"), (status = 404, description = "No such case")),
    security(("bearer" = [])))]
pub async fn get_case(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<silta_model::Case>, ApiError> {
    let case_id: CaseId = parse("case", &id)?;
    found(state.store.case(case_id).await?, "case", &id)
}

/// A case's interactions on every channel, oldest first.
#[utoipa::path(get, path = "/v1/cases/{id}/interactions",
    params(("id" = String, Path, description = "Case id"), PageParams),
    responses((status = 200, description = "A page of interactions")), security(("bearer" = [])))]
pub async fn case_interactions(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<PageBody<Interaction>>, ApiError> {
    let case_id: CaseId = parse("case", &id)?;
    interactions(&state, InteractionsOf::Case(case_id), &params).await
}

/// An interaction, with its delivery history.
#[utoipa::path(get, path = "/v1/interactions/{id}", params(("id" = String, Path, description = "Interaction id")),
    responses((status = 200, description = "The interaction"), (status = 404, description = "No such interaction")),
    security(("bearer" = [])))]
pub async fn get_interaction(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Interaction>, ApiError> {
    let interaction_id: InteractionId = parse("interaction", &id)?;
    found(
        state.store.interaction(interaction_id).await?,
        "interaction",
        &id,
    )
}
