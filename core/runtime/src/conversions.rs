//! The one place that maps WIT-generated types to the common contact
//! format and back. Values coming from a plugin are validated and
//! normalized here (through the model's constructors), and every error
//! names the field it came from (`sender.value`, `parts[2].content_hash`).

use std::collections::BTreeMap;
use std::time::Duration;

use silta_model::{
    Assurance, Attachment, BackofficeLink, ContentHash, DeliveryState, DeliveryUpdate, Direction,
    EmailHeaders, IdempotencyKey, Identity, IdentityKey, IdentityKind, IdentityScope, Interaction,
    InteractionId, InteractionKind, InteractiveReply, LanguageTag, Location, ModelError,
    NormalizeOptions, Part, Provenance, Reaction, SenderRole, Template, ThreadKey, Timestamp,
};

use crate::bindings::wit;
use crate::contract::{
    Activity, AttachmentBytes, Background, DeliveryOutcome, EmailRequest, HttpRequest,
    HttpResponse, InboundEvent, Normalized, NormalizedInteraction, OutboundMessage, PluginError,
    PluginInfo, Ticket, TransportMeta, TransportRequest, TransportResponse,
};
use crate::manifest::Manifest;

type ModelResult<T> = Result<T, ModelError>;

// === time ===

fn timestamp_to_wit(t: &Timestamp) -> wit::Timestamp {
    wit::Timestamp {
        seconds: t.unix_seconds(),
        nanoseconds: t.subsec_nanos(),
    }
}

fn timestamp_from_wit(field: &str, t: wit::Timestamp) -> ModelResult<Timestamp> {
    Timestamp::from_unix(field, t.seconds, t.nanoseconds)
}

// === identities ===

fn kind_to_wit(k: &IdentityKind) -> wit::IdentityKind {
    match k {
        IdentityKind::Email => wit::IdentityKind::Email,
        IdentityKind::Phone => wit::IdentityKind::Phone,
        IdentityKind::Whatsapp => wit::IdentityKind::Whatsapp,
        IdentityKind::Telegram => wit::IdentityKind::Telegram,
        IdentityKind::Messenger => wit::IdentityKind::Messenger,
        IdentityKind::Instagram => wit::IdentityKind::Instagram,
        IdentityKind::WebchatVisitor => wit::IdentityKind::WebchatVisitor,
        IdentityKind::CrmContact => wit::IdentityKind::CrmContact,
        IdentityKind::ErpCustomer => wit::IdentityKind::ErpCustomer,
        IdentityKind::Custom(s) => wit::IdentityKind::Custom(s.clone()),
    }
}

fn kind_from_wit(k: wit::IdentityKind) -> IdentityKind {
    match k {
        wit::IdentityKind::Email => IdentityKind::Email,
        wit::IdentityKind::Phone => IdentityKind::Phone,
        wit::IdentityKind::Whatsapp => IdentityKind::Whatsapp,
        wit::IdentityKind::Telegram => IdentityKind::Telegram,
        wit::IdentityKind::Messenger => IdentityKind::Messenger,
        wit::IdentityKind::Instagram => IdentityKind::Instagram,
        wit::IdentityKind::WebchatVisitor => IdentityKind::WebchatVisitor,
        wit::IdentityKind::CrmContact => IdentityKind::CrmContact,
        wit::IdentityKind::ErpCustomer => IdentityKind::ErpCustomer,
        wit::IdentityKind::Custom(s) => IdentityKind::Custom(s),
    }
}

fn scope_to_wit(s: &IdentityScope) -> wit::IdentityScope {
    match s {
        IdentityScope::Global => wit::IdentityScope::Global,
        IdentityScope::ChannelAccount(a) => wit::IdentityScope::ChannelAccount(a.clone()),
        IdentityScope::App(a) => wit::IdentityScope::App(a.clone()),
    }
}

fn scope_from_wit(s: wit::IdentityScope) -> IdentityScope {
    match s {
        wit::IdentityScope::Global => IdentityScope::Global,
        wit::IdentityScope::ChannelAccount(a) => IdentityScope::ChannelAccount(a),
        wit::IdentityScope::App(a) => IdentityScope::App(a),
    }
}

