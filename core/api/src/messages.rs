//! Sending: replies and proactive messages go to the outbox (202).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use silta_model::{
    ConversationId, IdentityKey, IdentityKind, IdentityScope, NormalizeOptions, Part, PartyId,
};
use silta_pipeline::outbound::{NewMessage, Proactive, Submitted};
use utoipa::ToSchema;

use crate::{ApiError, AppState};

/// The header that makes a retried POST safe.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A message body: `text`, or `parts` in the common contact format.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// Plain text (shorthand for one text part).
    pub text: Option<String>,
    /// Content parts, in the contact format's JSON form.
    #[schema(value_type = Option<Vec<Object>>)]
    pub parts: Option<Vec<Part>>,
    /// Subject, for channels that have one.
    pub subject: Option<String>,
}

/// A proactive message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageBody {
    /// The party to reach.
    pub party_id: String,
    /// The channel account to send from (name or id).
    pub channel_account: String,
    /// The identity to send to, when the party has several.
    pub to: Option<ToIdentity>,
    /// Plain text.
    pub text: Option<String>,
    /// Content parts.
    #[schema(value_type = Option<Vec<Object>>)]
    pub parts: Option<Vec<Part>>,
    /// Subject.
    pub subject: Option<String>,
}

/// An identity to send to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToIdentity {
    /// Kind (`email`, `phone`, ...).
    pub kind: String,
    /// Value.
    pub value: String,
    /// Channel account name for channel-scoped identities.
    pub scope: Option<String>,
}

/// The answer to a queued message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// The outbound interaction; its delivery history shows progress.
    pub interaction_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// True when this repeats an earlier POST with the same idempotency key.
    pub replayed: bool,
}

pub(crate) fn message(
    text: Option<String>,
    parts: Option<Vec<Part>>,
    subject: Option<String>,
) -> Result<NewMessage, ApiError> {
    let mut all = parts.unwrap_or_default();
    if let Some(text) = text {
        if text.trim().is_empty() {
            return Err(ApiError::bad_request("`text` is empty"));
        }
        all.insert(0, Part::Text(text));
    }
    if all.is_empty() {
        return Err(ApiError::bad_request("give `text` or `parts`"));
    }
    Ok(NewMessage {
        subject,
        parts: all,
    })
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Ok(None),
        Some(value) => {
            let key = value
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII"))?
                .trim();
            if key.is_empty() || key.len() > 255 {
                return Err(ApiError::bad_request(
                    "Idempotency-Key must be 1 to 255 characters",
                ));
            }
            Ok(Some(key.to_owned()))
        }
    }
}

pub(crate) fn answer(submitted: Submitted) -> (StatusCode, Json<Queued>) {
    (
        StatusCode::ACCEPTED,
        Json(Queued {
            interaction_id: submitted.interaction_id.to_string(),
            conversation_id: submitted.conversation_id.to_string(),
            replayed: submitted.replayed,
        }),
    )
}

/// Run a submission on its own task, so a client that hangs up cannot
/// cancel it between the store's commit and the answer.
pub(crate) async fn submit<F>(work: F) -> Result<Submitted, ApiError>
where
    F: std::future::Future<Output = silta_pipeline::Result<Submitted>> + Send + 'static,
{
    tokio::spawn(work)
        .await
        .map_err(|err| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                err.to_string(),
            )
        })?
        .map_err(ApiError::from)
}

pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|err| ApiError::bad_request(format!("request body: {err}")))
}

/// Reply in a conversation, to its customer, on its channel. In a
/// conversation we began that the customer has not answered yet, the
/// message follows ours, to the same recipient.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages",
    params(("id" = String, Path, description = "Conversation id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried POST safe")),
    request_body = MessageBody,
    responses((status = 202, description = "Queued in the outbox", body = Queued),
              (status = 400, description = "Malformed body"), (status = 404, description = "No such conversation"),
              (status = 409, description = "Idempotency key reused for a different request"),
              (status = 422, description = "Cannot be sent as asked")),
    security(("bearer" = [])))]
pub async fn reply(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let conversation: ConversationId = id
        .parse()
        .map_err(|err| ApiError::bad_request(format!("conversation id {id:?}: {err}")))?;
    let body: MessageBody = json_body(&body)?;
    let msg = message(body.text, body.parts, body.subject)?;
    let key = idempotency_key(&headers)?;
    let outbound = Arc::clone(&state.outbound);
    let submitted = submit(async move { outbound.reply(conversation, msg, key).await }).await?;
    Ok(answer(submitted))
}

/// Send a new message to a party on a chosen channel account. It starts a
/// conversation, except on a channel with one thread per contact (web
/// chat, WhatsApp, Telegram, Messenger, SMS), where it continues the
/// recipient's conversation there: the one they last wrote in, or the one
/// we began with them that they have not answered yet.
#[utoipa::path(post, path = "/v1/messages",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried POST safe")),
    request_body = NewMessageBody,
    responses((status = 202, description = "Queued in the outbox", body = Queued),
              (status = 400, description = "Malformed body"), (status = 404, description = "No such party or channel account"),
              (status = 409, description = "Idempotency key reused for a different request"),
              (status = 422, description = "Cannot be sent as asked")),
    security(("bearer" = [])))]
pub async fn send_new(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let body: NewMessageBody = json_body(&body)?;
    let party: PartyId = body
        .party_id
        .parse()
        .map_err(|err| ApiError::bad_request(format!("party_id {:?}: {err}", body.party_id)))?;
    let to = match body.to {
        None => None,
        Some(to) => {
            let kind: IdentityKind =
                serde_json::from_value(serde_json::Value::String(to.kind.clone()))
                    .unwrap_or(IdentityKind::Custom(to.kind.clone()));
            let scope = match to.scope {
                None => IdentityScope::Global,
                Some(name) => IdentityScope::ChannelAccount(
                    state
                        .inbound
                        .channels()
                        .get(&name)
                        .map(|c| c.record.id.to_string())
                        .unwrap_or(name),
                ),
            };
            Some(
                IdentityKey::new(kind, &to.value, scope, &NormalizeOptions::default())
                    .map_err(|err| ApiError::bad_request(format!("to: {err}")))?,
            )
        }
    };
    let msg = message(body.text, body.parts, body.subject)?;
    let key = idempotency_key(&headers)?;
    let target = Proactive {
        party,
        channel_account: body.channel_account,
        to,
        case: None,
    };
    let outbound = Arc::clone(&state.outbound);
    let submitted = submit(async move { outbound.send_new(target, msg, key).await }).await?;
    Ok(answer(submitted))
}
