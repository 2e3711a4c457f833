//! `GET /socket?visitor_token=`: the widget's WebSocket.
//!
//! On connect the widget gets its history, then every frame for its
//! visitor as it happens; what it sends is handled like the fallback's
//! `POST`s ([`crate::visitor_frames`]), answered on the socket.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::visitor_frames::{self, Handled};
use crate::widget_frames::{self, Frame};
use crate::{Gateway, Result, history, routes};

/// How often an idle socket is pinged, so proxies keep it open and a dead
/// peer is noticed.
const PING_EVERY: Duration = Duration::from_secs(25);
/// The largest frame a widget may send.
const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Upgrade to a socket once the visitor's session checks out.
pub async fn upgrade(
    State(gateway): State<Arc<Gateway>>,
    Path(account): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    gateway.account(&account)?;
    let visitor = routes::visitor(&gateway, &account, &headers, &query)?;
    Ok(upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| serve(gateway, account, visitor, socket)))
}

async fn serve(gateway: Arc<Gateway>, account: String, visitor: String, mut socket: WebSocket) {
    let mut subscription = match opening(&gateway, &account, &visitor).await {
        Ok((subscription, history)) => {
            if socket.send(text(&history)).await.is_err() {
                return;
            }
            subscription
        }
        Err(err) => {
            let _ = socket
                .send(text(&widget_frames::error(&err.to_string())))
                .await;
            return;
        }
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let closing = silta_pipeline::shutdown::requested(gateway.closing.clone());
    tokio::pin!(closing);
    loop {
        tokio::select! {
            () = &mut closing => {
                // The server is shutting down: say so (1001), and the
                // widget reconnects to wherever Silta comes back.
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: close_code::AWAY,
                        reason: "Silta is shutting down".into(),
                    })))
                    .await;
                break;
            }
            frame = subscription.frames.recv() => {
                // `None`: dropped as too slow; the widget reconnects.
                let Some(frame) = frame else { break };
                if socket.send(text(&frame)).await.is_err() {
                    break;
                }
            }
            received = socket.recv() => {
                let body = match received {
                    Some(Ok(Message::Text(body))) => bytes::Bytes::from(body),
                    Some(Ok(Message::Binary(_))) => {
                        let _ = socket.send(text(&widget_frames::error("frames are JSON text"))).await;
                        continue;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                let answer = match visitor_frames::handle(&gateway, &account, &visitor, body, None).await {
                    Ok(Handled::Accepted { client_id, journal_seq }) => {
                        Some(widget_frames::accepted(&client_id, journal_seq))
                    }
                    Ok(Handled::Rejected { client_id, status, reason }) => {
                        Some(widget_frames::rejected(&client_id, status, &reason))
                    }
                    Ok(Handled::Done) => None,
                    Err(err) => Some(widget_frames::error(&err.to_string())),
                };
                if let Some(answer) = answer
                    && socket.send(text(&answer)).await.is_err()
                {
                    break;
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(bytes::Bytes::new())).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Register the widget, then read its history: in this order, so a
/// message recorded in between is pushed (and merged by id) rather than
/// missed.
pub async fn opening(
    gateway: &Gateway,
    account: &str,
    visitor: &str,
) -> Result<(crate::live::Subscription, Frame)> {
    let channel = &gateway.account(account)?.channel;
    let conversation =
        history::conversation_of(&*gateway.store, channel.record.id, visitor).await?;
    let subscription = gateway.live.subscribe(account, visitor, conversation);
    let messages = match conversation {
        Some(conversation) => history::messages(&gateway.store, conversation).await?,
        None => Vec::new(),
    };
    Ok((subscription, widget_frames::history(visitor, &messages)))
}

fn text(frame: &Frame) -> Message {
    Message::Text(frame.json().into())
}