fn assurance_to_wit(a: Assurance) -> wit::Assurance {
    match a {
        Assurance::Unverified => wit::Assurance::Unverified,
        Assurance::ChannelAsserted => wit::Assurance::ChannelAsserted,
        Assurance::ChannelAttested => wit::Assurance::ChannelAttested,
        Assurance::HmacVerified => wit::Assurance::HmacVerified,
        Assurance::AgentVerified => wit::Assurance::AgentVerified,
    }
}

fn assurance_from_wit(a: wit::Assurance) -> Assurance {
    match a {
        wit::Assurance::Unverified => Assurance::Unverified,
        wit::Assurance::ChannelAsserted => Assurance::ChannelAsserted,
        wit::Assurance::ChannelAttested => Assurance::ChannelAttested,
        wit::Assurance::HmacVerified => Assurance::HmacVerified,
        wit::Assurance::AgentVerified => Assurance::AgentVerified,
    }
}

pub(crate) fn identity_to_wit(i: &Identity) -> wit::Identity {
    wit::Identity {
        kind: kind_to_wit(i.kind()),
        value: i.value().to_string(),
        scope: scope_to_wit(i.scope()),
        assurance: assurance_to_wit(i.assurance),
        display_name: i.display_name.clone(),
    }
}

fn identity_from_wit(i: wit::Identity, options: &NormalizeOptions) -> ModelResult<Identity> {
    let identity = Identity::new(
        kind_from_wit(i.kind),
        &i.value,
        scope_from_wit(i.scope),
        assurance_from_wit(i.assurance),
        options,
    )?;
    Ok(
        match i
            .display_name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
        {
            Some(name) => identity.with_display_name(name),
            None => identity,
        },
    )
}

// === parts ===

/// A part for the guest, with an attachment's bytes when `bytes` has them.
fn part_to_wit(p: &Part, bytes: &AttachmentBytes) -> wit::Part {
    match p {
        Part::Text(s) => wit::Part::Text(s.clone()),
        Part::Html(s) => wit::Part::Html(s.clone()),
        Part::Quoted(s) => wit::Part::Quoted(s.clone()),
        Part::Attachment(a) => wit::Part::Attachment(wit::Attachment {
            filename: a.filename.clone(),
            media_type: a.media_type.clone(),
            size_bytes: a.size_bytes,
            content_hash: a.content_hash.as_ref().map(|h| h.as_str().to_string()),
            url: a.url.clone(),
            content: a
                .content_hash
                .as_ref()
                .and_then(|hash| bytes.get(hash))
                .cloned(),
            content_id: a.content_id.clone(),
            inline: a.inline,
        }),
        Part::Location(l) => wit::Part::Location(wit::Location {
            latitude: l.latitude,
            longitude: l.longitude,
            name: l.name.clone(),
            address: l.address.clone(),
        }),
        Part::Interactive(i) => wit::Part::Interactive(wit::InteractiveReply {
            id: i.id.clone(),
            title: i.title.clone(),
        }),
        Part::Template(t) => wit::Part::Template(wit::Template {
            name: t.name.clone(),
            language: t.language.as_str().to_string(),
            parameters: t.parameters.clone(),
        }),
        Part::Reaction(r) => wit::Part::Reaction(wit::Reaction {
            emoji: r.emoji.clone(),
            provider_message_id: r.provider_message_id.clone(),
        }),
    }
}

