//! `POST /v1/ingest/{channel_account}`: provider webhooks in, and
//! `GET` for the provider's subscription handshake.
//!
//! Both are authenticated per channel account (`ingest_auth`): by Silta's
//! API token, or, for a provider that cannot send one, by the provider's
//! signature, which the channel's plugin checks on every event.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use silta_pipeline::channels::{ChannelAccount, IngestAuth};
use silta_runtime::contract::TransportMeta;
use silta_runtime::handshake::HandshakeRefusal;
use utoipa::ToSchema;

use crate::{ApiError, AppState, auth};

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
    security(("bearer" = []), ())
)]
pub async fn ingest(
    State(state): State<Arc<AppState>>,
    Path(channel_account): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<IngestAccepted>), ApiError> {
    // `accept` resolves the account itself (and counts unknown ones).
    let _account = authenticate(&state, &channel_account, &headers)?;
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

/// Answer a provider's webhook subscription handshake (Meta's
/// `hub.challenge`) when the channel's plugin declares one in its manifest.
/// The host answers it; no plugin code runs and nothing is written.
#[utoipa::path(
    get,
    path = "/v1/ingest/{channel_account}",
    params(
        ("channel_account" = String, Path, description = "Channel account name (or id)"),
        ("hub.mode" = Option<String>, Query, description = "`subscribe`"),
        ("hub.verify_token" = Option<String>, Query, description = "The verify token configured on both sides"),
        ("hub.challenge" = Option<String>, Query, description = "Echoed back when the token matches"),
    ),
    responses(
        (status = 200, description = "The challenge, as text/plain", body = String, content_type = "text/plain"),
        (status = 400, description = "A parameter is missing or malformed"),
        (status = 401, description = "Missing or invalid API token (for `ingest_auth = \"api-token\"`)"),
        (status = 403, description = "The verify token does not match"),
        (status = 404, description = "Unknown channel account"),
        (status = 405, description = "The channel's plugin declares no handshake"),
        (status = 503, description = "The verify token is not configured"),
    ),
    security(("bearer" = []), ())
)]
pub async fn handshake(
    State(state): State<Arc<AppState>>,
    Path(channel_account): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let channel = authenticate(&state, &channel_account, &headers)??;
    let challenge = channel
        .plugin
        .answer_webhook_handshake(&query)
        .map_err(|refusal| {
            let (status, code) = match &refusal {
                HandshakeRefusal::NotDeclared { .. } => {
                    (StatusCode::METHOD_NOT_ALLOWED, "no_handshake")
                }
                HandshakeRefusal::NoToken { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "handshake_not_configured")
                }
                HandshakeRefusal::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
                HandshakeRefusal::WrongToken => (StatusCode::FORBIDDEN, "wrong_verify_token"),
            };
            tracing::warn!(channel_account = %channel.record.name, reason = %refusal, "webhook handshake refused");
            ApiError::new(status, code, refusal.to_string())
        })?;
    tracing::info!(channel_account = %channel.record.name, "webhook handshake answered");
    let mut response = challenge.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// The API token is required unless the channel account takes its
/// provider's signature instead. An unknown account needs the token too, so
/// that account names do not leak to callers without one. Returns the
/// account lookup for the caller.
fn authenticate(
    state: &AppState,
    channel_account: &str,
    headers: &HeaderMap,
) -> Result<silta_pipeline::Result<Arc<ChannelAccount>>, ApiError> {
    let channel = state.inbound.channels().get(channel_account);
    let by_signature = channel
        .as_ref()
        .is_ok_and(|channel| channel.ingest_auth == IngestAuth::ProviderSignature);
    if !by_signature {
        auth::check_token(state, headers)?;
    }
    Ok(channel)
}
