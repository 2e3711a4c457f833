//! A canonical JSON rendering of the WIT values, for golden files, test
//! assertions and debugging.
//!
//! The shape follows the WIT: records are objects with the WIT field names
//! (`provider-message-id`), enums are their case name as a string
//! (`"channel-asserted"`), variants are `{"case": payload}` or just
//! `"case"` without a payload, options are `null` when absent and lists
//! are arrays. Two exceptions make golden files readable: a `timestamp` is
//! its RFC 3339 text in UTC (`"2026-11-23T20:54:41Z"`; the record form
//! only outside 1970 to 9999), and bytes are a string when they are UTF-8
//! and `{"hex": "..."}` otherwise. Object keys are sorted, so the output is
//! stable. A `Result` renders its `Ok` value as is and an error as
//! `{"error": {"kind": "bad-input", "message": "..."}}`.

use serde_json::{Map, Value, json};

use crate::types::{
    Activity, Assurance, Attachment, Background, BackofficeLink, DeliveryOutcome, DeliveryState,
    DeliveryUpdate, Direction, EmailHeaders, EmailRequest, HttpMeta, HttpRequest, HttpResponse,
    Identity, IdentityKind, IdentityScope, ImapMeta, InboundEvent, Interaction, InteractionKind,
    InteractiveReply, Location, Normalized, OutboundMessage, Part, PluginError, PluginInfo,
    Reaction, SenderRole, SmtpReply, Template, ThreadKey, Ticket, Timestamp, TransportMeta,
    TransportRequest, TransportResponse,
};

/// Renders a WIT value as JSON (see the module docs for the shape).
pub trait ToJson {
    /// The value as JSON.
    fn to_json(&self) -> Value;
}

/// Renders `value` as pretty-printed JSON text with a final newline, the
/// form golden files are kept in.
pub fn to_pretty_string<T: ToJson + ?Sized>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(&value.to_json())
        .unwrap_or_else(|_| unreachable!("a serde_json::Value always serializes"));
    text.push('\n');
    text
}

/// Bytes as a UTF-8 string, or `{"hex": "..."}`.
fn bytes(data: &[u8]) -> Value {
    match std::str::from_utf8(data) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => {
            let hex: String = data.iter().map(|byte| format!("{byte:02x}")).collect();
            json!({ "hex": hex })
        }
    }
}

fn pairs(list: &[(String, String)]) -> Value {
    Value::Array(list.iter().map(|(k, v)| json!([k, v])).collect())
}

fn case(name: &str, payload: Value) -> Value {
    let mut object = Map::new();
    object.insert(name.to_owned(), payload);
    Value::Object(object)
}

fn string(name: &str) -> Value {
    Value::String(name.to_owned())
}

// === containers ===

impl<T: ToJson> ToJson for [T] {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        self.as_slice().to_json()
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToJson::to_json)
    }
}