fn part_from_wit(p: wit::Part, blobs: &mut Vec<(ContentHash, Vec<u8>)>) -> ModelResult<Part> {
    Ok(match p {
        wit::Part::Text(s) => Part::Text(s),
        wit::Part::Html(s) => Part::Html(s),
        wit::Part::Quoted(s) => Part::Quoted(s),
        wit::Part::Attachment(a) => {
            let declared = a
                .content_hash
                .as_deref()
                .map(|h| ContentHash::parse("content_hash", h))
                .transpose()?;
            let content_hash = match a.content {
                Some(bytes) => {
                    let actual = ContentHash::of(&bytes);
                    if declared.as_ref().is_some_and(|d| d != &actual) {
                        return Err(ModelError::InvalidValue {
                            field: "content_hash".into(),
                            value: declared.map(|d| d.as_str().to_string()).unwrap_or_default(),
                            reason: format!(
                                "does not match the content, whose hash is {}",
                                actual.as_str()
                            ),
                        });
                    }
                    let size = bytes.len() as u64;
                    blobs.push((actual.clone(), bytes));
                    return Ok(Part::Attachment(Attachment {
                        filename: a.filename,
                        media_type: non_empty("media_type", a.media_type)?,
                        size_bytes: Some(size),
                        content_hash: Some(actual),
                        url: a.url,
                        content_id: a.content_id,
                        inline: a.inline,
                    }));
                }
                None => declared,
            };
            if content_hash.is_none() && a.url.is_none() {
                return Err(ModelError::InvalidValue {
                    field: String::new(),
                    value: a.filename.unwrap_or_default(),
                    reason: "an attachment needs its content, a content hash or a url".into(),
                });
            }
            Part::Attachment(Attachment {
                filename: a.filename,
                media_type: non_empty("media_type", a.media_type)?,
                size_bytes: a.size_bytes,
                content_hash,
                url: a.url,
                content_id: a.content_id,
                inline: a.inline,
            })
        }
        wit::Part::Location(l) => {
            if !(-90.0..=90.0).contains(&l.latitude) || !(-180.0..=180.0).contains(&l.longitude) {
                return Err(ModelError::InvalidValue {
                    field: String::new(),
                    value: format!("{},{}", l.latitude, l.longitude),
                    reason: "latitude must be within ±90 and longitude within ±180".into(),
                });
            }
            Part::Location(Location {
                latitude: l.latitude,
                longitude: l.longitude,
                name: l.name,
                address: l.address,
            })
        }
        wit::Part::Interactive(i) => Part::Interactive(InteractiveReply {
            id: i.id,
            title: i.title,
        }),
        wit::Part::Template(t) => Part::Template(Template {
            name: non_empty("name", t.name)?,
            language: LanguageTag::parse("language", &t.language)?,
            parameters: t.parameters,
        }),
        wit::Part::Reaction(r) => Part::Reaction(Reaction {
            emoji: r.emoji,
            provider_message_id: r.provider_message_id,
        }),
    })
}

fn non_empty(field: &str, s: String) -> ModelResult<String> {
    if s.trim().is_empty() {
        return Err(ModelError::Empty {
            field: field.to_string(),
        });
    }
    Ok(s)
}

// === threading and email ===

fn thread_key_to_wit(k: &ThreadKey) -> wit::ThreadKey {
    match k {
        ThreadKey::MessageId(s) => wit::ThreadKey::MessageId(s.clone()),
        ThreadKey::InReplyTo(s) => wit::ThreadKey::InReplyTo(s.clone()),
        ThreadKey::References(s) => wit::ThreadKey::References(s.clone()),
        ThreadKey::ReplyToken(s) => wit::ThreadKey::ReplyToken(s.clone()),
        ThreadKey::ProviderThread(s) => wit::ThreadKey::ProviderThread(s.clone()),
        ThreadKey::ReplyToProviderMessage(s) => wit::ThreadKey::ReplyToProviderMessage(s.clone()),
    }
}

fn thread_key_from_wit(k: wit::ThreadKey) -> ThreadKey {
    match k {
        wit::ThreadKey::MessageId(s) => ThreadKey::MessageId(s),
        wit::ThreadKey::InReplyTo(s) => ThreadKey::InReplyTo(s),
        wit::ThreadKey::References(s) => ThreadKey::References(s),
        wit::ThreadKey::ReplyToken(s) => ThreadKey::ReplyToken(s),
        wit::ThreadKey::ProviderThread(s) => ThreadKey::ProviderThread(s),
        wit::ThreadKey::ReplyToProviderMessage(s) => ThreadKey::ReplyToProviderMessage(s),
    }
}

fn email_to_wit(e: &EmailHeaders) -> wit::EmailHeaders {
    wit::EmailHeaders {
        message_id: e.message_id.clone(),
        in_reply_to: e.in_reply_to.clone(),
        references: e.references.clone(),
        subject: e.subject.clone(),
        auto_submitted: e.auto_submitted.clone(),
        reply_to: e.reply_to.iter().map(identity_key_to_wit).collect(),
    }
}

