//! Inbound webhook → interactions and delivery updates. Pure functions of
//! the event: no host calls, so they run natively in the golden-fixture
//! tests. The signature is checked before this ([`crate::signature`]) and
//! the 24-hour window recorded after it ([`crate::window`]).

use silta_sdk::types::{
    Assurance, DeliveryState, DeliveryUpdate, Identity, IdentityKind, InboundEvent, Interaction,
    Normalized, PluginError, ThreadKey, Timestamp,
};
use silta_sdk::{InteractionBuilder, validate};

use crate::content;
use crate::payload::{self, Contact, Message, MessagesValue, Notification, Status};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Largest payload accepted. Meta batches at most a few messages and
/// statuses into one webhook; media comes by id.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// The `object` of every WhatsApp Business webhook.
const OBJECT: &str = "whatsapp_business_account";

/// What one webhook contained.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// Every message and status of the webhook, in payload order.
    pub normalized: Vec<Normalized>,
    /// When each customer last wrote to which of our numbers, for the
    /// 24-hour window.
    pub contacts: Vec<LastInbound>,
}

/// A customer message's sender, number and time.
#[derive(Debug, Clone, PartialEq)]
pub struct LastInbound {
    /// Our number's Graph id (`metadata.phone_number_id`).
    pub phone_number_id: String,
    /// The customer's wa_id, digits only.
    pub wa_id: String,
    /// When the message was sent.
    pub at: Timestamp,
}

/// All the messages and statuses of one webhook.
pub fn normalize(event: &InboundEvent) -> Result<Inbound> {
    check_size(&event.body)?;
    let notification: Notification = serde_json::from_slice(&event.body).map_err(|error| {
        PluginError::bad_input(format!("the payload is not a WhatsApp webhook: {error}"))
    })?;
    if notification.object != OBJECT {
        return Err(PluginError::bad_input(format!(
            "`object` must be {OBJECT:?}, got {:?}",
            notification.object
        )));
    }
    let mut inbound = Inbound {
        normalized: Vec::new(),
        contacts: Vec::new(),
    };
    for (e, entry) in notification.entry.into_iter().enumerate() {
        for (c, change) in entry.changes.into_iter().enumerate() {
            // Other subscriptions (template reviews, account updates) carry
            // no customer traffic.
            if change.field != "messages" {
                continue;
            }
            let path = format!("entry[{e}].changes[{c}].value");
            let value = change.value.ok_or_else(|| PluginError::missing(&path))?;
            let value: MessagesValue = payload::parse_at(&path, value)?;
            messages_change(&path, &entry.id, value, &mut inbound)?;
        }
    }
    Ok(inbound)
}

/// Refuses a payload over [`MAX_PAYLOAD_BYTES`], before anything reads it.
pub fn check_size(body: &[u8]) -> Result<()> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(PluginError::bad_input(format!(
            "the payload is {} bytes; the limit is {MAX_PAYLOAD_BYTES}",
            body.len()
        )));
    }
    Ok(())
}

/// One `messages` change: its messages, then its statuses.
fn messages_change(
    path: &str,
    account_id: &str,
    value: MessagesValue,
    inbound: &mut Inbound,
) -> Result<()> {
    if value.messaging_product != "whatsapp" {
        return Err(PluginError::bad_input(format!(
            "`{path}.messaging_product` must be \"whatsapp\", got {:?}",
            value.messaging_product
        )));
    }
    let number = value.metadata.phone_number_id.trim();
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PluginError::bad_input(format!(
            "`{path}.metadata.phone_number_id` must be digits, got {:?}",
            value.metadata.phone_number_id
        )));
    }
    for (n, raw) in value.messages.into_iter().enumerate() {
        let path = format!("{path}.messages[{n}]");
        let message: Message = payload::parse_at(&path, raw)?;
        let (interaction, last) =
            interaction(&path, account_id, number, &value.contacts, &message)?;
        inbound
            .normalized
            .push(Normalized::Interaction(interaction));
        inbound.contacts.push(last);
    }
    for (n, raw) in value.statuses.into_iter().enumerate() {
        let path = format!("{path}.statuses[{n}]");
        let status: Status = payload::parse_at(&path, raw)?;
        inbound
            .normalized
            .push(Normalized::DeliveryUpdate(delivery_update(&path, &status)?));
    }
    Ok(())
}

