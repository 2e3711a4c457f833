//! Inbound webhook `Update` → at most one interaction. Pure functions of
//! the event: no host calls, so they run natively in the golden-fixture
//! tests. The secret token is checked before this
//! ([`crate::secret_token`]).
//!
//! # Which updates become interactions
//!
//! - `message`: a customer's message in a private chat, or a member's
//!   message in a group the bot is in → an inbound interaction;
//! - `edited_message`: a new interaction for the new version (see
//!   [Edits](#edits));
//! - `channel_post` and `edited_channel_post`: posts the channel's own
//!   admins broadcast, carrying no customer and no sender identity →
//!   nothing (acknowledged);
//! - a message sent on behalf of a chat (`sender_chat`: an anonymous group
//!   admin, a channel's automatic forward into its discussion group) → no
//!   customer wrote it → nothing;
//! - a service message (members joined, a title changed, a message
//!   pinned) → nothing;
//! - every other update type (`callback_query`, `inline_query`,
//!   `my_chat_member`, `message_reaction`, `poll_answer`, business
//!   updates, …) → nothing (acknowledged, so Telegram does not redeliver
//!   it). Telegram only sends the types `setWebhook`'s `allowed_updates`
//!   asks for; the README recommends `["message", "edited_message"]`.
//!
//! # Ids
//!
//! A Telegram `message_id` is unique only inside its chat, so the provider
//! message id is `<chat_id>:<message_id>`. A redelivered update (same
//! `update_id`) carries the same message, so it gives the same provider
//! message id and the same idempotency key. The chat id is the
//! provider-thread key; a reply (`reply_to_message`) also threads on
//! `<chat_id>:<replied message_id>`.
//!
//! # Edits
//!
//! The contract has no "this replaces that" for an interaction, and a
//! stored interaction is immutable. An edit therefore becomes a new
//! interaction with the edited content, provider message id
//! `<chat_id>:<message_id>:edit:<edit_date>` (one per version, stable on
//! redelivery), attribute `telegram.edit_of = <chat_id>:<message_id>` and
//! `occurred-at` = the edit's time. It threads with the chat like the
//! original.

use serde_json::Value;
use silta_sdk::types::{
    Assurance, Direction, Identity, IdentityKind, IdentityScope, InboundEvent, InteractionKind,
    Normalized, PluginError, SenderRole, ThreadKey, Timestamp,
};
use silta_sdk::{InteractionBuilder, validate};