/// An identity the model knows only by key, as the plugin sees it: what
/// the channel asserted, without a display name.
fn identity_key_to_wit(key: &IdentityKey) -> wit::Identity {
    wit::Identity {
        kind: kind_to_wit(key.kind()),
        value: key.value().to_string(),
        scope: scope_to_wit(key.scope()),
        assurance: wit::Assurance::ChannelAsserted,
        display_name: None,
    }
}

fn email_from_wit(e: wit::EmailHeaders, options: &NormalizeOptions) -> ModelResult<EmailHeaders> {
    let reply_to = e
        .reply_to
        .into_iter()
        .enumerate()
        .map(|(n, r)| {
            identity_from_wit(r, options)
                .map(|i| i.key())
                .map_err(|e| e.in_field(&format!("reply_to[{n}]")))
        })
        .collect::<ModelResult<Vec<_>>>()?;
    Ok(EmailHeaders {
        message_id: e.message_id,
        in_reply_to: e.in_reply_to,
        references: e.references,
        subject: e.subject,
        auto_submitted: e.auto_submitted,
        reply_to,
    })
}

fn delivery_state_from_wit(s: wit::DeliveryState) -> DeliveryState {
    match s {
        wit::DeliveryState::Queued => DeliveryState::Queued,
        wit::DeliveryState::Sent => DeliveryState::Sent,
        wit::DeliveryState::Delivered => DeliveryState::Delivered,
        wit::DeliveryState::Read => DeliveryState::Read,
        wit::DeliveryState::Failed => DeliveryState::Failed,
        wit::DeliveryState::Bounced => DeliveryState::Bounced,
    }
}

fn direction_to_wit(d: Direction) -> wit::Direction {
    match d {
        Direction::Inbound => wit::Direction::Inbound,
        Direction::Outbound => wit::Direction::Outbound,
    }
}

fn direction_from_wit(d: wit::Direction) -> Direction {
    match d {
        wit::Direction::Inbound => Direction::Inbound,
        wit::Direction::Outbound => Direction::Outbound,
    }
}

// === inbound ===

pub(crate) fn inbound_event_to_wit(e: &InboundEvent) -> wit::InboundEvent {
    wit::InboundEvent {
        channel_account: e.channel_account.to_string(),
        received_at: timestamp_to_wit(&e.received_at),
        transport: match &e.transport {
            TransportMeta::Http {
                method,
                path,
                query,
                headers,
            } => wit::TransportMeta::Http(wit::HttpMeta {
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                headers: headers.clone(),
            }),
            TransportMeta::Imap {
                mailbox,
                uid_validity,
                uid,
                flags,
            } => wit::TransportMeta::Imap(wit::ImapMeta {
                mailbox: mailbox.clone(),
                uid_validity: *uid_validity,
                uid: *uid,
                flags: flags.clone(),
            }),
            TransportMeta::Other(pairs) => wit::TransportMeta::Other(pairs.clone()),
        },
        body: e.body.clone(),
    }
}