/// A customer message. WhatsApp verified the sender's number, so the
/// identity is channel-attested; the conversation is the customer on this
/// number of ours.
fn interaction(
    path: &str,
    account_id: &str,
    phone_number_id: &str,
    contacts: &[Contact],
    message: &Message,
) -> Result<(Interaction, LastInbound)> {
    validate::provider_id(&format!("{path}.id"), &message.id)?;
    let at = unix_seconds(&format!("{path}.timestamp"), &message.timestamp)?;
    let wa_id = wa_id(&format!("{path}.from"), &message.from)?;
    let mut sender = Identity::new(IdentityKind::Whatsapp, message.from.trim())
        .with_assurance(Assurance::ChannelAttested);
    if let Some(name) = profile_name(contacts, &wa_id) {
        sender = sender.with_display_name(name);
    }
    let mut builder = InteractionBuilder::inbound_message(sender, message.id.as_str(), at)
        .thread_key(ThreadKey::ProviderThread(format!(
            "{phone_number_id}:{wa_id}"
        )))
        .attribute("whatsapp.type", message.kind.as_str())
        .attribute("whatsapp.phone_number_id", phone_number_id)
        .attribute("whatsapp.business_account_id", account_id);
    for part in content::parts(path, message)? {
        builder = builder.part(part);
    }
    if let Some(context) = &message.context {
        if let Some(replied) = context
            .id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
        {
            validate::provider_id(&format!("{path}.context.id"), replied)?;
            builder = builder.thread_key(ThreadKey::ReplyToProviderMessage(replied.to_owned()));
        }
        if context.forwarded || context.frequently_forwarded {
            builder = builder.attribute("whatsapp.forwarded", "true");
        }
    }
    if let Some(reaction) = &message.reaction {
        builder = builder.thread_key(ThreadKey::ReplyToProviderMessage(
            reaction.message_id.clone(),
        ));
    }
    if let Some(error) = message.errors.first() {
        builder = builder.attribute("whatsapp.error_code", error.code.to_string());
        if let Some(detail) = error.describe() {
            builder = builder.attribute("whatsapp.error", detail);
        }
    }
    let last = LastInbound {
        phone_number_id: phone_number_id.to_owned(),
        wa_id,
        at,
    };
    Ok((builder.build()?, last))
}

/// The customer's wa_id as digits, checked as the host checks WhatsApp ids.
fn wa_id(field: &str, raw: &str) -> Result<String> {
    let e164 = validate::identity_value(field, &IdentityKind::Whatsapp, raw)?;
    Ok(e164.trim_start_matches('+').to_owned())
}

