//! The routes under `/v1/webchat/{account}`, CORS for the sites that embed
//! the widget, and how a request names its visitor.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::visitor_frames::FrameType;
use crate::{Gateway, Result, WIDGET_JS, WebchatError, fallback, socket, uploads};

/// The web chat routes.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let largest_upload = gateway
        .accounts
        .values()
        .map(|account| account.settings.max_upload_bytes)
        .max()
        .unwrap_or(0);
    Router::new()
        .route("/v1/webchat/{account}/widget.js", get(widget_js))
        .route("/v1/webchat/{account}/sessions", post(session))
        .route("/v1/webchat/{account}/socket", get(socket::upgrade))
        .route("/v1/webchat/{account}/events", get(fallback::events))
        .route("/v1/webchat/{account}/messages", posted(FrameType::Message))
        .route("/v1/webchat/{account}/typing", posted(FrameType::Typing))
        .route("/v1/webchat/{account}/receipts", posted(FrameType::Receipt))
        .route(
            "/v1/webchat/{account}/uploads",
            // The account's own limit is checked in the handler, with a 413
            // the widget can show.
            post(uploads::upload).layer(DefaultBodyLimit::max(largest_upload + 1)),
        )
        .layer(middleware::from_fn_with_state(Arc::clone(&gateway), cors))
        .with_state(gateway)
}

/// The fallback's `POST` route for frames of type `kind`.
fn posted(kind: FrameType) -> MethodRouter<Arc<Gateway>> {
    post(
        move |State(gateway): State<Arc<Gateway>>,
              Path(account): Path<String>,
              Query(query): Query<HashMap<String, String>>,
              headers: HeaderMap,
              body: Bytes| {
            fallback::post_frame(gateway, account, query, headers, body, kind)
        },
    )
}

/// `GET /widget.js`: the widget script.
async fn widget_js(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
) -> Result<Response> {
    gateway.account(&account)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        WIDGET_JS,
    )
        .into_response())
}

#[derive(Deserialize)]
struct SessionRequest {
    #[serde(default)]
    visitor_token: Option<String>,
}

/// `POST /sessions`: the visitor a stored token names, or a new one.
async fn session(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Response> {
    gateway.account(&account)?;
    let request: SessionRequest = if body.is_empty() {
        SessionRequest {
            visitor_token: None,
        }
    } else {
        serde_json::from_slice(&body).map_err(|err| {
            WebchatError::BadRequest(format!(
                "the body must be {{\"visitor_token\": string or null}}: {err}"
            ))
        })?
    };
    let known = request
        .visitor_token
        .as_deref()
        .and_then(|token| gateway.keys.verify(&account, token).ok());
    let (visitor, token) = match known {
        Some(visitor) => {
            let token = gateway.keys.token(&account, &visitor);
            (visitor, token)
        }
        None => gateway.keys.new_visitor(&account),
    };
    Ok(Json(json!({ "visitor_token": token, "visitor_id": visitor })).into_response())
}

/// The visitor a request is from: `Authorization: Visitor <token>`, or
/// `?visitor_token=` (for `GET`s and the socket, which cannot set
/// headers).
pub fn visitor(
    gateway: &Gateway,
    account: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Visitor "));
    let token = from_header
        .or_else(|| query.get("visitor_token").map(String::as_str))
        .ok_or_else(|| {
            WebchatError::Unauthorized("no visitor session: start one with POST /sessions".into())
        })?;
    gateway.keys.verify(account, token.trim())
}

/// CORS for the account's `allowed_origins`. A browser request from any
/// other origin is refused (403), except for the widget script, which any
/// page may load (it is useless without an allowed origin).
async fn cors(State(gateway): State<Arc<Gateway>>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        // Not a cross-origin browser request (curl, a server).
        return next.run(request).await;
    };
    let path = request.uri().path();
    let account = path
        .strip_prefix("/v1/webchat/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let allowed = gateway.accounts.get(account).is_some_and(|account| {
        origin.to_str().is_ok_and(|origin| {
            account
                .settings
                .allowed_origins
                .iter()
                .any(|allowed| allowed == origin)
        })
    });
    if !allowed {
        if path.ends_with("/widget.js") && request.method() == Method::GET {
            return next.run(request).await;
        }
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": format!(
                "origin {} may not use web chat account {account:?}; add it to the account's webchat.allowed_origins",
                String::from_utf8_lossy(origin.as_bytes())
            )})),
        )
            .into_response();
    }
    let mut response = if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, x-filename"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}
