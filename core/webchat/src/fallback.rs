//! The fallback transport, for networks that block WebSockets: Server-Sent
//! Events for the frames to the widget (`GET /events`), and a `POST` for
//! each frame from it (`/messages`, `/typing`, `/receipts`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use serde_json::json;

use crate::visitor_frames::{self, FrameType, Handled};
use crate::widget_frames::{self, Frame};
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
    // Ends when the server shuts down; the widget reconnects and gets its
    // history.
    let stream = futures_util::StreamExt::take_until(
        stream,
        silta_pipeline::shutdown::requested(gateway.closing.clone()),
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn sse_event(frame: &Frame) -> Event {
    Event::default().event(frame.kind()).data(frame.json())
}

/// `POST /messages`, `/typing` or `/receipts` (a frame of type `expected`):
/// 202 (with the `accepted` frame for a message), or 4xx with the reason.
pub async fn post_frame(
    gateway: Arc<Gateway>,
    account: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
    expected: FrameType,
) -> Result<Response> {
    let visitor = routes::visitor(&gateway, &account, &headers, &query)?;
    Ok(answer(
        visitor_frames::handle(&gateway, &account, &visitor, body, Some(expected)).await?,
    ))
}

fn answer(handled: Handled) -> Response {
    match handled {
        Handled::Accepted {
            client_id,
            journal_seq,
        } => (
            StatusCode::ACCEPTED,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            widget_frames::accepted(&client_id, journal_seq)
                .json()
                .to_owned(),
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