/// The profile name WhatsApp shared for `wa_id`.
fn profile_name(contacts: &[Contact], wa_id: &str) -> Option<String> {
    contacts
        .iter()
        .find(|contact| contact.wa_id.trim().trim_start_matches('+') == wa_id)
        .and_then(|contact| contact.profile.as_ref()?.name.as_deref())
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// A status report on one of our messages, with Meta's error code when it
/// failed.
fn delivery_update(path: &str, status: &Status) -> Result<DeliveryUpdate> {
    validate::provider_id(&format!("{path}.id"), &status.id)?;
    let state = match status.status.as_str() {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" | "played" => DeliveryState::Read,
        "failed" => DeliveryState::Failed,
        other => {
            return Err(PluginError::bad_input(format!(
                "`{path}.status` must be sent, delivered, read or failed; got {other:?}"
            )));
        }
    };
    let at = unix_seconds(&format!("{path}.timestamp"), &status.timestamp)?;
    let mut update = DeliveryUpdate::new(status.id.as_str(), state, at);
    if let Some(error) = status.errors.first() {
        update = update.with_provider_code(error.code.to_string());
        if let Some(detail) = error.describe() {
            update = update.with_detail(detail);
        }
    }
    validate::delivery_update(&update)?;
    Ok(update)
}

/// A Unix time in seconds, written as a string as Meta does.
fn unix_seconds(field: &str, raw: &str) -> Result<Timestamp> {
    let seconds: u64 = raw.trim().parse().map_err(|_| {
        PluginError::bad_input(format!(
            "`{field}` must be Unix seconds such as \"1795464000\", got {raw:?}"
        ))
    })?;
    let at = Timestamp {
        seconds,
        nanoseconds: 0,
    };
    validate::timestamp_in_range(field, &at)?;
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use silta_sdk::types::{HttpMeta, Part, TransportMeta};

    fn event(body: serde_json::Value) -> InboundEvent {
        InboundEvent {
            channel_account: "01890a5d-ac96-7000-8000-00000000c0de".into(),
            received_at: Timestamp {
                seconds: 1_795_464_000,
                nanoseconds: 0,
            },
            transport: TransportMeta::Http(HttpMeta {
                method: "POST".into(),
                path: "/v1/ingest/wa".into(),
                query: None,
                headers: Vec::new(),
            }),
            body: body.to_string().into_bytes(),
        }
    }

    fn webhook(value: serde_json::Value) -> serde_json::Value {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": value}]}]})
    }

    #[test]
    fn a_reply_threads_on_the_customer_and_the_message_replied_to() {
        let body = webhook(json!({
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Aino Virtanen"}, "wa_id": "358401234567"}],
            "messages": [{"from": "358401234567", "id": "wamid.REPLY", "timestamp": "1795463900",
                "type": "text", "text": {"body": "Yes please"},
                "context": {"from": "15550783881", "id": "wamid.OURS"}}]
        }));
        let inbound = normalize(&event(body)).expect("normalizes");
        let [Normalized::Interaction(message)] = inbound.normalized.as_slice() else {
            panic!("one interaction: {inbound:?}");
        };
        assert_eq!(message.sender.kind, IdentityKind::Whatsapp);
        assert_eq!(message.sender.assurance, Assurance::ChannelAttested);
        assert_eq!(
            message.sender.display_name.as_deref(),
            Some("Aino Virtanen")
        );
        assert_eq!(message.provider_message_id, "wamid.REPLY");
        assert_eq!(message.parts, vec![Part::Text("Yes please".into())]);
        assert_eq!(
            message.thread_keys,
            vec![
                ThreadKey::ProviderThread("106540352242922:358401234567".into()),
                ThreadKey::ReplyToProviderMessage("wamid.OURS".into()),
            ]
        );
        assert_eq!(
            inbound.contacts,
            vec![LastInbound {
                phone_number_id: "106540352242922".into(),
                wa_id: "358401234567".into(),
                at: Timestamp {
                    seconds: 1_795_463_900,
                    nanoseconds: 0
                },
            }]
        );
    }

    #[test]
    fn a_failed_status_keeps_the_provider_code() {
        let body = webhook(json!({
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": "106540352242922"},
            "statuses": [{"id": "wamid.OURS", "status": "failed", "timestamp": "1795463000",
                "recipient_id": "358401234567",
                "errors": [{"code": 131047, "title": "Re-engagement message"}]}]
        }));
        let inbound = normalize(&event(body)).expect("normalizes");
        assert!(inbound.contacts.is_empty(), "a status opens no window");
        let [Normalized::DeliveryUpdate(update)] = inbound.normalized.as_slice() else {
            panic!("one update: {inbound:?}");
        };
        assert_eq!(update.state, DeliveryState::Failed);
        assert_eq!(update.provider_code.as_deref(), Some("131047"));
        assert_eq!(update.detail.as_deref(), Some("Re-engagement message"));
    }

    #[test]
    fn other_subscriptions_carry_nothing() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1",
            "changes": [{"field": "message_template_status_update",
                "value": {"event": "APPROVED", "message_template_name": "order_update"}}]}]});
        assert_eq!(
            normalize(&event(body)).expect("normalizes").normalized,
            Vec::new()
        );
    }

    #[test]
    fn bad_timestamps_and_objects_are_bad_input() {
        let error = unix_seconds("t", "yesterday").unwrap_err();
        assert!(error.message().contains("Unix seconds"), "{error:?}");
        let page = json!({"object": "page", "entry": []});
        let error = normalize(&event(page)).unwrap_err();
        assert_eq!(error.kind(), "bad-input");
        assert!(
            error.message().contains("whatsapp_business_account"),
            "{error:?}"
        );
    }
}
