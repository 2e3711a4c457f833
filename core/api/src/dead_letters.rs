//! The dead-letter queue over HTTP (the same operations as `silta dlq`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use silta_pipeline::dlq::{self, Replayed};
use silta_store::records::{DeadLetter, DeadLetterFilter};
use utoipa::IntoParams;

use crate::{ApiError, AppState};

/// Which dead letters.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct FilterParams {
    /// One dead letter.
    pub id: Option<i64>,
    /// Only from this plugin.
    pub plugin: Option<String>,
    /// Only this stage (`normalize`, `link`, `render`, `send`, `deliver`).
    pub stage: Option<String>,
    /// Only this error kind.
    pub kind: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

impl From<FilterParams> for DeadLetterFilter {
    fn from(p: FilterParams) -> Self {
        DeadLetterFilter {
            id: p.id,
            plugin: p.plugin,
            stage: p.stage,
            error_kind: p.kind,
            limit: p.limit,
        }
    }
}

/// List dead letters, oldest first.
#[utoipa::path(get, path = "/v1/dead-letters", params(FilterParams),
    responses((status = 200, description = "Dead letters")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Query(params): Query<FilterParams>,
) -> Result<Json<Vec<DeadLetter>>, ApiError> {
    Ok(Json(dlq::list(&*state.store, &params.into()).await?))
}

/// Replay dead letters matching the filter (all without one).
#[utoipa::path(post, path = "/v1/dead-letters/replay", params(FilterParams),
    responses((status = 200, description = "What each replay did")), security(("bearer" = [])))]
pub async fn replay(
    State(state): State<Arc<AppState>>,
    Query(params): Query<FilterParams>,
) -> Result<Json<Vec<Replayed>>, ApiError> {
    let report = dlq::replay(&*state.store, &state.inbound, &state.sender, &params.into()).await?;
    Ok(Json(report))
}
