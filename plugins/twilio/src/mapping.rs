//! Inbound webhook → one interaction or one delivery update. Pure
//! functions of the event: no host calls, so they run natively in the
//! golden-fixture tests. The signature is checked before this
//! ([`crate::signature`]).
//!
//! # Two kinds of request on one endpoint
//!
//! Twilio posts both to the channel account's ingest URL:
//!
//! - an **incoming message** ("A message comes in" webhook): `MessageSid`,
//!   `AccountSid`, `From`, `To`, `Body` (present, maybe empty),
//!   `NumMedia`, `MediaUrl{N}`/`MediaContentType{N}`, `SmsStatus=received`,
//!   optional `FromCity`/`FromState`/`FromZip`/`FromCountry`, …;
//! - a **status callback** for a message we sent (`StatusCallback`):
//!   `MessageSid`, `AccountSid`, `From`, `To`, `MessageStatus` (and the
//!   older `SmsStatus`), `ErrorCode` when it failed; no `Body`, no
//!   `NumMedia`.
//!
//! A request with `Body` or `NumMedia` is a message, and its status (when
//! given) must be `received`; a request with neither is a status callback
//! and must carry `MessageStatus` or `SmsStatus`. Anything else is bad
//! input.
//!
//! # Ids, times and threads
//!
//! The provider message id is `MessageSid` (`SM…` for SMS, `MM…` for
//! MMS); a redelivered webhook has the same one, so the same idempotency
//! key. Twilio's webhooks carry no timestamp: the interaction and the
//! delivery update take the event's `received_at`, which the host
//! journals with the raw event, so a replay gives the same result. SMS
//! has no threads: the provider-thread key is `<To>:<From>`, our number
//! and the customer's.

use silta_sdk::types::{
    Assurance, Attachment, DeliveryState, DeliveryUpdate, Identity, IdentityScope, InboundEvent,
    Interaction, Normalized, Part, PluginError, ThreadKey,
};
use silta_sdk::{InteractionBuilder, validate};

use crate::payload::{Params, is_sid};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Largest payload accepted. Twilio's webhook for one message with ten
/// media and every optional parameter is a few KiB.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Most media Twilio attaches to one MMS.
pub const MAX_MEDIA: usize = 10;

/// Prefixes of a message SID: `SM` (SMS) or `MM` (MMS).
pub const MESSAGE_SID_PREFIXES: &[&str] = &["SM", "MM"];