fn interaction_from_wit(
    i: wit::Interaction,
    event: &InboundEvent,
    manifest: &Manifest,
    options: &NormalizeOptions,
) -> ModelResult<NormalizedInteraction> {
    let sender = identity_from_wit(i.sender, options).map_err(|e| e.in_field("sender"))?;
    let recipients = i
        .recipients
        .into_iter()
        .enumerate()
        .map(|(n, r)| {
            identity_from_wit(r, options).map_err(|e| e.in_field(&format!("recipients[{n}]")))
        })
        .collect::<ModelResult<Vec<_>>>()?;
    let mut blobs = Vec::new();
    let parts = i
        .parts
        .into_iter()
        .enumerate()
        .map(|(n, p)| part_from_wit(p, &mut blobs).map_err(|e| e.in_field(&format!("parts[{n}]"))))
        .collect::<ModelResult<Vec<_>>>()?;
    let provider = manifest.id.as_str();
    let provider_message_id = non_empty("provider_message_id", i.provider_message_id)?;
    let idempotency_key =
        IdempotencyKey::new(event.channel_account, provider, &provider_message_id)?;
    let interaction = Interaction {
        id: InteractionId::new(),
        kind: match i.kind {
            wit::InteractionKind::Message => InteractionKind::Message,
            wit::InteractionKind::Note => InteractionKind::Note,
            wit::InteractionKind::Event => InteractionKind::Event,
            wit::InteractionKind::Call => InteractionKind::Call,
        },
        direction: direction_from_wit(i.direction),
        sender_role: match i.sender_role {
            wit::SenderRole::Customer => SenderRole::Customer,
            wit::SenderRole::Agent => SenderRole::Agent,
            wit::SenderRole::Bot => SenderRole::Bot,
            wit::SenderRole::System => SenderRole::System,
        },
        sender: sender.key(),
        recipients: recipients.iter().map(Identity::key).collect(),
        conversation_id: None,
        case_id: None,
        party_id: None,
        subject: i
            .subject
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        parts,
        email: i
            .email
            .map(|e| email_from_wit(e, options).map_err(|e| e.in_field("email")))
            .transpose()?,
        thread_keys: i.thread_keys.into_iter().map(thread_key_from_wit).collect(),
        occurred_at: timestamp_from_wit("occurred_at", i.occurred_at)?,
        received_at: event.received_at,
        delivery: Vec::new(),
        provenance: Provenance {
            plugin_id: manifest.id.to_string(),
            plugin_version: manifest.version.clone(),
            provider: provider.to_string(),
            provider_message_id,
            raw_blob_ref: None,
        },
        idempotency_key,
        threading_reason: None,
        attributes: i.attributes.into_iter().collect::<BTreeMap<_, _>>(),
        linking: None,
        enrichment: None,
        backoffice_links: Vec::new(),
    };
    Ok(NormalizedInteraction {
        interaction,
        sender,
        recipients,
        blobs,
    })
}

fn delivery_update_from_wit(d: wit::DeliveryUpdate) -> ModelResult<DeliveryUpdate> {
    Ok(DeliveryUpdate {
        provider_message_id: non_empty("provider_message_id", d.provider_message_id)?,
        state: delivery_state_from_wit(d.state),
        provider_code: d.provider_code,
        detail: d.detail,
        at: timestamp_from_wit("occurred_at", d.occurred_at)?,
    })
}

pub(crate) fn normalized_from_wit(
    items: Vec<wit::Normalized>,
    event: &InboundEvent,
    manifest: &Manifest,
    options: &NormalizeOptions,
) -> ModelResult<Vec<Normalized>> {
    items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            Ok(match item {
                wit::Normalized::Interaction(i) => Normalized::Interaction(Box::new(
                    interaction_from_wit(i, event, manifest, options)
                        .map_err(|e| e.in_field(&format!("interactions[{n}]")))?,
                )),
                wit::Normalized::DeliveryUpdate(d) => Normalized::DeliveryUpdate(
                    delivery_update_from_wit(d)
                        .map_err(|e| e.in_field(&format!("delivery_updates[{n}]")))?,
                ),
            })
        })
        .collect()
}

// === outbound ===

pub(crate) fn outbound_message_to_wit(
    m: &OutboundMessage,
    attachments: &AttachmentBytes,
) -> wit::OutboundMessage {
    wit::OutboundMessage {
        channel_account: m.channel_account.clone(),
        interaction_id: m.interaction_id.to_string(),
        recipient: identity_to_wit(&m.recipient),
        sender: m.sender.as_ref().map(identity_to_wit),
        subject: m.subject.clone(),
        parts: m
            .parts
            .iter()
            .map(|p| part_to_wit(p, attachments))
            .collect(),
        thread_keys: m.thread_keys.iter().map(thread_key_to_wit).collect(),
        reply_to_provider_message_id: m.reply_to_provider_message_id.clone(),
        reply_to_email: m.reply_to_email.as_ref().map(email_to_wit),
        reply_token: m.reply_token.clone(),
    }
}

pub(crate) fn transport_request_from_wit(r: wit::TransportRequest) -> TransportRequest {
    match r {
        wit::TransportRequest::Http(h) => TransportRequest::Http(HttpRequest {
            method: h.method,
            url: h.url,
            headers: h.headers,
            body: h.body,
        }),
        wit::TransportRequest::Email(e) => TransportRequest::Email(EmailRequest {
            envelope_from: e.envelope_from,
            envelope_to: e.envelope_to,
            message_id: e.message_id,
            raw: e.raw,
        }),
    }
}

