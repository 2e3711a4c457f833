//! `GET /v1/events`: the event log as Server-Sent Events.
//!
//! Each SSE event carries the event's seq as its `id`, its CloudEvents type
//! as `event`, and the CloudEvent (structured JSON) as `data`. A client that
//! reconnects with `Last-Event-ID` (browsers do this by themselves) gets
//! every event after that one: events are read from the store, not from
//! memory, so nothing committed is missed across reconnects or restarts.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use silta_pipeline::cloudevents::to_cloudevent;
use utoipa::IntoParams;

use crate::{ApiError, AppState};

/// `?after=<seq>&types=a,b`
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct StreamParams {
    /// Start after this seq (`Last-Event-ID` wins when both are given);
    /// without either the stream starts with new events only.
    pub after: Option<i64>,
    /// Only these event types, comma-separated.
    pub types: Option<String>,
}

/// Stream events.
#[utoipa::path(get, path = "/v1/events",
    params(StreamParams, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event")),
    responses((status = 200, description = "text/event-stream of CloudEvents", content_type = "text/event-stream")),
    security(("bearer" = [])))]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_event_id = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request("Last-Event-ID must be an event seq this stream sent")
                })?,
        ),
        None => None,
    };
    let start = match last_event_id.or(params.after) {
        Some(seq) => seq,
        None => state.store.queue_depths().await?.last_event_seq,
    };
    let types: Vec<String> = params
        .types
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let watch = state.store.event_watch();
    let source = state.event_source.clone();
    let store = Arc::clone(&state.store);
    struct Cursor {
        seq: i64,
        buffered: std::collections::VecDeque<Event>,
        watch: tokio::sync::watch::Receiver<i64>,
    }
    let initial = Cursor {
        seq: start,
        buffered: Default::default(),
        watch,
    };
    let events = futures_util::stream::unfold(initial, move |mut cursor| {
        let store = Arc::clone(&store);
        let source = source.clone();
        let types = types.clone();
        async move {
            loop {
                if let Some(event) = cursor.buffered.pop_front() {
                    return Some((Ok(event), cursor));
                }
                match store.events_after(cursor.seq, 256).await {
                    Ok(found) if !found.is_empty() => {
                        for stored in found {
                            cursor.seq = stored.seq;
                            if !types.is_empty() && !types.contains(&stored.event_type) {
                                continue;
                            }
                            let data = to_cloudevent(&stored, &source).to_string();
                            cursor.buffered.push_back(
                                Event::default()
                                    .id(stored.seq.to_string())
                                    .event(stored.event_type.clone())
                                    .data(data),
                            );
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "reading events for a stream failed; retrying")
                    }
                }
                // Woken by a commit, or every second for writes by other
                // processes (`silta dlq replay`).
                let _ = tokio::time::timeout(Duration::from_secs(1), cursor.watch.changed()).await;
            }
        }
    });
    // Ends when the server shuts down; the client resumes with
    // `Last-Event-ID` from wherever it lands next.
    let events = futures_util::StreamExt::take_until(
        events,
        silta_pipeline::shutdown::requested(state.closing.clone()),
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