/// The one inbound webhook: a message or a status callback.
pub fn normalize(event: &InboundEvent) -> Result<Vec<Normalized>> {
    check_size(&event.body)?;
    let params = Params::parse(&event.body)?;
    let status = match params.non_blank("MessageStatus")? {
        Some(status) => Some(status),
        None => params.non_blank("SmsStatus")?,
    };
    if params.has("Body") || params.has("NumMedia") {
        if let Some(status) = status
            && status != "received"
        {
            return Err(PluginError::bad_input(format!(
                "a message with `Body` or `NumMedia` must have status \"received\", got {status:?}"
            )));
        }
        return Ok(vec![Normalized::Interaction(message(event, &params)?)]);
    }
    match status {
        Some(status) => Ok(vec![Normalized::DeliveryUpdate(status_callback(
            event, &params, status,
        )?)]),
        None => Err(PluginError::bad_input(
            "neither an incoming message (`Body`, `NumMedia`) nor a status callback (`MessageStatus`)",
        )),
    }
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

/// The provider-thread key of a conversation between our number `ours`
/// and the customer's `theirs`.
#[must_use]
pub fn thread_key(ours: &str, theirs: &str) -> String {
    format!("{ours}:{theirs}")
}

/// An incoming SMS or MMS. Twilio (with the carrier) vouches for `From`,
/// so the identity is global and channel-attested.
fn message(event: &InboundEvent, params: &Params) -> Result<Interaction> {
    let sid = message_sid(params)?;
    let account = account_sid(params)?;
    let from = phone(params, "From")?;
    let to = phone(params, "To")?;
    let body = params.get("Body")?.unwrap_or_default();
    let media = media(params)?;
    if body.trim().is_empty() && media.is_empty() {
        return Err(PluginError::bad_input(
            "`Body` is empty and `NumMedia` is 0: the message has no content",
        ));
    }
    let sender = Identity::phone(from)
        .with_scope(IdentityScope::Global)
        .with_assurance(Assurance::ChannelAttested);
    let recipient = Identity::phone(to)
        .with_scope(IdentityScope::Global)
        .with_assurance(Assurance::ChannelAttested);
    let mut builder = InteractionBuilder::inbound_message(sender, sid, event.received_at)
        .recipient(recipient)
        .thread_key(ThreadKey::ProviderThread(thread_key(to, from)))
        .attribute("twilio.account_sid", account);
    if !body.trim().is_empty() {
        builder = builder.part(Part::Text(body.to_owned()));
    }
    for attachment in media {
        builder = builder.part(Part::Attachment(attachment));
    }
    for (param, attribute) in [
        ("MessagingServiceSid", "twilio.messaging_service_sid"),
        ("NumSegments", "twilio.num_segments"),
        ("FromCity", "twilio.from_city"),
        ("FromState", "twilio.from_state"),
        ("FromZip", "twilio.from_zip"),
        ("FromCountry", "twilio.from_country"),
        ("ToCountry", "twilio.to_country"),
    ] {
        if let Some(value) = params.non_blank(param)? {
            builder = builder.attribute(attribute, value);
        }
    }
    builder.build()
}

/// `MediaUrl{N}` and `MediaContentType{N}` for every `N < NumMedia`, and
/// no others.
fn media(params: &Params) -> Result<Vec<Attachment>> {
    let count = match params.non_blank("NumMedia")? {
        None => 0,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_MEDIA)
            .ok_or_else(|| {
                PluginError::bad_input(format!(
                    "`NumMedia` must be a number from 0 to {MAX_MEDIA}, got {raw:?}"
                ))
            })?,
    };
    for name in params
        .names_with_prefix("MediaUrl")
        .chain(params.names_with_prefix("MediaContentType"))
    {
        let index = name.trim_start_matches("MediaUrl");
        let index = index.trim_start_matches("MediaContentType");
        if index.parse::<usize>().ok().is_none_or(|n| n >= count) {
            return Err(PluginError::bad_input(format!(
                "`{name}` does not match `NumMedia` = {count}"
            )));
        }
    }
    (0..count)
        .map(|n| {
            let url_name = format!("MediaUrl{n}");
            let type_name = format!("MediaContentType{n}");
            let url = params.require(&url_name).map_err(|_| {
                PluginError::bad_input(format!("`{url_name}` is missing (`NumMedia` is {count})"))
            })?;
            let url = url.trim();
            validate::http_url(&format!("`{url_name}`"), url)?;
            let media_type = params.require(&type_name).map_err(|_| {
                PluginError::bad_input(format!("`{type_name}` is missing (`NumMedia` is {count})"))
            })?;
            let media_type = media_type.trim().to_ascii_lowercase();
            if !plausible_media_type(&media_type) {
                return Err(PluginError::bad_input(format!(
                    "`{type_name}` must be a media type such as image/jpeg, got {media_type:?}"
                )));
            }
            Ok(Attachment::from_url(media_type, url))
        })
        .collect()
}

/// A status callback for a message we sent.
fn status_callback(event: &InboundEvent, params: &Params, status: &str) -> Result<DeliveryUpdate> {
    let sid = message_sid(params)?;
    account_sid(params)?;
    let state = match status {
        "accepted" | "scheduled" | "queued" => DeliveryState::Queued,
        "sending" | "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "undelivered" | "failed" | "canceled" => DeliveryState::Failed,
        other => {
            return Err(PluginError::bad_input(format!(
                "`MessageStatus` must be queued, sending, sent, delivered, read, undelivered or failed; got {other:?}"
            )));
        }
    };
    let mut update = DeliveryUpdate::new(sid, state, event.received_at);
    if let Some(code) = params.non_blank("ErrorCode")? {
        if !code.bytes().all(|b| b.is_ascii_digit()) || code.len() > 9 {
            return Err(PluginError::bad_input(format!(
                "`ErrorCode` must be a Twilio error number such as 30007, got {code:?}"
            )));
        }
        update = update.with_provider_code(code);
        let detail = match error_description(code) {
            Some(description) => format!("{status}: {description}"),
            None => status.to_owned(),
        };
        update = update.with_detail(detail);
    } else if state == DeliveryState::Failed {
        update = update.with_detail(status);
    }
    validate::delivery_update(&update)?;
    Ok(update)
}

