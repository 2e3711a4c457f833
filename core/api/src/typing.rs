//! `POST /v1/conversations/{id}/typing`: an agent is typing a reply to a
//! web chat visitor; the visitor's widget shows it.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use silta_model::ConversationId;
use silta_webchat::WebchatError;
use utoipa::ToSchema;

use crate::{ApiError, AppState};

/// Whether the agent is typing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    /// `true` while typing; the widget hides the indicator on `false` or
    /// after 6 seconds without another call.
    pub active: bool,
}

/// How many widgets showed it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypingShown {
    /// The visitor's open widgets (0 when they are away).
    pub widgets: usize,
}

/// Show the typing indicator in a web chat visitor's widget.
#[utoipa::path(post, path = "/v1/conversations/{id}/typing",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = Typing,
    responses((status = 202, description = "Passed to the visitor's open widgets", body = TypingShown),
              (status = 400, description = "Malformed body"),
              (status = 404, description = "No such conversation, or not a web chat visitor's")),
    security(("bearer" = [])))]
pub async fn agent_typing(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<TypingShown>), ApiError> {
    let conversation: ConversationId = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a conversation id")))?;
    let typing: Typing = serde_json::from_slice(&body).map_err(|err| {
        ApiError::bad_request(format!(
            "the body must be {{\"active\": true|false}}: {err}"
        ))
    })?;
    let Some(gateway) = &state.webchat else {
        return Err(ApiError::not_found("web chat conversation", &id));
    };
    match gateway.agent_typing(conversation, typing.active).await {
        Ok(widgets) => Ok((StatusCode::ACCEPTED, Json(TypingShown { widgets }))),
        Err(WebchatError::NotFound(reason)) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", reason))
        }
        Err(err) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            err.to_string(),
        )),
    }
}
