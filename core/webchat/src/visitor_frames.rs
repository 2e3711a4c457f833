//! What a widget sends, checked and handed on. Shared by the socket and
//! the `POST` fallback.
//!
//! - `message`: the uploads it names must be stored; then it goes to the
//!   inbound pipeline as an event of the account, with the visitor in the
//!   transport metadata, in a task of its own (a widget that goes away
//!   mid-write does not cancel the journal write). The `webchat` plugin
//!   checks the rest (limits, the identity token). Answered `accepted`
//!   once journaled, `rejected` with the reason when the plugin refuses
//!   it, or an error to retry on.
//! - `receipt`: only ids of messages in the visitor's own conversation go
//!   on (a widget cannot mark other visitors' messages read).
//! - `typing`: the visitor is typing. Agents' tools have no live channel
//!   from Silta yet, so it is only logged (see the README).

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use silta_model::{ContentHash, InteractionId};
use silta_runtime::contract::TransportMeta;

use crate::{Gateway, Result, WebchatError, history};

/// What became of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// A message was journaled.
    Accepted {
        /// The widget's id for it.
        client_id: String,
        /// Its journal entry.
        journal_seq: i64,
    },
    /// A message was refused for good.
    Rejected {
        /// The widget's id for it.
        client_id: String,
        /// The HTTP status that says why (400, 401).
        status: u16,
        /// The reason, for the visitor.
        reason: String,
    },
    /// Nothing to answer (typing, receipts).
    Done,
}

/// The transport metadata the `webchat` plugin trusts: only the host can
/// build it.
fn gateway_meta(visitor: &str) -> TransportMeta {
    TransportMeta::Other(vec![
        ("gateway".into(), "webchat".into()),
        ("visitor".into(), visitor.into()),
    ])
}

/// The kinds of frame a widget sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    /// `message`.
    Message,
    /// `receipt`.
    Receipt,
    /// `typing`.
    Typing,
}

impl FrameType {
    fn of(name: &str) -> Option<Self> {
        match name {
            "message" => Some(Self::Message),
            "receipt" => Some(Self::Receipt),
            "typing" => Some(Self::Typing),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Receipt => "receipt",
            Self::Typing => "typing",
        }
    }
}

/// Handle one frame `body` from `visitor` of web chat account `account`;
/// with `expected`, only a frame of that type (a fallback endpoint's).
pub async fn handle(
    gateway: &Arc<Gateway>,
    account: &str,
    visitor: &str,
    body: Bytes,
    expected: Option<FrameType>,
) -> Result<Handled> {
    let frame: Value = serde_json::from_slice(&body)
        .map_err(|err| WebchatError::BadRequest(format!("the frame is not JSON: {err}")))?;
    let kind = frame["type"].as_str();
    if let Some(expected) = expected
        && kind != Some(expected.name())
    {
        return Err(WebchatError::BadRequest(format!(
            "this endpoint takes `{}` frames",
            expected.name()
        )));
    }
    let Some(name) = kind else {
        return Err(WebchatError::BadRequest("the frame has no `type`".into()));
    };
    match FrameType::of(name) {
        Some(FrameType::Message) => message(gateway, account, visitor, &frame, body).await,
        Some(FrameType::Receipt) => receipt(gateway, account, visitor, &frame).await,
        Some(FrameType::Typing) => {
            tracing::debug!(
                account,
                visitor,
                active = frame["active"].as_bool(),
                "visitor typing"
            );
            Ok(Handled::Done)
        }
        None => Err(WebchatError::BadRequest(format!(
            "unknown frame type {name:?}; expected message, receipt or typing"
        ))),
    }
}

async fn message(
    gateway: &Arc<Gateway>,
    account: &str,
    visitor: &str,
    frame: &Value,
    body: Bytes,
) -> Result<Handled> {
    let Some(client_id) = frame["client_id"].as_str().map(str::to_owned) else {
        return Err(WebchatError::BadRequest(
            "a message frame needs a `client_id`".into(),
        ));
    };
    let rejected = |status: u16, reason: String| Handled::Rejected {
        client_id: client_id.clone(),
        status,
        reason,
    };
    for upload in frame["attachments"].as_array().into_iter().flatten() {
        let Some(hash) = upload["blob"]
            .as_str()
            .and_then(|h| ContentHash::parse("blob", h).ok())
        else {
            return Ok(rejected(400, "an attachment names no uploaded file".into()));
        };
        if gateway.store.blob_size(&hash).await?.is_none() {
            return Ok(rejected(
                400,
                format!("attachment {hash} was not uploaded; upload it first"),
            ));
        }
    }
    let inbound = Arc::clone(&gateway.inbound);
    let (account_name, meta) = (account.to_owned(), gateway_meta(visitor));
    let accepted =
        tokio::spawn(async move { inbound.accept(&account_name, meta, body.to_vec()).await })
            .await
            .map_err(|err| {
                WebchatError::Pipeline(silta_pipeline::PipelineError::Invalid(format!(
                    "accepting the message stopped: {err}"
                )))
            })?;
    match accepted {
        Ok(accepted) => Ok(Handled::Accepted {
            client_id,
            journal_seq: accepted.journal_seq,
        }),
        Err(err) => {
            let err = WebchatError::from(err);
            if err.is_retryable() {
                Err(err)
            } else {
                Ok(rejected(err.status().as_u16(), err.to_string()))
            }
        }
    }
}

async fn receipt(
    gateway: &Arc<Gateway>,
    account: &str,
    visitor: &str,
    frame: &Value,
) -> Result<Handled> {
    let channel = &gateway.account(account)?.channel;
    let Some(conversation) =
        history::conversation_of(&*gateway.store, channel.record.id, visitor).await?
    else {
        return Ok(Handled::Done);
    };
    let mut own = Vec::new();
    for id in frame["ids"].as_array().into_iter().flatten().take(100) {
        let Some(id) = id.as_str().and_then(|id| id.parse::<InteractionId>().ok()) else {
            continue;
        };
        if let Some(interaction) = gateway.store.interaction(id).await?
            && interaction.conversation_id == Some(conversation)
        {
            own.push(id.to_string());
        }
    }
    if own.is_empty() {
        return Ok(Handled::Done);
    }
    let body = json!({ "type": "receipt", "ids": own, "state": frame["state"] });
    if let Err(err) = gateway
        .inbound
        .accept(
            account,
            gateway_meta(visitor),
            body.to_string().into_bytes(),
        )
        .await
    {
        // A receipt is a courtesy: the widget does not resend it.
        tracing::info!(account, error = %err, "a web chat receipt was not recorded");
    }
    Ok(Handled::Done)
}