/// What Twilio's documentation says the common delivery error codes mean
/// (<https://www.twilio.com/docs/api/errors>).
#[must_use]
pub fn error_description(code: &str) -> Option<&'static str> {
    Some(match code {
        "30001" => "queue overflow",
        "30002" => "account suspended",
        "30003" => "unreachable destination handset",
        "30004" => "message blocked",
        "30005" => "unknown destination handset",
        "30006" => "landline or unreachable carrier",
        "30007" => "message filtered by the carrier",
        "30008" => "unknown error",
        "30034" => "message from an unregistered number (US A2P 10DLC)",
        "21610" => "the recipient replied STOP (unsubscribed)",
        _ => return None,
    })
}

fn message_sid(params: &Params) -> Result<&str> {
    let sid = params.require("MessageSid")?.trim();
    if !is_sid(sid, MESSAGE_SID_PREFIXES) {
        return Err(PluginError::bad_input(format!(
            "`MessageSid` must be SM or MM followed by 32 hex digits, got {sid:?}"
        )));
    }
    validate::provider_id("`MessageSid`", sid)?;
    Ok(sid)
}

fn account_sid(params: &Params) -> Result<&str> {
    let sid = params.require("AccountSid")?.trim();
    if !is_sid(sid, &["AC"]) {
        return Err(PluginError::bad_input(format!(
            "`AccountSid` must be AC followed by 32 hex digits, got {sid:?}"
        )));
    }
    Ok(sid)
}

/// A phone number as Twilio writes it: E.164 (`+` and up to 15 digits).
/// The host normalizes and checks it against the numbering plan; this
/// refuses what is plainly not one (`whatsapp:+…`, a short code, text).
fn phone<'a>(params: &'a Params, name: &str) -> Result<&'a str> {
    let raw = params.require(name)?.trim();
    let digits = raw.strip_prefix('+').unwrap_or_default();
    if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PluginError::bad_input(format!(
            "`{name}` must be an E.164 phone number such as +358401234567, got {raw:?} (this plugin handles SMS and MMS)"
        )));
    }
    Ok(raw)
}