impl<T: ToJson> ToJson for Result<T, PluginError> {
    fn to_json(&self) -> Value {
        match self {
            Ok(value) => value.to_json(),
            Err(error) => json!({ "error": error.to_json() }),
        }
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

// === errors ===

impl ToJson for PluginError {
    fn to_json(&self) -> Value {
        match self {
            PluginError::Retryable(error) => json!({
                "kind": self.kind(),
                "message": error.message,
                "retry-after-ms": error.retry_after_ms,
            }),
            _ => json!({ "kind": self.kind(), "message": self.message() }),
        }
    }
}

// === time and identities ===

impl ToJson for Timestamp {
    fn to_json(&self) -> Value {
        match crate::time::to_rfc3339(self) {
            Some(text) => Value::String(text),
            None => json!({ "seconds": self.seconds, "nanoseconds": self.nanoseconds }),
        }
    }
}

impl ToJson for IdentityKind {
    fn to_json(&self) -> Value {
        match self {
            IdentityKind::Email => string("email"),
            IdentityKind::Phone => string("phone"),
            IdentityKind::Whatsapp => string("whatsapp"),
            IdentityKind::Telegram => string("telegram"),
            IdentityKind::Messenger => string("messenger"),
            IdentityKind::Instagram => string("instagram"),
            IdentityKind::WebchatVisitor => string("webchat-visitor"),
            IdentityKind::CrmContact => string("crm-contact"),
            IdentityKind::ErpCustomer => string("erp-customer"),
            IdentityKind::Custom(name) => case("custom", string(name)),
        }
    }
}

impl ToJson for IdentityScope {
    fn to_json(&self) -> Value {
        match self {
            IdentityScope::Global => string("global"),
            IdentityScope::ChannelAccount(name) => case("channel-account", string(name)),
            IdentityScope::App(name) => case("app", string(name)),
        }
    }
}

impl ToJson for Assurance {
    fn to_json(&self) -> Value {
        string(match self {
            Assurance::Unverified => "unverified",
            Assurance::ChannelAsserted => "channel-asserted",
            Assurance::ChannelAttested => "channel-attested",
            Assurance::HmacVerified => "hmac-verified",
            Assurance::AgentVerified => "agent-verified",
        })
    }
}

impl ToJson for Identity {
    fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.to_json(),
            "value": self.value,
            "scope": self.scope.to_json(),
            "assurance": self.assurance.to_json(),
            "display-name": self.display_name,
        })
    }
}

// === interactions ===

impl ToJson for Direction {
    fn to_json(&self) -> Value {
        string(match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        })
    }
}

impl ToJson for InteractionKind {
    fn to_json(&self) -> Value {
        string(match self {
            InteractionKind::Message => "message",
            InteractionKind::Note => "note",
            InteractionKind::Event => "event",
            InteractionKind::Call => "call",
        })
    }
}

impl ToJson for SenderRole {
    fn to_json(&self) -> Value {
        string(match self {
            SenderRole::Customer => "customer",
            SenderRole::Agent => "agent",
            SenderRole::Bot => "bot",
            SenderRole::System => "system",
        })
    }
}

impl ToJson for ThreadKey {
    fn to_json(&self) -> Value {
        let (name, value) = match self {
            ThreadKey::MessageId(v) => ("message-id", v),
            ThreadKey::InReplyTo(v) => ("in-reply-to", v),
            ThreadKey::References(v) => ("references", v),
            ThreadKey::ReplyToken(v) => ("reply-token", v),
            ThreadKey::ProviderThread(v) => ("provider-thread", v),
            ThreadKey::ReplyToProviderMessage(v) => ("reply-to-provider-message", v),
        };
        case(name, string(value))
    }
}

impl ToJson for Attachment {
    fn to_json(&self) -> Value {
        json!({
            "filename": self.filename,
            "media-type": self.media_type,
            "size-bytes": self.size_bytes,
            "content-hash": self.content_hash,
            "url": self.url,
            "content": self.content.as_deref().map(bytes),
            "content-id": self.content_id,
            "inline": self.inline,
        })
    }
}

impl ToJson for Location {
    fn to_json(&self) -> Value {
        json!({
            "latitude": self.latitude,
            "longitude": self.longitude,
            "name": self.name,
            "address": self.address,
        })
    }
}

impl ToJson for InteractiveReply {
    fn to_json(&self) -> Value {
        json!({ "id": self.id, "title": self.title })
    }
}

impl ToJson for Template {
    fn to_json(&self) -> Value {
        json!({ "name": self.name, "language": self.language, "parameters": self.parameters })
    }
}

impl ToJson for Reaction {
    fn to_json(&self) -> Value {
        json!({ "emoji": self.emoji, "provider-message-id": self.provider_message_id })
    }
}

impl ToJson for Part {
    fn to_json(&self) -> Value {
        match self {
            Part::Text(text) => case("text", string(text)),
            Part::Html(html) => case("html", string(html)),
            Part::Quoted(quoted) => case("quoted", string(quoted)),
            Part::Attachment(attachment) => case("attachment", attachment.to_json()),
            Part::Location(location) => case("location", location.to_json()),
            Part::Interactive(reply) => case("interactive", reply.to_json()),
            Part::Template(template) => case("template", template.to_json()),
            Part::Reaction(reaction) => case("reaction", reaction.to_json()),
        }
    }
}

