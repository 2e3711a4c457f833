//! `POST /v1/ingest/{channel_account}`: provider webhooks in.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use bytes::Bytes;
use serde::Serialize;
use silta_runtime::contract::TransportMeta;
use utoipa::ToSchema;

use crate::{ApiError, AppState};

/// The answer to an accepted event.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAccepted {
    /// The journal entry that holds it.
    pub journal_seq: i64,
    /// Interactions and delivery reports it contained.
    pub items: usize,
}

/// Hand a provider's request to the channel account's plugin, which
/// verifies its signature and normalizes it; answer 202 once the event is
/// in the journal (durable).
#[utoipa::path(
    post,
    path = "/v1/ingest/{channel_account}",
    params(("channel_account" = String, Path, description = "Channel account name (or id)")),
    request_body(content = String, description = "The provider's payload, as sent", content_type = "application/json"),
    responses(
        (status = 202, description = "Journaled", body = IngestAccepted),
        (status = 400, description = "Malformed payload; nothing was written"),
        (status = 401, description = "Missing or invalid API token, or the provider's signature was refused; nothing was written"),
        (status = 404, description = "Unknown channel account"),
        (status = 413, description = "Body larger than the limit"),
        (status = 503, description = "The plugin failed; the event was journaled and dead-lettered, and the provider should retry"),
    ),
    security(("bearer" = []))
)]
pub async fn ingest(
    State(state): State<Arc<AppState>>,
    Path(channel_account): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<IngestAccepted>), ApiError> {
    let body = body.map_err(|rejection| {
        ApiError::unreadable_body(
            &rejection,
            "the body",
            state.max_body_bytes,
            "api.max_body_bytes",
        )
    })?;
    let transport = TransportMeta::Http {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    name.as_str().to_ascii_lowercase(),
                    value.to_str().ok()?.to_owned(),
                ))
            })
            .collect(),
    };
    let inbound = Arc::clone(&state.inbound);
    // Its own task: a client that hangs up must not cancel a journal write.
    let accepted = tokio::spawn(async move {
        inbound
            .accept(&channel_account, transport, body.to_vec())
            .await
    })
    .await
    .map_err(|err| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("ingest task failed: {err}"),
        )
    })??;
    Ok((
        StatusCode::ACCEPTED,
        Json(IngestAccepted {
            journal_seq: accepted.journal_seq,
            items: accepted.items,
        }),
    ))
}