/// `type/subtype`, optionally with parameters.
fn plausible_media_type(raw: &str) -> bool {
    let essence = raw.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    token(kind) && token(subtype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{HttpMeta, IdentityKind, Timestamp, TransportMeta};

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const SMS: &str = "SM1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c";

    fn event(body: &str) -> InboundEvent {
        InboundEvent {
            channel_account: "01890a5d-ac96-7000-8000-00000000c0de".into(),
            received_at: Timestamp {
                seconds: 1_795_464_000,
                nanoseconds: 0,
            },
            transport: TransportMeta::Http(HttpMeta {
                method: "POST".into(),
                path: "/v1/ingest/sms".into(),
                query: None,
                headers: Vec::new(),
            }),
            body: body.as_bytes().to_vec(),
        }
    }

    fn inbound(extra: &str) -> String {
        format!(
            "MessageSid={SMS}&AccountSid={ACCOUNT}&From=%2B358401234567&To=%2B14158675309&SmsStatus=received{extra}"
        )
    }

    #[test]
    fn a_text_is_one_interaction_threaded_on_both_numbers() {
        let out = normalize(&event(&inbound("&Body=Hei&NumMedia=0"))).expect("normalizes");
        let [Normalized::Interaction(message)] = out.as_slice() else {
            panic!("one interaction: {out:?}");
        };
        assert_eq!(message.provider_message_id, SMS);
        assert_eq!(message.sender.kind, IdentityKind::Phone);
        assert_eq!(message.sender.value, "+358401234567");
        assert_eq!(message.sender.assurance, Assurance::ChannelAttested);
        assert_eq!(message.recipients[0].value, "+14158675309");
        assert_eq!(message.parts, vec![Part::Text("Hei".into())]);
        assert_eq!(
            message.thread_keys,
            vec![ThreadKey::ProviderThread(
                "+14158675309:+358401234567".into()
            )]
        );
        assert_eq!(message.occurred_at.seconds, 1_795_464_000);
    }

    #[test]
    fn a_status_callback_is_a_delivery_update() {
        for (status, state) in [
            ("queued", DeliveryState::Queued),
            ("sending", DeliveryState::Sent),
            ("sent", DeliveryState::Sent),
            ("delivered", DeliveryState::Delivered),
            ("read", DeliveryState::Read),
            ("undelivered", DeliveryState::Failed),
            ("failed", DeliveryState::Failed),
        ] {
            let body = format!(
                "MessageSid={SMS}&AccountSid={ACCOUNT}&From=%2B14158675309&To=%2B358401234567&MessageStatus={status}&SmsStatus={status}"
            );
            let out = normalize(&event(&body)).expect("normalizes");
            let [Normalized::DeliveryUpdate(update)] = out.as_slice() else {
                panic!("one update: {out:?}");
            };
            assert_eq!(update.state, state, "{status}");
            assert_eq!(update.provider_message_id, SMS);
        }
        let body = format!(
            "MessageSid={SMS}&AccountSid={ACCOUNT}&MessageStatus=undelivered&ErrorCode=30007"
        );
        let out = normalize(&event(&body)).expect("normalizes");
        let [Normalized::DeliveryUpdate(update)] = out.as_slice() else {
            panic!("one update: {out:?}");
        };
        assert_eq!(update.provider_code.as_deref(), Some("30007"));
        assert_eq!(
            update.detail.as_deref(),
            Some("undelivered: message filtered by the carrier")
        );
    }

    #[test]
    fn malformed_requests_are_bad_input_naming_the_field() {
        for (body, reason) in [
            (inbound("&Body=x&NumMedia=1"), "`MediaUrl0` is missing"),
            (
                inbound("&Body=x&NumMedia=0&MediaUrl0=https%3A%2F%2Fa.test%2F1"),
                "`MediaUrl0` does not match `NumMedia` = 0",
            ),
            (
                inbound("&Body=x&NumMedia=1&MediaUrl0=ftp%3A%2F%2Fa&MediaContentType0=image%2Fpng"),
                "`MediaUrl0`",
            ),
            (
                inbound("&Body=x&NumMedia=1&MediaUrl0=https%3A%2F%2Fa.test&MediaContentType0=png"),
                "`MediaContentType0` must be a media type",
            ),
            (inbound("&Body=x&NumMedia=11"), "`NumMedia` must be"),
            (inbound("&Body=+&NumMedia=0"), "no content"),
            (
                "MessageSid=SM1&Body=x".to_owned(),
                "`MessageSid` must be SM or MM",
            ),
            (
                format!("MessageSid={SMS}&AccountSid={ACCOUNT}&To=%2B1&Body=x"),
                "`From` is missing",
            ),
            (
                format!(
                    "MessageSid={SMS}&AccountSid={ACCOUNT}&From=whatsapp%3A%2B358401234567&To=%2B14158675309&Body=x"
                ),
                "`From` must be an E.164",
            ),
            (
                format!("MessageSid={SMS}&AccountSid={ACCOUNT}&MessageStatus=lost"),
                "`MessageStatus` must be",
            ),
            (
                format!("MessageSid={SMS}&AccountSid={ACCOUNT}&MessageStatus=failed&ErrorCode=x1"),
                "`ErrorCode` must be",
            ),
            (
                format!("MessageSid={SMS}&AccountSid={ACCOUNT}&MessageStatus=sent&Body=x"),
                "must have status \"received\"",
            ),
            (format!("MessageSid={SMS}"), "neither an incoming message"),
        ] {
            let error = normalize(&event(&body)).unwrap_err();
            assert_eq!(error.kind(), "bad-input", "{body}");
            assert!(error.message().contains(reason), "{body}: {error:?}");
        }
    }
}