impl ToJson for EmailHeaders {
    fn to_json(&self) -> Value {
        json!({
            "message-id": self.message_id,
            "in-reply-to": self.in_reply_to,
            "references": self.references,
            "subject": self.subject,
            "auto-submitted": self.auto_submitted,
            "reply-to": self.reply_to.to_json(),
        })
    }
}

impl ToJson for Interaction {
    fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.to_json(),
            "direction": self.direction.to_json(),
            "sender-role": self.sender_role.to_json(),
            "sender": self.sender.to_json(),
            "recipients": self.recipients.to_json(),
            "provider-message-id": self.provider_message_id,
            "occurred-at": self.occurred_at.to_json(),
            "subject": self.subject,
            "parts": self.parts.to_json(),
            "thread-keys": self.thread_keys.to_json(),
            "email": self.email.to_json(),
            "attributes": pairs(&self.attributes),
        })
    }
}

impl ToJson for DeliveryState {
    fn to_json(&self) -> Value {
        string(match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Read => "read",
            DeliveryState::Failed => "failed",
            DeliveryState::Bounced => "bounced",
        })
    }
}

impl ToJson for DeliveryUpdate {
    fn to_json(&self) -> Value {
        json!({
            "provider-message-id": self.provider_message_id,
            "state": self.state.to_json(),
            "provider-code": self.provider_code,
            "detail": self.detail,
            "occurred-at": self.occurred_at.to_json(),
        })
    }
}

impl ToJson for Normalized {
    fn to_json(&self) -> Value {
        match self {
            Normalized::Interaction(interaction) => case("interaction", interaction.to_json()),
            Normalized::DeliveryUpdate(update) => case("delivery-update", update.to_json()),
        }
    }
}

// === transport ===

impl ToJson for HttpMeta {
    fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": pairs(&self.headers),
        })
    }
}

impl ToJson for ImapMeta {
    fn to_json(&self) -> Value {
        json!({
            "mailbox": self.mailbox,
            "uid-validity": self.uid_validity,
            "uid": self.uid,
            "flags": self.flags,
        })
    }
}

impl ToJson for TransportMeta {
    fn to_json(&self) -> Value {
        match self {
            TransportMeta::Http(meta) => case("http", meta.to_json()),
            TransportMeta::Imap(meta) => case("imap", meta.to_json()),
            TransportMeta::Other(list) => case("other", pairs(list)),
        }
    }
}

impl ToJson for InboundEvent {
    fn to_json(&self) -> Value {
        json!({
            "channel-account": self.channel_account,
            "received-at": self.received_at.to_json(),
            "transport": self.transport.to_json(),
            "body": bytes(&self.body),
        })
    }
}

impl ToJson for OutboundMessage {
    fn to_json(&self) -> Value {
        json!({
            "channel-account": self.channel_account,
            "interaction-id": self.interaction_id,
            "recipient": self.recipient.to_json(),
            "sender": self.sender.to_json(),
            "subject": self.subject,
            "parts": self.parts.to_json(),
            "thread-keys": self.thread_keys.to_json(),
            "reply-to-provider-message-id": self.reply_to_provider_message_id,
            "reply-to-email": self.reply_to_email.to_json(),
            "reply-token": self.reply_token,
        })
    }
}

impl ToJson for HttpRequest {
    fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "url": self.url,
            "headers": pairs(&self.headers),
            "body": bytes(&self.body),
        })
    }
}

impl ToJson for EmailRequest {
    fn to_json(&self) -> Value {
        json!({
            "envelope-from": self.envelope_from,
            "envelope-to": self.envelope_to,
            "message-id": self.message_id,
            "raw": bytes(&self.raw),
        })
    }
}