pub(crate) fn transport_request_to_wit(r: &TransportRequest) -> wit::TransportRequest {
    match r {
        TransportRequest::Http(h) => wit::TransportRequest::Http(wit::HttpRequest {
            method: h.method.clone(),
            url: h.url.clone(),
            headers: h.headers.clone(),
            body: h.body.clone(),
        }),
        TransportRequest::Email(e) => wit::TransportRequest::Email(wit::EmailRequest {
            envelope_from: e.envelope_from.clone(),
            envelope_to: e.envelope_to.clone(),
            message_id: e.message_id.clone(),
            raw: e.raw.clone(),
        }),
    }
}

pub(crate) fn transport_response_to_wit(r: &TransportResponse) -> wit::TransportResponse {
    match r {
        TransportResponse::Http(HttpResponse {
            status,
            headers,
            body,
        }) => wit::TransportResponse::Http(wit::HttpResponse {
            status: *status,
            headers: headers.clone(),
            body: body.clone(),
        }),
        TransportResponse::Smtp { code, text } => wit::TransportResponse::Smtp(wit::SmtpReply {
            code: *code,
            text: text.clone(),
        }),
    }
}

pub(crate) fn delivery_outcome_from_wit(d: wit::DeliveryOutcome) -> DeliveryOutcome {
    DeliveryOutcome {
        state: delivery_state_from_wit(d.state),
        provider_message_id: d.provider_message_id,
        provider_code: d.provider_code,
        detail: d.detail,
    }
}

// === back office ===

