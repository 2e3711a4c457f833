//! Silta's HTTP API (axum), loopback by default.
//!
//! - [`ingest`]: `POST /v1/ingest/{channel_account}`: provider webhooks.
//! - [`query`]: parties, timelines, conversations, cases, interactions.
//! - [`messages`]: replies and proactive messages (outbox, 202).
//! - [`contacts`]: merge and unmerge parties, explain an interaction's
//!   links, case status, moving conversations, case messages and tickets.
//! - [`blobs`]: attachment bytes by content hash: upload for outbound
//!   messages, download of what customers sent.
//! - [`events`]: `GET /v1/events`, Server-Sent Events resumable with
//!   `Last-Event-ID`; [`subscriptions`]: webhook subscribers.
//! - [`dead_letters`]: list and replay the dead-letter queue.
//! - [`health`]: `/healthz`, `/readyz`, `/metrics`; [`openapi`]: the
//!   OpenAPI document generated from the handlers.
//! - [`typing`]: an agent's typing indicator, shown in a web chat
//!   visitor's widget; the web chat's own routes (`/v1/webchat/...`) come
//!   from `silta-webchat`, authenticated by visitor sessions.
//! - [`auth`]: bearer tokens on everything but health, metrics and the
//!   OpenAPI document. Errors are JSON with a reason ([`ApiError`]).

pub mod auth;
pub mod blobs;
pub mod contacts;
mod cursor;
pub mod dead_letters;
mod error;
pub mod events;
pub mod health;
pub mod ingest;
pub mod messages;
pub mod openapi;
pub mod query;
pub mod subscriptions;
pub mod typing;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use silta_pipeline::inbound::Inbound;
use silta_pipeline::outbound::Outbound;
use silta_pipeline::sender::Sender;
use silta_store::Store;

pub use error::ApiError;

/// Everything the handlers need.
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Inbound pipeline (ingest, dead-letter replay).
    pub inbound: Arc<Inbound>,
    /// Outbound submission.
    pub outbound: Arc<Outbound>,
    /// Outbox sender (dead-letter replay).
    pub sender: Arc<Sender>,
    /// Accepted bearer tokens.
    pub tokens: Vec<String>,
    /// Largest ingest body, in bytes.
    pub max_body_bytes: usize,
    /// Largest attachment upload, in bytes.
    pub max_blob_bytes: usize,
    /// The Prometheus recorder, when installed.
    pub prometheus: Option<PrometheusHandle>,
    /// CloudEvents `source` of this node.
    pub event_source: String,
    /// Every plugin loaded and the pipeline running.
    pub ready: AtomicBool,
    /// The loaded plugins, checked by `/readyz`.
    pub plugins: Vec<Arc<silta_runtime::Plugin>>,
    /// The wasm engine, whose epoch ticker `/readyz` checks.
    pub engine: silta_runtime::engine::SiltaEngine,
    /// Back offices, for tickets.
    pub backoffices: Vec<Arc<silta_pipeline::enrichment::Backoffice>>,
    /// The web chat gateway, when a web chat account is configured.
    pub webchat: Option<Arc<silta_webchat::Gateway>>,
    /// Turns `true` when the server starts shutting down: open event
    /// streams end then, so a graceful shutdown is not held up by them.
    pub closing: tokio::sync::watch::Receiver<bool>,
}

/// The API's routes.
pub fn router(state: Arc<AppState>) -> Router {
    let open = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi::document));
    // Authenticated per channel account: by the API token, or by the
    // provider's signature the plugin checks (`ingest_auth`).
    let ingest = Router::new().route(
        "/v1/ingest/{channel_account}",
        post(ingest::ingest)
            .get(ingest::handshake)
            .layer(DefaultBodyLimit::max(state.max_body_bytes)),
    );
    let protected = Router::new()
        .route("/v1/parties", get(query::list_parties))
        .route("/v1/parties/{id}", get(query::get_party))
        .route("/v1/parties/{id}/timeline", get(query::party_timeline))
        .route("/v1/parties/{id}/cases", get(contacts::party_cases))
        .route("/v1/parties/merge", post(contacts::merge_parties))
        .route("/v1/merges/{id}", get(contacts::get_merge))
        .route("/v1/merges/{id}/unmerge", post(contacts::unmerge))
        .route("/v1/interactions/{id}/explain", get(contacts::explain))
        .route(
            "/v1/cases/{id}",
            get(query::get_case).patch(contacts::update_case),
        )
        .route("/v1/cases/{id}/messages", post(contacts::case_message))
        .route("/v1/cases/{id}/ticket", post(contacts::create_ticket))
        .route(
            "/v1/conversations/{id}/case",
            post(contacts::move_conversation),
        )
        .route("/v1/conversations/{id}", get(query::get_conversation))
        .route(
            "/v1/conversations/{id}/interactions",
            get(query::conversation_interactions),
        )
        .route("/v1/conversations/{id}/messages", post(messages::reply))
        .route("/v1/conversations/{id}/typing", post(typing::agent_typing))
        .route("/v1/cases/{id}/interactions", get(query::case_interactions))
        .route("/v1/interactions/{id}", get(query::get_interaction))
        .route(
            "/v1/interactions/{id}/parts/{index}/content",
            get(blobs::attachment_content),
        )
        .route(
            "/v1/blobs",
            post(blobs::upload).layer(DefaultBodyLimit::max(state.max_blob_bytes)),
        )
        .route("/v1/blobs/{hash}", get(blobs::download))
        .route("/v1/messages", post(messages::send_new))
        .route("/v1/events", get(events::stream))
        .route(
            "/v1/subscriptions",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/v1/subscriptions/{id}",
            axum::routing::delete(subscriptions::delete),
        )
        .route("/v1/dead-letters", get(dead_letters::list))
        .route("/v1/dead-letters/replay", post(dead_letters::replay))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::require_token,
        ));
    let webchat = match &state.webchat {
        Some(gateway) => silta_webchat::router(Arc::clone(gateway)),
        None => Router::new(),
    };
    open.merge(ingest)
        .merge(protected)
        .with_state(state)
        .merge(webchat)
}
