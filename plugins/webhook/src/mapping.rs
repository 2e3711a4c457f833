//! Inbound payload → interactions and delivery updates (see README.md for
//! the payload). Pure functions of the event: no host calls, so they run
//! natively in the golden-fixture tests. The signature is checked before
//! this, in [`crate::signature`].

use silta_sdk::types::{
    Assurance, Attachment, DeliveryState, DeliveryUpdate, Identity, InboundEvent, Interaction,
    Normalized, PluginError, ThreadKey, Timestamp,
};
use silta_sdk::{InteractionBuilder, validate};

use crate::kinds;
use crate::payload::{Fields, Json};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Largest payload accepted. A chat message is a few KiB; attachments come
/// by URL.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// What one webhook request contains: one message or one status callback.
pub fn normalize(event: &InboundEvent) -> Result<Vec<Normalized>> {
    check_size(&event.body)?;
    let value: Json<'_> = serde_json::from_slice(&event.body).map_err(|error| {
        PluginError::bad_input(format!("the payload is not valid JSON: {error}"))
    })?;
    let payload = Fields::root(&value)?;
    let normalized = match payload.optional_str("type")? {
        None | Some("message") => Normalized::Interaction(message(&payload, event)?),
        Some("status") => Normalized::DeliveryUpdate(status(&payload, event)?),
        Some(other) => {
            return Err(PluginError::bad_input(format!(
                "`type` must be \"message\" or \"status\", got {other:?}"
            )));
        }
    };
    Ok(vec![normalized])
}

/// Refuses a payload over [`MAX_PAYLOAD_BYTES`], before anything reads it.
pub fn check_size(body: &[u8]) -> Result<()> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(PluginError::bad_input(format!(
            "the payload is {} bytes; the limit is {MAX_PAYLOAD_BYTES} (send attachments by URL)",
            body.len()
        )));
    }
    Ok(())
}

/// A message from a customer.
fn message(payload: &Fields<'_>, event: &InboundEvent) -> Result<Interaction> {
    let id = provider_id(payload, "id")?;
    let occurred_at = occurred_at(payload, event)?;
    let sender = sender(&payload.required_object("sender")?, &event.channel_account)?;
    let text = payload
        .optional_str("text")?
        .filter(|text| !text.trim().is_empty());
    let attachments = payload
        .optional_objects("attachments")?
        .iter()
        .map(attachment)
        .collect::<Result<Vec<_>>>()?;
    if text.is_none() && attachments.is_empty() {
        return Err(PluginError::bad_input(
            "the message has no content: `text` is missing or empty and there are no `attachments`",
        ));
    }

    let mut builder = InteractionBuilder::inbound_message(sender, id, occurred_at);
    if let Some(text) = text {
        builder = builder.text(text);
    }
    for attachment in attachments {
        builder = builder.attachment(attachment);
    }
    if let Some(thread) = optional_provider_id(payload, "thread_id")? {
        builder = builder.thread_key(ThreadKey::ProviderThread(thread));
    }
    if let Some(reply_to) = optional_provider_id(payload, "reply_to")? {
        builder = builder.thread_key(ThreadKey::ReplyToProviderMessage(reply_to));
    }
    builder.build()
}

/// The sender: any identity kind, vouched for by the signed webhook;
/// `verified: true` says the system checked it (a phone confirmed by SMS),
/// which makes it attested.
fn sender(fields: &Fields<'_>, channel_account: &str) -> Result<Identity> {
    let kind = kinds::parse(&fields.path("kind"), fields.required_str("kind")?)?;
    let raw = fields.required_str("value")?;
    let value = validate::identity_value(&fields.path("value"), &kind, raw)?;
    let scope = kinds::scope(&kind, channel_account);
    let assurance = if fields.optional_bool("verified")?.unwrap_or(false) {
        Assurance::ChannelAttested
    } else {
        Assurance::ChannelAsserted
    };
    let identity = Identity::new(kind, value)
        .with_scope(scope)
        .with_assurance(assurance);
    Ok(match fields.optional_str("name")?.map(str::trim) {
        Some(name) if !name.is_empty() => identity.with_display_name(name),
        _ => identity,
    })
}

/// One attachment, by URL.
fn attachment(fields: &Fields<'_>) -> Result<Attachment> {
    let url = fields.required_str("url")?;
    validate::http_url(&fields.path("url"), url)?;
    let media_type = fields.required_str("media_type")?.trim();
    let plausible = media_type
        .split_once('/')
        .is_some_and(|(kind, subtype)| !kind.is_empty() && !subtype.is_empty());
    if !plausible || media_type.contains(char::is_whitespace) {
        return Err(PluginError::bad_input(format!(
            "`{}` must be a media type such as image/png, got {media_type:?}",
            fields.path("media_type")
        )));
    }
    let mut attachment = Attachment::from_url(media_type, url);
    if let Some(filename) = fields.optional_str("filename")?.map(str::trim)
        && !filename.is_empty()
    {
        attachment = attachment.with_filename(filename);
    }
    if let Some(size) = fields.optional_u64("size_bytes")? {
        attachment = attachment.with_size_bytes(size);
    }
    Ok(attachment)
}

/// A delivery status callback about a message we sent.
fn status(payload: &Fields<'_>, event: &InboundEvent) -> Result<DeliveryUpdate> {
    let id = provider_id(payload, "id")?;
    let state = delivery_state(payload.required_str("status")?)?;
    let mut update = DeliveryUpdate::new(id, state, occurred_at(payload, event)?);
    if let Some(code) = payload
        .optional_id("code")?
        .filter(|code| !code.trim().is_empty())
    {
        update = update.with_provider_code(code);
    }
    if let Some(detail) = payload
        .optional_str("detail")?
        .filter(|d| !d.trim().is_empty())
    {
        update = update.with_detail(detail);
    }
    Ok(update)
}

fn delivery_state(raw: &str) -> Result<DeliveryState> {
    Ok(match raw {
        "queued" => DeliveryState::Queued,
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" => DeliveryState::Failed,
        "bounced" => DeliveryState::Bounced,
        other => {
            return Err(PluginError::bad_input(format!(
                "`status` must be one of queued, sent, delivered, read, failed, bounced; got {other:?}"
            )));
        }
    })
}

/// `timestamp` when given (RFC 3339), else when Silta received the event;
/// never the clock, so replays give the same result.
fn occurred_at(payload: &Fields<'_>, event: &InboundEvent) -> Result<Timestamp> {
    match payload.optional_str("timestamp")? {
        Some(raw) => validate::timestamp("timestamp", raw),
        None => Ok(event.received_at),
    }
}

/// A required provider id, checked as the host keys on it.
fn provider_id(fields: &Fields<'_>, key: &str) -> Result<String> {
    let id = fields.required_id(key)?;
    validate::provider_id(&fields.path(key), &id)?;
    Ok(id)
}

/// An optional provider id; empty counts as absent.
fn optional_provider_id(fields: &Fields<'_>, key: &str) -> Result<Option<String>> {
    match fields.optional_id(key)? {
        Some(id) if !id.trim().is_empty() => {
            validate::provider_id(&fields.path(key), &id)?;
            Ok(Some(id))
        }
        _ => Ok(None),
    }
}