fn link_to_wit(l: &BackofficeLink) -> wit::BackofficeLink {
    wit::BackofficeLink {
        system: l.system.clone(),
        object_type: l.object_type.clone(),
        remote_id: l.remote_id.clone(),
        url: l.url.clone(),
        snapshot: l
            .snapshot
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

pub(crate) fn backoffice_link_from_wit(l: wit::BackofficeLink) -> BackofficeLink {
    BackofficeLink {
        system: l.system,
        object_type: l.object_type,
        remote_id: l.remote_id,
        url: l.url,
        snapshot: l.snapshot.into_iter().collect(),
        fetched_at: Some(Timestamp::now()),
        expires_at: None,
    }
}

pub(crate) fn background_from_wit(
    b: wit::Background,
    options: &NormalizeOptions,
) -> ModelResult<Background> {
    Ok(Background {
        display_name: b.display_name,
        identities: b
            .identities
            .into_iter()
            .enumerate()
            .map(|(n, i)| {
                identity_from_wit(i, options)
                    .map_err(|e| e.in_field(&format!("background.identities[{n}]")))
            })
            .collect::<ModelResult<Vec<_>>>()?,
        links: b.links.into_iter().map(backoffice_link_from_wit).collect(),
        attributes: b.attributes.into_iter().collect(),
    })
}

pub(crate) fn activity_to_wit(a: &Activity) -> wit::Activity {
    wit::Activity {
        interaction_id: a.interaction_id.to_string(),
        case_id: a.case_id.clone(),
        party_links: a.party_links.iter().map(link_to_wit).collect(),
        direction: direction_to_wit(a.direction),
        channel: a.channel.clone(),
        occurred_at: timestamp_to_wit(&a.occurred_at),
        subject: a.subject.clone(),
        text: a.text.clone(),
    }
}

pub(crate) fn ticket_to_wit(t: &Ticket) -> wit::Ticket {
    wit::Ticket {
        remote_id: t.remote_id.clone(),
        case_id: t.case_id.clone(),
        party_links: t.party_links.iter().map(link_to_wit).collect(),
        title: t.title.clone(),
        description: t.description.clone(),
        status: t.status.clone(),
        priority: t.priority.clone(),
    }
}

// === plugin ===

pub(crate) fn plugin_info_from_wit(p: wit::PluginInfo) -> PluginInfo {
    PluginInfo {
        id: p.id,
        version: p.version,
        name: p.name,
        description: p.description,
        identity_kinds: p
            .identity_kinds
            .into_iter()
            .map(|k| kind_from_wit(k).name().to_string())
            .collect(),
    }
}

pub(crate) fn plugin_error_from_wit(e: wit::PluginError) -> PluginError {
    match e {
        wit::PluginError::Retryable(r) => PluginError::Retryable {
            message: r.message,
            retry_after: r.retry_after_ms.map(Duration::from_millis),
        },
        wit::PluginError::Permanent(s) => PluginError::Permanent(s),
        wit::PluginError::BadInput(s) => PluginError::BadInput(s),
        wit::PluginError::Unauthorized(s) => PluginError::Unauthorized(s),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use silta_model::ChannelAccountId;

    use super::*;

    fn manifest() -> Manifest {
        Manifest::parse(
            "manifest_version = 1\nid = \"test\"\nversion = \"0.1.0\"\nworlds = [\"channel\"]\n",
            Path::new("test.toml"),
        )
        .expect("manifest")
    }

    fn event() -> InboundEvent {
        InboundEvent {
            channel_account: ChannelAccountId::new(),
            received_at: Timestamp::now(),
            transport: TransportMeta::Http {
                method: "POST".into(),
                path: "/hook".into(),
                query: None,
                headers: Vec::new(),
            },
            body: Vec::new(),
        }
    }

    fn attachment(media_type: &str, url: Option<&str>) -> wit::Part {
        wit::Part::Attachment(wit::Attachment {
            filename: Some("a.pdf".into()),
            media_type: media_type.into(),
            size_bytes: None,
            content_hash: None,
            url: url.map(str::to_owned),
            content: None,
            content_id: None,
            inline: false,
        })
    }

    fn interaction(parts: Vec<wit::Part>) -> wit::Normalized {
        wit::Normalized::Interaction(wit::Interaction {
            kind: wit::InteractionKind::Message,
            direction: wit::Direction::Inbound,
            sender_role: wit::SenderRole::Customer,
            sender: wit::Identity {
                kind: wit::IdentityKind::Email,
                value: "Aino@Example.COM".into(),
                scope: wit::IdentityScope::Global,
                assurance: wit::Assurance::ChannelAsserted,
                display_name: Some(" Aino ".into()),
            },
            recipients: Vec::new(),
            provider_message_id: "m-1".into(),
            occurred_at: wit::Timestamp {
                seconds: 1_700_000_000,
                nanoseconds: 0,
            },
            subject: None,
            parts,
            thread_keys: Vec::new(),
            email: None,
            attributes: Vec::new(),
        })
    }

    fn field_of_error(items: Vec<wit::Normalized>) -> String {
        normalized_from_wit(items, &event(), &manifest(), &NormalizeOptions::default())
            .expect_err("invalid output")
            .field()
            .to_owned()
    }

    #[test]
    fn a_valid_interaction_is_normalized() {
        let out = normalized_from_wit(
            vec![interaction(vec![wit::Part::Text("hi".into())])],
            &event(),
            &manifest(),
            &NormalizeOptions::default(),
        )
        .expect("valid");
        let Normalized::Interaction(n) = &out[0] else {
            panic!("an interaction: {out:?}");
        };
        assert_eq!(n.sender.value(), "Aino@example.com");
        assert_eq!(n.sender.display_name.as_deref(), Some("Aino"));
    }

    #[test]
    fn errors_name_the_full_path_of_the_field() {
        let good = || interaction(vec![wit::Part::Text("hi".into())]);
        assert_eq!(
            field_of_error(vec![
                good(),
                interaction(vec![
                    wit::Part::Text("hi".into()),
                    attachment("", Some("https://example.test/a.pdf")),
                ]),
            ]),
            "interactions[1].parts[1].media_type"
        );
        assert_eq!(
            field_of_error(vec![interaction(vec![attachment("application/pdf", None)])]),
            "interactions[0].parts[0]"
        );
        let mut bad_sender = good();
        if let wit::Normalized::Interaction(i) = &mut bad_sender {
            i.sender.value = "not-an-email".into();
        }
        assert_eq!(
            field_of_error(vec![bad_sender]),
            "interactions[0].sender.value"
        );
        assert_eq!(
            field_of_error(vec![wit::Normalized::DeliveryUpdate(wit::DeliveryUpdate {
                provider_message_id: " ".into(),
                state: wit::DeliveryState::Delivered,
                provider_code: None,
                detail: None,
                occurred_at: wit::Timestamp {
                    seconds: 0,
                    nanoseconds: 0,
                },
            })]),
            "delivery_updates[0].provider_message_id"
        );
    }
}
