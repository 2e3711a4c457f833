//! Inbound webhook → interactions and delivery updates. Pure functions of
//! the event: no host calls, so they run natively in the golden-fixture
//! tests. The signature is checked before this
//! ([`silta_meta_webhook::signature`]) and the messaging window recorded
//! after it ([`crate::window`]).
//!
//! | event | becomes |
//! |-------|---------|
//! | `message` | an inbound message (text, attachments, quick reply, reply-to) |
//! | `message` with `is_echo` | nothing: our own send, already recorded (see the README) |
//! | `message` with `is_deleted` (Instagram) | an inbound `event` interaction `<mid>#deleted` |
//! | `postback` | an inbound message with an interactive reply |
//! | `reaction` | an inbound message with a reaction (empty emoji: removed) |
//! | `delivery` | a `delivered` update per listed `mid` (none listed: nothing) |
//! | `read` | a `read` update when it names a `mid` (Instagram); a bare watermark: nothing |
//! | anything else (`optin`, `referral`, `standby`, `message_edit`, ...) | nothing |

use silta_sdk::types::{
    Assurance, Attachment, DeliveryState, DeliveryUpdate, Direction, Identity, IdentityKind,
    IdentityScope, InboundEvent, Interaction, InteractionKind, InteractiveReply, Location,
    Normalized, Part, PluginError, Reaction, SenderRole, ThreadKey, Timestamp,
};
use silta_sdk::{InteractionBuilder, validate};

use crate::payload::{self, Entry, Event, Message, Notification};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Largest payload accepted. Meta batches at most a few events into one
/// webhook; media comes by URL.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Which of Meta's two messaging products an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Facebook Messenger: `object: "page"`, customers by PSID.
    Messenger,
    /// Instagram messaging: `object: "instagram"`, customers by IGSID.
    Instagram,
}

// === impl Platform ===

impl Platform {
    /// The platform of a webhook's `object`.
    #[must_use]
    pub fn from_object(object: &str) -> Option<Self> {
        match object {
            "page" => Some(Self::Messenger),
            "instagram" => Some(Self::Instagram),
            _ => None,
        }
    }

    /// The platform of a recipient's identity kind.
    #[must_use]
    pub fn of_kind(kind: &IdentityKind) -> Option<Self> {
        match kind {
            IdentityKind::Messenger => Some(Self::Messenger),
            IdentityKind::Instagram => Some(Self::Instagram),
            _ => None,
        }
    }

    /// The webhook `object`.
    #[must_use]
    pub fn object(self) -> &'static str {
        match self {
            Self::Messenger => "page",
            Self::Instagram => "instagram",
        }
    }

    /// The identity kind of its customers' ids.
    #[must_use]
    pub fn identity_kind(self) -> IdentityKind {
        match self {
            Self::Messenger => IdentityKind::Messenger,
            Self::Instagram => IdentityKind::Instagram,
        }
    }

    /// `messenger` or `instagram`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Messenger => "messenger",
            Self::Instagram => "instagram",
        }
    }
}

/// What one webhook contained.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// Every event this plugin maps, in payload order.
    pub normalized: Vec<Normalized>,
    /// When each customer last wrote (a message or a postback), for the
    /// messaging window.
    pub contacts: Vec<LastInbound>,
}

/// A customer's message: who, on which platform and channel account, when.
#[derive(Debug, Clone, PartialEq)]
pub struct LastInbound {
    /// Our channel account the webhook arrived on.
    pub channel_account: String,
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The customer's PSID or IGSID.
    pub user_id: String,
    /// When the customer wrote.
    pub at: Timestamp,
}

