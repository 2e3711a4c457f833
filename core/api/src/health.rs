//! Liveness, readiness and metrics.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::AppState;

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the pipeline runs, the store answers, every plugin instantiates
/// and the engine's epoch ticker (which enforces plugin deadlines) runs.
#[utoipa::path(get, path = "/readyz",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready, with the reasons")))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if !state.ready.load(Ordering::Acquire) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: starting or shutting down\n".to_owned(),
        );
    }
    let before = state.engine.epoch_ticks();
    let mut problems = Vec::new();
    if let Err(err) = state.store.ping().await {
        problems.push(format!("store: {err}"));
    }
    for plugin in &state.plugins {
        if let Err(err) = plugin.instantiate_only().await {
            problems.push(format!("plugin {}: {err}", plugin.id()));
        }
    }
    tokio::time::sleep(state.engine.epoch_tick() * 3).await;
    if state.engine.epoch_ticks() == before {
        problems.push("the epoch ticker is not running; plugin deadlines would not fire".into());
    }
    if problems.is_empty() {
        (
            StatusCode::OK,
            format!("ready: store, {} plugin(s)\n", state.plugins.len()),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready:\n{}\n", problems.join("\n")),
        )
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if let Ok(depths) = state.store.queue_depths().await {
        silta_pipeline::metrics::queue_depths(&depths);
    }
    silta_pipeline::metrics::inbound_queue(state.inbound.queued());
    let body = state
        .prometheus
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