impl ToJson for TransportRequest {
    fn to_json(&self) -> Value {
        match self {
            TransportRequest::Http(request) => case("http", request.to_json()),
            TransportRequest::Email(request) => case("email", request.to_json()),
        }
    }
}

impl ToJson for HttpResponse {
    fn to_json(&self) -> Value {
        json!({
            "status": self.status,
            "headers": pairs(&self.headers),
            "body": bytes(&self.body),
        })
    }
}

impl ToJson for SmtpReply {
    fn to_json(&self) -> Value {
        json!({ "code": self.code, "text": self.text })
    }
}

impl ToJson for TransportResponse {
    fn to_json(&self) -> Value {
        match self {
            TransportResponse::Http(response) => case("http", response.to_json()),
            TransportResponse::Smtp(reply) => case("smtp", reply.to_json()),
        }
    }
}

impl ToJson for DeliveryOutcome {
    fn to_json(&self) -> Value {
        json!({
            "state": self.state.to_json(),
            "provider-message-id": self.provider_message_id,
            "provider-code": self.provider_code,
            "detail": self.detail,
        })
    }
}

// === back office and description ===

impl ToJson for BackofficeLink {
    fn to_json(&self) -> Value {
        json!({
            "system": self.system,
            "object-type": self.object_type,
            "remote-id": self.remote_id,
            "url": self.url,
            "snapshot": pairs(&self.snapshot),
        })
    }
}

impl ToJson for Background {
    fn to_json(&self) -> Value {
        json!({
            "display-name": self.display_name,
            "identities": self.identities.to_json(),
            "links": self.links.to_json(),
            "attributes": pairs(&self.attributes),
        })
    }
}

impl ToJson for Activity {
    fn to_json(&self) -> Value {
        json!({
            "interaction-id": self.interaction_id,
            "case-id": self.case_id,
            "party-links": self.party_links.to_json(),
            "direction": self.direction.to_json(),
            "channel": self.channel,
            "occurred-at": self.occurred_at.to_json(),
            "subject": self.subject,
            "text": self.text,
        })
    }
}

impl ToJson for Ticket {
    fn to_json(&self) -> Value {
        json!({
            "remote-id": self.remote_id,
            "case-id": self.case_id,
            "party-links": self.party_links.to_json(),
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "priority": self.priority,
        })
    }
}

impl ToJson for PluginInfo {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "identity-kinds": self.identity_kinds.to_json(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InteractionBuilder;

    #[test]
    fn renders_an_interaction_in_wit_shape() {
        let sender = Identity::new(IdentityKind::WebchatVisitor, "v-1")
            .with_assurance(Assurance::ChannelAsserted);
        let at = Timestamp {
            seconds: 1_795_467_281,
            nanoseconds: 0,
        };
        let interaction = InteractionBuilder::inbound_message(sender, "m-1", at)
            .text("hi")
            .thread_key(ThreadKey::ProviderThread("t".into()))
            .build_unchecked();
        let value = Normalized::Interaction(interaction).to_json();
        let inner = &value["interaction"];
        assert_eq!(inner["occurred-at"], "2026-11-23T20:54:41Z");
        assert_eq!(inner["sender"]["kind"], "webchat-visitor");
        assert_eq!(inner["sender"]["assurance"], "channel-asserted");
        assert_eq!(inner["parts"][0]["text"], "hi");
        assert_eq!(inner["thread-keys"][0]["provider-thread"], "t");
        assert_eq!(inner["email"], Value::Null);
    }

    #[test]
    fn renders_errors_bytes_and_results() {
        let result: Result<Vec<Normalized>, PluginError> =
            Err(PluginError::missing("sender.value"));
        assert_eq!(
            result.to_json(),
            json!({"error": {"kind": "bad-input", "message": "`sender.value` is missing"}})
        );
        let request = HttpRequest::post("https://x.test").with_body(vec![0xff, 0x00]);
        assert_eq!(request.to_json()["body"], json!({"hex": "ff00"}));
        assert!(to_pretty_string(&DeliveryOutcome::sent(None)).ends_with("}\n"));
    }
}