/// All the events of one webhook.
pub fn normalize(event: &InboundEvent) -> Result<Inbound> {
    check_size(&event.body)?;
    let value: serde_json::Value = serde_json::from_slice(&event.body)
        .map_err(|error| PluginError::bad_input(format!("the payload is not JSON: {error}")))?;
    if !value.is_object() {
        return Err(PluginError::bad_input(
            "the payload must be a JSON object {\"object\": \"page\", \"entry\": [...]}",
        ));
    }
    let notification: Notification = payload::parse_at("the payload", value)?;
    let platform = Platform::from_object(&notification.object).ok_or_else(|| {
        PluginError::bad_input(format!(
            "`object` must be \"page\" (Messenger) or \"instagram\", got {:?}",
            notification.object
        ))
    })?;
    let mut inbound = Inbound {
        normalized: Vec::new(),
        contacts: Vec::new(),
    };
    for (e, entry) in payload::array_at("entry", notification.entry)?
        .into_iter()
        .enumerate()
    {
        let path = format!("entry[{e}]");
        let entry: Entry = payload::parse_at(&path, entry)?;
        let account_id = digits(&format!("{path}.id"), &entry.id)?;
        let context = Context {
            channel_account: &event.channel_account,
            platform,
            account_id: &account_id,
        };
        let messaging = match entry.messaging {
            Some(messaging) => payload::array_at(&format!("{path}.messaging"), messaging)?,
            None => Vec::new(),
        };
        for (m, raw) in messaging.into_iter().enumerate() {
            let path = format!("{path}.messaging[{m}]");
            let messaging: Event = payload::parse_at(&path, raw)?;
            context.event(&path, &messaging, &mut inbound)?;
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

/// What every event of an entry shares.
struct Context<'a> {
    channel_account: &'a str,
    platform: Platform,
    /// Our Page id or Instagram account id (`entry[].id`).
    account_id: &'a str,
}

// === impl Context ===

impl Context<'_> {
    fn event(&self, path: &str, event: &Event, inbound: &mut Inbound) -> Result<()> {
        if let Some(message) = &event.message {
            // Our own send coming back; see the README ("Echoes").
            if message.is_echo {
                return Ok(());
            }
            let user = digits(&format!("{path}.sender.id"), &event.sender.id)?;
            let at = millis_required(path, event)?;
            let path = format!("{path}.message");
            if message.is_deleted {
                let interaction = self.deleted(&path, &user, message, at)?;
                inbound
                    .normalized
                    .push(Normalized::Interaction(interaction));
                return Ok(());
            }
            let interaction = self.message(&path, &user, message, at)?;
            inbound
                .normalized
                .push(Normalized::Interaction(interaction));
            inbound.contacts.push(self.last_inbound(user, at));
        } else if let Some(postback) = &event.postback {
            let user = digits(&format!("{path}.sender.id"), &event.sender.id)?;
            let at = millis_required(path, event)?;
            let path = format!("{path}.postback");
            let choice = non_blank(postback.payload.as_deref())
                .ok_or_else(|| PluginError::missing(&format!("{path}.payload")))?;
            let title = non_blank(postback.title.as_deref()).unwrap_or_else(|| choice.clone());
            let id = match non_blank(postback.mid.as_deref()) {
                Some(mid) => {
                    validate::provider_id(&format!("{path}.mid"), &mid)?;
                    mid
                }
                // Before v11.0 a postback has no id: derive a stable one.
                None => format!("postback:{}:{user}:{}", self.account_id, unix_millis(&at)),
            };
            let interaction = self
                .builder(InteractionKind::Message, &user, id, at, "postback")
                .part(Part::Interactive(InteractiveReply { id: choice, title }))
                .build()?;
            inbound
                .normalized
                .push(Normalized::Interaction(interaction));
            inbound.contacts.push(self.last_inbound(user, at));
        } else if let Some(reaction) = &event.reaction {
            let user = digits(&format!("{path}.sender.id"), &event.sender.id)?;
            let at = millis_required(path, event)?;
            let path = format!("{path}.reaction");
            validate::provider_id(&format!("{path}.mid"), &reaction.mid)?;
            let emoji = match reaction.action.as_str() {
                "react" => non_blank(reaction.emoji.as_deref())
                    .or_else(|| non_blank(reaction.reaction.as_deref()))
                    .ok_or_else(|| PluginError::missing(&format!("{path}.emoji")))?,
                // Empty: the customer took their reaction back.
                "unreact" => String::new(),
                other => {
                    return Err(PluginError::bad_input(format!(
                        "`{path}.action` must be react or unreact, got {other:?}"
                    )));
                }
            };
            // A reaction has no id of its own; this one is stable across
            // redeliveries and distinct for each react / unreact.
            let id = format!(
                "reaction:{}:{user}:{}:{}",
                reaction.mid,
                reaction.action,
                unix_millis(&at)
            );
            let mut builder = self
                .builder(InteractionKind::Message, &user, id, at, "reaction")
                .part(Part::Reaction(Reaction {
                    emoji,
                    provider_message_id: reaction.mid.clone(),
                }))
                .thread_key(ThreadKey::ReplyToProviderMessage(reaction.mid.clone()));
            if let Some(name) = non_blank(reaction.reaction.as_deref()) {
                builder = builder.attribute("messenger.reaction", name);
            }
            inbound
                .normalized
                .push(Normalized::Interaction(builder.build()?));
        } else if let Some(delivery) = &event.delivery {
            let at = millis(&format!("{path}.delivery.watermark"), &delivery.watermark)?;
            for (n, mid) in delivery.mids.iter().enumerate() {
                validate::provider_id(&format!("{path}.delivery.mids[{n}]"), mid)?;
                let update = DeliveryUpdate::new(mid.as_str(), DeliveryState::Delivered, at);
                inbound.normalized.push(Normalized::DeliveryUpdate(update));
            }
        } else if let Some(read) = &event.read
            && let Some(mid) = non_blank(read.mid.as_deref())
        {
            validate::provider_id(&format!("{path}.read.mid"), &mid)?;
            let at = match (&event.timestamp, &read.watermark) {
                (Some(timestamp), _) => millis(&format!("{path}.timestamp"), timestamp)?,
                (None, Some(watermark)) => millis(&format!("{path}.read.watermark"), watermark)?,
                (None, None) => return Err(PluginError::missing(&format!("{path}.timestamp"))),
            };
            let update = DeliveryUpdate::new(mid, DeliveryState::Read, at);
            inbound.normalized.push(Normalized::DeliveryUpdate(update));
        }
        // A bare read watermark, optins, referrals, edits, handovers:
        // nothing a message or a delivery update can carry.
        Ok(())
    }

    /// A customer message.
    fn message(
        &self,
        path: &str,
        user: &str,
        message: &Message,
        at: Timestamp,
    ) -> Result<Interaction> {
        validate::provider_id(&format!("{path}.mid"), &message.mid)?;
        let mut builder = self.builder(
            InteractionKind::Message,
            user,
            message.mid.clone(),
            at,
            "message",
        );
        let text = non_blank(message.text.as_deref());
        match (&message.quick_reply, text) {
            (Some(quick_reply), text) => {
                let choice = non_blank(Some(&quick_reply.payload)).ok_or_else(|| {
                    PluginError::bad_input(format!("`{path}.quick_reply.payload` is empty"))
                })?;
                let title = text.unwrap_or_else(|| choice.clone());
                builder = builder.part(Part::Interactive(InteractiveReply { id: choice, title }));
            }
            (None, Some(text)) => builder = builder.part(Part::Text(text)),
            (None, None) => {}
        }
        let mut kinds = Vec::new();
        for (n, attachment) in message.attachments.iter().enumerate() {
            let path = format!("{path}.attachments[{n}]");
            kinds.push(attachment.kind.as_str());
            if let Some(sticker) = attachment
                .payload
                .as_ref()
                .and_then(|p| p.sticker_id.as_ref())
            {
                builder = builder.attribute("messenger.sticker_id", sticker.to_string());
            }
            if let Some(part) = attachment_part(&path, attachment)? {
                builder = builder.part(part);
            }
        }
        if !kinds.is_empty() {
            builder = builder.attribute("messenger.attachment_types", kinds.join(","));
        }
        if let Some(reply_to) = &message.reply_to {
            if let Some(replied) = non_blank(reply_to.mid.as_deref()) {
                validate::provider_id(&format!("{path}.reply_to.mid"), &replied)?;
                builder = builder.thread_key(ThreadKey::ReplyToProviderMessage(replied));
            }
            if let Some(story) = &reply_to.story {
                if let Some(id) = non_blank(story.id.as_deref()) {
                    builder = builder.attribute("messenger.story_id", id);
                }
                if let Some(url) = non_blank(story.url.as_deref()) {
                    validate::http_url(&format!("{path}.reply_to.story.url"), &url)?;
                    builder = builder.attribute("messenger.story_url", url);
                }
            }
        }
        if message.is_unsupported {
            builder = builder.attribute("messenger.unsupported", "true");
        }
        builder.build()
    }

    /// Instagram: the customer unsent message `mid`. An event of its own,
    /// under a derived id (the message keeps its own).
    fn deleted(
        &self,
        path: &str,
        user: &str,
        message: &Message,
        at: Timestamp,
    ) -> Result<Interaction> {
        validate::provider_id(&format!("{path}.mid"), &message.mid)?;
        self.builder(
            InteractionKind::Event,
            user,
            format!("{}#deleted", message.mid),
            at,
            "message_deleted",
        )
        .thread_key(ThreadKey::ReplyToProviderMessage(message.mid.clone()))
        .build()
    }

    /// An inbound interaction from `user`, threaded on the customer and
    /// our account. The platform proves the sender's page-scoped id, but
    /// it means something only to our Page: hence the channel-account
    /// scope.
    fn builder(
        &self,
        kind: InteractionKind,
        user: &str,
        provider_message_id: String,
        at: Timestamp,
        event: &str,
    ) -> InteractionBuilder {
        let sender = Identity::new(self.platform.identity_kind(), user)
            .with_scope(IdentityScope::ChannelAccount(
                self.channel_account.to_owned(),
            ))
            .with_assurance(Assurance::ChannelAttested);
        InteractionBuilder::new(
            kind,
            Direction::Inbound,
            SenderRole::Customer,
            sender,
            provider_message_id,
            at,
        )
        .thread_key(ThreadKey::ProviderThread(format!(
            "{}:{user}",
            self.account_id
        )))
        .attribute("messenger.object", self.platform.object())
        .attribute("messenger.account_id", self.account_id)
        .attribute("messenger.event", event)
    }

    fn last_inbound(&self, user_id: String, at: Timestamp) -> LastInbound {
        LastInbound {
            channel_account: self.channel_account.to_owned(),
            platform: self.platform,
            user_id,
            at,
        }
    }
}

/// One attachment as a part; `None` for a kind this plugin does not map
/// (the interaction keeps `messenger.attachment_types`).
fn attachment_part(path: &str, attachment: &payload::Attachment) -> Result<Option<Part>> {
    let payload = attachment.payload.as_ref();
    let url = || -> Result<String> {
        let url = non_blank(payload.and_then(|p| p.url.as_deref()))
            .ok_or_else(|| PluginError::missing(&format!("{path}.payload.url")))?;
        validate::http_url(&format!("{path}.payload.url"), &url)?;
        Ok(url)
    };
    // Meta gives no media type, only the kind; the host learns the exact
    // type when it fetches the bytes.
    let media = |media_type: &str| -> Result<Option<Part>> {
        Ok(Some(Part::Attachment(Attachment::from_url(
            media_type,
            url()?,
        ))))
    };
    match attachment.kind.as_str() {
        "image" => media("image/*"),
        "video" | "ig_reel" | "reel" => media("video/*"),
        "audio" => media("audio/*"),
        "file" | "story_mention" => media("application/octet-stream"),
        "location" => {
            let coordinates = payload
                .and_then(|p| p.coordinates.as_ref())
                .ok_or_else(|| PluginError::missing(&format!("{path}.payload.coordinates")))?;
            let part = Part::Location(Location {
                latitude: coordinates.lat,
                longitude: coordinates.long,
                name: non_blank(attachment.title.as_deref()),
                address: None,
            });
            validate::part(&format!("{path}.payload.coordinates"), &part)?;
            Ok(Some(part))
        }
        // A shared link or post: its title and address as text.
        "fallback" | "share" => {
            let title = non_blank(attachment.title.as_deref())
                .or_else(|| non_blank(payload.and_then(|p| p.title.as_deref())));
            let url = url()?;
            Ok(Some(Part::Text(match title {
                Some(title) => format!("{title}\n{url}"),
                None => url,
            })))
        }
        _ => Ok(None),
    }
}

/// A Meta id: digits only (PSIDs, IGSIDs, Page and account ids are).
fn digits(field: &str, raw: &str) -> Result<String> {
    let value = raw.trim();
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PluginError::bad_input(format!(
            "`{field}` must be a Meta id (digits), got {raw:?}"
        )));
    }
    Ok(value.to_owned())
}