use crate::content;
use crate::payload::{self, Message, Replied, User};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Largest payload accepted. One update carries one message (up to 4096
/// characters of text, files by id) and the message it replies to.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// All the interactions of one webhook request: none or one.
pub fn normalize(event: &InboundEvent) -> Result<Vec<Normalized>> {
    check_size(&event.body)?;
    let update: Value = serde_json::from_slice(&event.body).map_err(|error| {
        PluginError::bad_input(format!("the payload is not a Telegram Update: {error}"))
    })?;
    let Value::Object(mut update) = update else {
        return Err(PluginError::bad_input(
            "the payload is not a Telegram Update: it must be a JSON object",
        ));
    };
    let update_id: i64 = payload::parse_at(
        "update_id",
        update
            .remove("update_id")
            .ok_or_else(|| PluginError::missing("update_id"))?,
    )?;
    for kind in ["message", "edited_message"] {
        if let Some(value) = update.remove(kind).filter(|value| !value.is_null()) {
            return Ok(message(kind, update_id, value)?
                .map(Normalized::Interaction)
                .into_iter()
                .collect());
        }
    }
    // channel posts and every other update type: nothing to do.
    Ok(Vec::new())
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

/// The provider message id of message `message_id` in chat `chat_id`.
#[must_use]
pub fn provider_message_id(chat_id: i64, message_id: i64) -> String {
    format!("{chat_id}:{message_id}")
}

/// A `message` or `edited_message` (`kind`), or `None` when no customer
/// wrote it or it has no content.
fn message(
    kind: &str,
    update_id: i64,
    value: Value,
) -> Result<Option<silta_sdk::types::Interaction>> {
    let keys: Vec<String> = value
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let reply = value.get("reply_to_message").cloned();
    let message: Message = payload::parse_at(kind, value)?;
    if message.sender_chat.is_some() {
        return Ok(None);
    }
    let Some(content) = content::of(kind, &message, &keys)? else {
        return Ok(None);
    };
    let from = message
        .from
        .as_ref()
        .ok_or_else(|| PluginError::missing(&format!("{kind}.from")))?;
    let chat_id = message.chat.id;
    let original = provider_message_id(chat_id, message.message_id);
    let sent_at = unix_seconds(&format!("{kind}.date"), message.date)?;
    let (id, at, edit) = if kind == "edited_message" {
        let edit_date = message
            .edit_date
            .ok_or_else(|| PluginError::missing(&format!("{kind}.edit_date")))?;
        let edited_at = unix_seconds(&format!("{kind}.edit_date"), edit_date)?;
        (format!("{original}:edit:{edit_date}"), edited_at, true)
    } else {
        (original.clone(), sent_at, false)
    };
    validate::provider_id(&format!("{kind}.message_id"), &id)?;
    let role = if from.is_bot {
        SenderRole::Bot
    } else {
        SenderRole::Customer
    };
    let mut builder = InteractionBuilder::new(
        InteractionKind::Message,
        Direction::Inbound,
        role,
        sender(&format!("{kind}.from"), from)?,
        id,
        at,
    )
    .thread_key(ThreadKey::ProviderThread(chat_id.to_string()))
    .attribute("telegram.update_id", update_id.to_string())
    .attribute("telegram.update_type", kind)
    .attribute("telegram.type", content.kind)
    .attribute("telegram.chat_id", chat_id.to_string())
    .attribute("telegram.chat_type", message.chat.kind.as_str())
    .attribute("telegram.message_id", message.message_id.to_string());
    if let Some(reply) = reply.filter(|reply| !reply.is_null()) {
        let replied: Replied = payload::parse_at(&format!("{kind}.reply_to_message"), reply)?;
        builder = builder.thread_key(ThreadKey::ReplyToProviderMessage(provider_message_id(
            chat_id,
            replied.message_id,
        )));
    }
    if let Some(title) = non_blank(message.chat.title.as_deref()) {
        builder = builder.attribute("telegram.chat_title", title);
    }
    if let Some(topic) = message.message_thread_id {
        builder = builder.attribute("telegram.message_thread_id", topic.to_string());
    }
    if let Some(username) = non_blank(from.username.as_deref()) {
        builder = builder.attribute("telegram.username", username);
    }
    if let Some(language) = non_blank(from.language_code.as_deref()) {
        builder = builder.attribute("telegram.language_code", language);
    }
    if edit {
        builder = builder.attribute("telegram.edit_of", original);
    }
    for (name, value) in content.attributes {
        builder = builder.attribute(name, value);
    }
    for part in content.parts {
        builder = builder.part(part);
    }
    builder.build().map(Some)
}

/// The Telegram user: their id is unique everywhere and the same for every
/// bot, and Telegram vouches that they sent the message, so the identity
/// is global and channel-attested.
fn sender(field: &str, user: &User) -> Result<Identity> {
    if user.id <= 0 {
        return Err(PluginError::bad_input(format!(
            "`{field}.id` must be a positive Telegram user id, got {}",
            user.id
        )));
    }
    let mut identity = Identity::new(IdentityKind::Telegram, user.id.to_string())
        .with_scope(IdentityScope::Global)
        .with_assurance(Assurance::ChannelAttested);
    if let Some(name) = display_name(user) {
        identity = identity.with_display_name(name);
    }
    Ok(identity)
}

/// `first_name last_name`, or `@username` when the user set no name.
fn display_name(user: &User) -> Option<String> {
    let name = [user.first_name.as_deref(), user.last_name.as_deref()]
        .into_iter()
        .filter_map(non_blank)
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        non_blank(user.username.as_deref()).map(|username| format!("@{username}"))
    } else {
        Some(name)
    }
}

/// A Unix time in seconds, as Telegram writes it (a JSON number).
fn unix_seconds(field: &str, raw: i64) -> Result<Timestamp> {
    let seconds = u64::try_from(raw).map_err(|_| {
        PluginError::bad_input(format!("`{field}` must be Unix seconds, got {raw}"))
    })?;
    let at = Timestamp {
        seconds,
        nanoseconds: 0,
    };
    validate::timestamp_in_range(field, &at)?;
    Ok(at)
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
    use silta_sdk::types::{HttpMeta, Interaction, Part, TransportMeta};

    fn event(body: &serde_json::Value) -> InboundEvent {
        InboundEvent {
            channel_account: "01890a5d-ac96-7000-8000-00000000c0de".into(),
            received_at: Timestamp {
                seconds: 1_795_464_000,
                nanoseconds: 0,
            },
            transport: TransportMeta::Http(HttpMeta {
                method: "POST".into(),
                path: "/v1/ingest/tg".into(),
                query: None,
                headers: Vec::new(),
            }),
            body: body.to_string().into_bytes(),
        }
    }

    fn one(body: &serde_json::Value) -> Interaction {
        let out = normalize(&event(body)).expect("normalizes");
        let [Normalized::Interaction(message)] = out.as_slice() else {
            panic!("one interaction: {out:?}");
        };
        message.clone()
    }

    fn aino() -> serde_json::Value {
        json!({"id": 123456789, "is_bot": false, "first_name": "Aino",
            "last_name": "Virtanen", "username": "ainov", "language_code": "fi"})
    }

    #[test]
    fn a_reply_threads_on_the_chat_and_the_message_replied_to() {
        let message = one(&json!({"update_id": 10, "message": {
            "message_id": 52, "from": aino(), "date": 1795463900,
            "chat": {"id": 123456789, "type": "private", "first_name": "Aino"},
            "reply_to_message": {"message_id": 51, "date": 1795463800,
                "chat": {"id": 123456789, "type": "private"}, "text": "Your order shipped"},
            "text": "Thanks!"}}));
        assert_eq!(message.provider_message_id, "123456789:52");
        assert_eq!(message.sender.kind, IdentityKind::Telegram);
        assert_eq!(message.sender.value, "123456789");
        assert_eq!(message.sender.scope, IdentityScope::Global);
        assert_eq!(message.sender.assurance, Assurance::ChannelAttested);
        assert_eq!(
            message.sender.display_name.as_deref(),
            Some("Aino Virtanen")
        );
        assert_eq!(message.parts, vec![Part::Text("Thanks!".into())]);
        assert_eq!(
            message.thread_keys,
            vec![
                ThreadKey::ProviderThread("123456789".into()),
                ThreadKey::ReplyToProviderMessage("123456789:51".into()),
            ]
        );
    }

    #[test]
    fn an_edit_is_a_new_version_pointing_at_the_original() {
        let message = one(&json!({"update_id": 11, "edited_message": {
            "message_id": 52, "from": aino(), "date": 1795463900, "edit_date": 1795463960,
            "chat": {"id": 123456789, "type": "private"}, "text": "Thanks a lot!"}}));
        assert_eq!(message.provider_message_id, "123456789:52:edit:1795463960");
        assert_eq!(message.occurred_at.seconds, 1_795_463_960);
        assert!(
            message
                .attributes
                .contains(&("telegram.edit_of".into(), "123456789:52".into()))
        );
    }

    #[test]
    fn the_same_message_in_two_chats_has_two_ids_and_redelivery_one() {
        let in_chat = |chat: i64, update: i64| {
            one(
                &json!({"update_id": update, "message": {"message_id": 1, "from": aino(),
                "date": 1795463900, "chat": {"id": chat, "type": "group", "title": "T"},
                "text": "hi"}}),
            )
            .provider_message_id
        };
        assert_ne!(in_chat(-100, 1), in_chat(-200, 1));
        assert_eq!(in_chat(-100, 1), in_chat(-100, 1));
    }

    #[test]
    fn updates_without_a_customer_message_are_acknowledged_with_nothing() {
        for body in [
            json!({"update_id": 1, "callback_query": {"id": "1", "from": aino(), "data": "x"}}),
            json!({"update_id": 1, "channel_post": {"message_id": 1, "date": 1795463900,
                "chat": {"id": -1001, "type": "channel", "title": "News"}, "text": "Sale!"}}),
            json!({"update_id": 1, "message": {"message_id": 1, "date": 1795463900,
                "from": {"id": 1087968824, "is_bot": true, "first_name": "Group"},
                "sender_chat": {"id": -1002, "type": "supergroup", "title": "G"},
                "chat": {"id": -1002, "type": "supergroup", "title": "G"}, "text": "anon"}}),
            json!({"update_id": 1, "message": {"message_id": 1, "date": 1795463900,
                "from": aino(), "chat": {"id": -1002, "type": "supergroup", "title": "G"},
                "new_chat_members": [aino()]}}),
        ] {
            assert_eq!(normalize(&event(&body)).expect("ok"), Vec::new(), "{body}");
        }
    }

    #[test]
    fn malformed_updates_are_bad_input_naming_the_field() {
        for (body, reason) in [
            (json!([1]), "must be a JSON object"),
            (json!({"message": {}}), "`update_id` is missing"),
            (json!({"update_id": "1"}), "`update_id`: invalid type"),
            (
                json!({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "x"}}),
                "`message`: missing field `chat`",
            ),
            (
                json!({"update_id": 1, "message": {"message_id": 1, "date": 1795463900,
                    "chat": {"id": "x", "type": "private"}, "text": "x"}}),
                "`message.chat.id`: invalid type",
            ),
            (
                json!({"update_id": 1, "message": {"message_id": 1, "date": 1795463900,
                    "chat": {"id": 5, "type": "private"}, "text": "x"}}),
                "`message.from` is missing",
            ),
            (
                json!({"update_id": 1, "edited_message": {"message_id": 1, "date": 1795463900,
                    "from": aino(), "chat": {"id": 5, "type": "private"}, "text": "x"}}),
                "`edited_message.edit_date` is missing",
            ),
            (
                json!({"update_id": 1, "message": {"message_id": 1, "date": -5,
                    "from": aino(), "chat": {"id": 5, "type": "private"}, "text": "x"}}),
                "`message.date` must be Unix seconds",
            ),
        ] {
            let error = normalize(&event(&body)).unwrap_err();
            assert_eq!(error.kind(), "bad-input", "{body}");
            assert!(error.message().contains(reason), "{body}: {error:?}");
        }
    }
}
