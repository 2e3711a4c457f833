//! The fallback transport, for networks that block WebSockets: Server-Sent
//! Events for the frames to the widget (`GET /events`), and a `POST` for
//! each frame from it (`/messages`, `/typing`, `/receipts`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use serde_json::{Value, json};

use crate::visitor_frames::{self, Handled};
use crate::widget_frames::Frame;
use crate::{Gateway, Result, routes, socket};

/// `GET /events?visitor_token=`: the history, then every frame for the
/// visitor, as SSE events named by the frame's type.
pub async fn events(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let visitor = routes::visitor(&gateway, &account, &headers, &query)?;
    let (subscription, history) = socket::opening(&gateway, &account, &visitor).await?;
    let first = futures_util::stream::once(async move { history });
    let rest = futures_util::stream::unfold(subscription, |mut subscription| async move {
        let frame = subscription.frames.recv().await?;
        Some((frame, subscription))
    });
    let stream =
        futures_util::StreamExt::map(futures_util::StreamExt::chain(first, rest), |frame| {
            Ok(sse_event(&frame))
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn sse_event(frame: &Frame) -> Event {
    let kind = serde_json::from_str::<Value>(frame)
        .ok()
        .and_then(|value| value["type"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "message".into());
    Event::default().event(kind).data(frame.as_ref())
}

/// `POST /messages`: 202 with the `accepted` frame, or 4xx with the reason.
pub async fn message(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    post(&gateway, &account, &query, &headers, body, "message").await
}

/// `POST /typing`: 202.
pub async fn typing(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    post(&gateway, &account, &query, &headers, body, "typing").await
}

/// `POST /receipts`: 202.
pub async fn receipt(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    post(&gateway, &account, &query, &headers, body, "receipt").await
}

/// Handle a posted frame of type `expected`.
async fn post(
    gateway: &Arc<Gateway>,
    account: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
    expected: &str,
) -> Result<Response> {
    let visitor = routes::visitor(gateway, account, headers, query)?;
    let kind = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|frame| frame["type"].as_str().map(str::to_owned));
    if kind.as_deref() != Some(expected) {
        return Err(crate::WebchatError::BadRequest(format!(
            "this endpoint takes `{expected}` frames"
        )));
    }
    Ok(answer(
        visitor_frames::handle(gateway, account, &visitor, body).await?,
    ))
}

fn answer(handled: Handled) -> Response {
    match handled {
        Handled::Accepted {
            client_id,
            journal_seq,
        } => (
            StatusCode::ACCEPTED,
            Json(json!({ "type": "accepted", "client_id": client_id, "journal_seq": journal_seq })),
        )
            .into_response(),
        Handled::Rejected {
            client_id,
            status,
            reason,
        } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            Json(json!({ "error": reason, "client_id": client_id })),
        )
            .into_response(),
        Handled::Done => StatusCode::ACCEPTED.into_response(),
    }
}