/// The event's `timestamp`, which messages, postbacks and reactions carry.
fn millis_required(path: &str, event: &Event) -> Result<Timestamp> {
    let field = format!("{path}.timestamp");
    let raw = event
        .timestamp
        .as_ref()
        .ok_or_else(|| PluginError::missing(&field))?;
    millis(&field, raw)
}

/// A Unix time in milliseconds, a JSON number as Meta writes it.
fn millis(field: &str, raw: &serde_json::Value) -> Result<Timestamp> {
    let ms = raw.as_u64().ok_or_else(|| {
        PluginError::bad_input(format!(
            "`{field}` must be Unix milliseconds such as 1795463711000, got {raw}"
        ))
    })?;
    let at = Timestamp {
        seconds: ms / 1000,
        // Below 1000 ms, so below 10^9 ns.
        nanoseconds: u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
    };
    validate::timestamp_in_range(field, &at)?;
    Ok(at)
}

fn unix_millis(at: &Timestamp) -> u64 {
    at.seconds
        .saturating_mul(1000)
        .saturating_add(u64::from(at.nanoseconds / 1_000_000))
}

fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use silta_sdk::types::{HttpMeta, TransportMeta};

    const ACCOUNT: &str = "01890a5d-ac96-7000-8000-00000000c0de";

    fn event(body: serde_json::Value) -> InboundEvent {
        InboundEvent {
            channel_account: ACCOUNT.into(),
            received_at: Timestamp {
                seconds: 1_795_464_000,
                nanoseconds: 0,
            },
            transport: TransportMeta::Http(HttpMeta {
                method: "POST".into(),
                path: "/v1/ingest/messenger".into(),
                query: None,
                headers: Vec::new(),
            }),
            body: body.to_string().into_bytes(),
        }
    }

    fn webhook(object: &str, messaging: serde_json::Value) -> serde_json::Value {
        json!({"object": object, "entry": [{"id": "104501234567890", "time": 1_795_463_712_000_u64,
            "messaging": [messaging]}]})
    }

    #[test]
    fn a_reply_is_page_scoped_and_threads_on_the_customer_and_the_message() {
        let body = webhook(
            "page",
            json!({"sender": {"id": "6830112345678901"}, "recipient": {"id": "104501234567890"},
                "timestamp": 1_795_463_711_250_u64,
                "message": {"mid": "m_IN", "text": "Yes please", "reply_to": {"mid": "m_OURS"}}}),
        );
        let inbound = normalize(&event(body)).expect("normalizes");
        let [Normalized::Interaction(message)] = inbound.normalized.as_slice() else {
            panic!("one interaction: {inbound:?}");
        };
        assert_eq!(message.sender.kind, IdentityKind::Messenger);
        assert_eq!(
            message.sender.scope,
            IdentityScope::ChannelAccount(ACCOUNT.into())
        );
        assert_eq!(message.sender.assurance, Assurance::ChannelAttested);
        assert_eq!(message.provider_message_id, "m_IN");
        assert_eq!(message.occurred_at.nanoseconds, 250_000_000);
        assert_eq!(
            message.thread_keys,
            vec![
                ThreadKey::ProviderThread("104501234567890:6830112345678901".into()),
                ThreadKey::ReplyToProviderMessage("m_OURS".into()),
            ]
        );
        assert_eq!(
            inbound.contacts,
            vec![LastInbound {
                channel_account: ACCOUNT.into(),
                platform: Platform::Messenger,
                user_id: "6830112345678901".into(),
                at: message.occurred_at,
            }]
        );
    }

    #[test]
    fn echoes_reads_without_a_mid_and_unknown_events_are_nothing() {
        for messaging in [
            json!({"sender": {"id": "104501234567890"}, "recipient": {"id": "6830112345678901"},
                "timestamp": 1_795_463_711_000_u64,
                "message": {"mid": "m_OURS", "is_echo": true, "app_id": 1517, "text": "Hi"}}),
            json!({"sender": {"id": "6830112345678901"}, "recipient": {"id": "104501234567890"},
                "timestamp": 1_795_463_711_000_u64, "read": {"watermark": 1_795_463_700_000_u64}}),
            json!({"sender": {"id": "6830112345678901"}, "recipient": {"id": "104501234567890"},
                "timestamp": 1_795_463_711_000_u64, "optin": {"ref": "x"}}),
        ] {
            let inbound = normalize(&event(webhook("page", messaging))).expect("normalizes");
            assert_eq!(inbound.normalized, Vec::new());
            assert_eq!(inbound.contacts, Vec::new());
        }
    }

    #[test]
    fn instagram_senders_are_instagram_ids() {
        let body = webhook(
            "instagram",
            json!({"sender": {"id": "1789012345678901"}, "recipient": {"id": "17841400000000001"},
                "timestamp": 1_795_463_711_000_u64, "message": {"mid": "aWdfZAG1", "text": "Moi"}}),
        );
        let inbound = normalize(&event(body)).expect("normalizes");
        let [Normalized::Interaction(message)] = inbound.normalized.as_slice() else {
            panic!("one interaction: {inbound:?}");
        };
        assert_eq!(message.sender.kind, IdentityKind::Instagram);
        assert_eq!(inbound.contacts[0].platform, Platform::Instagram);
    }

    #[test]
    fn bad_fields_are_bad_input_naming_them() {
        for (messaging, reason) in [
            (
                json!({"sender": {"id": "x1"}, "timestamp": 1, "message": {"mid": "m"}}),
                "`entry[0].messaging[0].sender.id` must be a Meta id",
            ),
            (
                json!({"sender": {"id": "1"}, "message": {"mid": "m", "text": "a"}}),
                "`entry[0].messaging[0].timestamp` is missing",
            ),
            (
                json!({"sender": {"id": "1"}, "timestamp": "soon", "message": {"mid": "m"}}),
                "Unix milliseconds",
            ),
            (
                json!({"sender": {"id": "1"}, "timestamp": 1_795_463_711_000_u64,
                    "reaction": {"mid": "m", "action": "poke"}}),
                "must be react or unreact",
            ),
        ] {
            let error = normalize(&event(webhook("page", messaging))).unwrap_err();
            assert_eq!(error.kind(), "bad-input");
            assert!(error.message().contains(reason), "{error:?}");
        }
        let error = normalize(&event(
            json!({"object": "whatsapp_business_account", "entry": []}),
        ))
        .unwrap_err();
        assert!(error.message().contains("\"page\""), "{error:?}");
    }
}
