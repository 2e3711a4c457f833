//! Webhook subscriptions: CloudEvents POSTed to a URL, signed, retried.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use silta_pipeline::webhooks;
use silta_store::records::WebhookSubscription;
use utoipa::ToSchema;

use crate::{ApiError, AppState};

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// Absolute `http(s)` URL to POST events to.
    pub url: String,
    /// Event types; empty or absent means all.
    #[serde(default)]
    pub types: Vec<String>,
    /// HMAC key for the `silta-signature` header; generated when absent.
    pub secret: Option<String>,
}

/// A subscription as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    /// Id.
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Event types (empty: all).
    pub types: Vec<String>,
    /// Last event seq the subscriber acknowledged.
    pub cursor: i64,
    /// The signing key; shown only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn view(sub: WebhookSubscription, with_secret: bool) -> SubscriptionView {
    SubscriptionView {
        id: sub.id,
        url: sub.url,
        types: sub.types,
        cursor: sub.cursor,
        secret: with_secret.then_some(sub.secret),
    }
}

/// Subscribe a URL; it receives events from now on.
#[utoipa::path(post, path = "/v1/subscriptions", request_body = NewSubscription,
    responses((status = 201, description = "Created; the answer holds the signing key", body = SubscriptionView),
              (status = 400, description = "Invalid URL or body")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    body: bytes::Bytes,
) -> Result<(StatusCode, Json<SubscriptionView>), ApiError> {
    let body: NewSubscription = serde_json::from_slice(&body)
        .map_err(|err| ApiError::bad_request(format!("request body: {err}")))?;
    let sub = webhooks::create_subscription(&*state.store, &body.url, body.types, body.secret)
        .await
        .map_err(|err| ApiError::bad_request(err.to_string()))?;
    Ok((StatusCode::CREATED, Json(view(sub, true))))
}

/// Subscriptions.
#[utoipa::path(get, path = "/v1/subscriptions",
    responses((status = 200, description = "All subscriptions", body = [SubscriptionView])),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<SubscriptionView>>, ApiError> {
    let subs = state.store.webhook_subscriptions().await?;
    Ok(Json(subs.into_iter().map(|s| view(s, false)).collect()))
}

/// Remove a subscription.
#[utoipa::path(delete, path = "/v1/subscriptions/{id}", params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such subscription")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let exists = state
        .store
        .webhook_subscriptions()
        .await?
        .iter()
        .any(|s| s.id == id);
    if !exists {
        return Err(ApiError::not_found("subscription", &id));
    }
    webhooks::delete_subscription(&*state.store, &id)
        .await
        .map_err(|err| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                err.to_string(),
            )
        })?;
    Ok(StatusCode::NO_CONTENT)
}
