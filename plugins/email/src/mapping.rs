//! Inbound: one raw RFC 5322 message → interactions and delivery updates.
//! Pure functions of the event and the [`Settings`]: no host calls, so the
//! golden tests run them natively, and the same bytes always give the same
//! result (the host replays journaled events).
//!
//! What a message becomes:
//!
//! - a DSN (`multipart/report; report-type=delivery-status`): delivery
//!   updates about the original message (see [`crate::dsn`]), never an
//!   interaction from a customer;
//! - an automatic reply (RFC 3834 `Auto-Submitted` other than `no`,
//!   `X-Autoreply`, `X-Autorespond`, `Precedence: bulk`, `auto_reply` or
//!   `junk`): an interaction of kind `event` from sender role `system`,
//!   with attribute `email.auto_reply=true`: threaded like any reply, but
//!   never a customer message;
//! - anything else: an inbound customer `message`.

use mail_parser::{Addr, Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use silta_sdk::types::{
    Assurance, Attachment, Direction, EmailHeaders, Identity, InboundEvent, InteractionKind,
    Normalized, PluginError, SenderRole, ThreadKey, Timestamp, TransportMeta,
};
use silta_sdk::{InteractionBuilder, validate};

use crate::{dsn, ids, legacy_charset, quote};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Largest raw message accepted: a 25 MB message with room to spare. The
/// plugin's memory limit (`plugin.toml`) is sized for this.
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

/// At most this many bytes of attachments travel in one result
/// (`content`), for the host to keep in its blob store by content hash.
/// Decoded attachments are never larger than the raw message, so with
/// [`MAX_MESSAGE_BYTES`] every attachment of an accepted message fits;
/// the budget only guards against a decoder surprise, and an attachment
/// beyond it keeps its hash and size without its bytes.
pub const MAX_ATTACHMENT_BYTES: usize = MAX_MESSAGE_BYTES;

/// Longest text or HTML part kept; longer ones are cut (on a character
/// boundary) and marked with attribute `email.truncated=true`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What normalize needs to know about our side.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Our own address (config `address`). When set, only a plus address
    /// on it counts as a reply token; when not, any `+r-` plus address does.
    pub address: Option<String>,
}

/// What one raw message contains.
pub fn normalize(event: &InboundEvent, settings: &Settings) -> Result<Vec<Normalized>> {
    check_size(&event.body)?;
    let raw = legacy_charset::utf8_headers(&event.body);
    let message = parse(&raw)?;
    let occurred_at = occurred_at(&message, event.received_at);
    if dsn::is_dsn(&message) {
        let report = dsn::read(&message);
        let updates = dsn::updates(&report, occurred_at);
        if report.original_message_id.is_some() {
            return Ok(updates
                .into_iter()
                .map(Normalized::DeliveryUpdate)
                .collect());
        }
        // A report about a message it does not name: keep it as a system
        // event so an agent can see it, never as a customer message.
        return Ok(vec![Normalized::Interaction(interaction(
            &message,
            event,
            settings,
            occurred_at,
            Kind::UnmatchedReport,
        )?)]);
    }
    let kind = match auto_reply_reason(&message) {
        Some(reason) => Kind::AutoReply(reason),
        None => Kind::Customer,
    };
    Ok(vec![Normalized::Interaction(interaction(
        &message,
        event,
        settings,
        occurred_at,
        kind,
    )?)])
}

/// Refuses a message over [`MAX_MESSAGE_BYTES`] before parsing it.
pub fn check_size(body: &[u8]) -> Result<()> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(PluginError::bad_input(format!(
            "the message is {} bytes; the limit is {MAX_MESSAGE_BYTES}",
            body.len()
        )));
    }
    Ok(())
}

/// The parsed message, or bad input when there is nothing to read.
fn parse(raw: &[u8]) -> Result<Message<'_>> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::bad_input("the message is empty"));
    }
    let message = MessageParser::default().parse(raw).ok_or_else(|| {
        PluginError::bad_input("the message could not be parsed as RFC 5322: no header section")
    })?;
    let headers = message.root_part().headers();
    let known = headers.iter().any(|h| {
        !h.name.is_other()
            || h.name().eq_ignore_ascii_case("auto-submitted")
            || h.name().eq_ignore_ascii_case("x-autoreply")
    });
    if !known {
        return Err(PluginError::bad_input(
            "the message has no RFC 5322 header (From, To, Subject, Date, Message-ID, ...); it is not an email",
        ));
    }
    Ok(message)
}

/// What kind of interaction a message becomes.
enum Kind {
    Customer,
    /// The reason, e.g. `auto-submitted: auto-replied`.
    AutoReply(String),
    UnmatchedReport,
}

/// Why a message is an automatic reply, if it is one (RFC 3834 and the
/// de-facto headers).
fn auto_reply_reason(message: &Message<'_>) -> Option<String> {
    let raw = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(value) = raw("Auto-Submitted") {
        let token = value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !token.is_empty() && token != "no" {
            return Some(format!("auto-submitted: {token}"));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond"] {
        if raw(name).is_some() {
            return Some(name.to_ascii_lowercase());
        }
    }
    if let Some(value) = raw("Precedence")
        && matches!(value.as_str(), "bulk" | "auto_reply" | "junk")
    {
        return Some(format!("precedence: {value}"));
    }
    None
}

/// Date header when it is a real time, else when Silta received the event.
fn occurred_at(message: &Message<'_>, received_at: Timestamp) -> Timestamp {
    let Some(date) = message.date().filter(|d| d.is_valid()) else {
        return received_at;
    };
    let Ok(seconds) = u64::try_from(date.to_timestamp()) else {
        return received_at;
    };
    let at = Timestamp {
        seconds,
        nanoseconds: 0,
    };
    if validate::timestamp_in_range("date", &at).is_ok() {
        at
    } else {
        received_at
    }
}

fn interaction(
    message: &Message<'_>,
    event: &InboundEvent,
    settings: &Settings,
    occurred_at: Timestamp,
    kind: Kind,
) -> Result<silta_sdk::types::Interaction> {
    let message_id = message.message_id().and_then(ids::clean_message_id);
    let provider_id = message_id
        .clone()
        .filter(|id| validate::provider_id("message_id", id).is_ok())
        .unwrap_or_else(|| ids::hash_message_id(&event.body));
    let sender = sender(message)?;
    let (interaction_kind, role) = match kind {
        Kind::Customer => (InteractionKind::Message, SenderRole::Customer),
        Kind::AutoReply(_) | Kind::UnmatchedReport => (InteractionKind::Event, SenderRole::System),
    };
    let mut builder = InteractionBuilder::new(
        interaction_kind,
        Direction::Inbound,
        role,
        sender,
        provider_id,
        occurred_at,
    );
    match &kind {
        Kind::Customer => {}
        Kind::AutoReply(reason) => {
            builder = builder
                .attribute("email.auto_reply", "true")
                .attribute("email.auto_reply_reason", reason.as_str());
        }
        Kind::UnmatchedReport => {
            builder = builder.attribute("email.delivery_report", "unmatched");
        }
    }

    let mut reply_tokens: Vec<String> = Vec::new();
    for address in message.all_to().chain(message.all_cc()) {
        for addr in address.iter() {
            let Some(identity) = identity(addr, Assurance::Unverified) else {
                continue;
            };
            if let Some(token) = ids::reply_token(&identity.value, settings.address.as_deref())
                && !reply_tokens.contains(&token)
            {
                reply_tokens.push(token);
            }
            builder = builder.recipient(identity);
        }
    }
    // Where answers go. Our own address (a forward of one of our
    // messages) is left out, so a reply never goes back to us.
    let mut reply_to: Vec<Identity> = Vec::new();
    for addr in message.reply_to().into_iter().flat_map(Address::iter) {
        let Some(identity) = identity(addr, Assurance::ChannelAsserted) else {
            continue;
        };
        let ours = settings
            .address
            .as_deref()
            .is_some_and(|ours| ids::is_our_address(&identity.value, ours));
        if !ours && !reply_to.iter().any(|known| known.value == identity.value) {
            reply_to.push(identity);
        }
    }

    let subject = message
        .subject()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(subject) = &subject {
        builder = builder.subject(subject.clone());
    }

    // Thread keys: never the subject.
    let in_reply_to = ids::message_id_list(text_list(message.in_reply_to()));
    let references = ids::message_id_list(text_list(message.references()));
    if let Some(id) = &message_id {
        builder = builder.thread_key(ThreadKey::MessageId(id.clone()));
    }
    for id in &in_reply_to {
        builder = builder.thread_key(ThreadKey::InReplyTo(id.clone()));
    }
    for id in &references {
        builder = builder.thread_key(ThreadKey::References(id.clone()));
    }
    for token in reply_tokens {
        builder = builder.thread_key(ThreadKey::ReplyToken(token));
    }
    builder = builder.email_headers(EmailHeaders {
        message_id,
        in_reply_to,
        references,
        subject,
        auto_submitted: message
            .header_raw("Auto-Submitted")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        reply_to,
    });

    let (parts, truncated) = body_parts(message);
    for part in parts {
        builder = builder.part(part);
    }
    for attachment in attachments(message) {
        builder = builder.attachment(attachment);
    }
    if truncated {
        builder = builder.attribute("email.truncated", "true");
    }
    if message.parts.iter().any(|p| p.is_encoding_problem) {
        builder = builder.attribute("email.encoding_problem", "true");
    }
    if let TransportMeta::Imap(imap) = &event.transport {
        builder = builder
            .attribute("email.imap.mailbox", imap.mailbox.as_str())
            .attribute("email.imap.uid_validity", imap.uid_validity.to_string())
            .attribute("email.imap.uid", imap.uid.to_string());
    }
    builder.build()
}

/// The sender: `From`, else `Sender`, else the `Return-Path`. A `From` is
/// what the sending system claims: channel-asserted.
fn sender(message: &Message<'_>) -> Result<Identity> {
    let candidates = message
        .from()
        .into_iter()
        .chain(message.sender())
        .flat_map(Address::iter);
    for addr in candidates {
        if let Some(identity) = identity(addr, Assurance::ChannelAsserted) {
            return Ok(identity);
        }
    }
    if let Some(path) = message.return_address()
        && let Ok(value) = validate::email("return_path", path)
    {
        return Ok(Identity::email(value).with_assurance(Assurance::ChannelAsserted));
    }
    let from = message
        .header_raw("From")
        .map(str::trim)
        .unwrap_or_default();
    Err(PluginError::bad_input(if from.is_empty() {
        "the message has no From address (nor Sender or Return-Path)".to_owned()
    } else {
        format!(
            "From: {:?} holds no usable email address",
            dsn::cut(from, 200)
        )
    }))
}

/// An email identity for an address, normalized; `None` when unusable.
fn identity(addr: &Addr<'_>, assurance: Assurance) -> Option<Identity> {
    let raw = addr.address()?;
    let value = validate::email("address", raw).ok()?;
    let mut identity = Identity::email(value).with_assurance(assurance);
    if let Some(name) = addr.name().map(str::trim).filter(|n| !n.is_empty())
        && !name.eq_ignore_ascii_case(raw)
    {
        identity = identity.with_display_name(name.trim_matches('"'));
    }
    Some(identity)
}

fn text_list<'a>(value: &'a HeaderValue<'_>) -> Vec<&'a str> {
    match value {
        HeaderValue::Text(text) => vec![text.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(AsRef::as_ref).collect(),
        _ => Vec::new(),
    }
}

/// The text (new text, then quoted history) and HTML parts, and whether
/// anything was cut.
fn body_parts(message: &Message<'_>) -> (Vec<silta_sdk::types::Part>, bool) {
    use silta_sdk::types::Part;
    let mut truncated = false;
    let mut cut = |text: &str| {
        if text.len() > MAX_BODY_BYTES {
            truncated = true;
        }
        dsn::cut(text, MAX_BODY_BYTES)
    };

    // `text_body` lists the parts to show as text; mail-parser points it at
    // the HTML part when there is no text, and `body_text` then derives the
    // text from the HTML.
    let texts: Vec<String> = message
        .text_body
        .iter()
        .filter_map(|id| message.parts.get(*id as usize))
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(
                legacy_charset::redecoded_text(message, part, text)
                    .unwrap_or_else(|| text.to_string()),
            ),
            PartType::Html(html) => Some(html_to_text(
                &legacy_charset::redecoded_text(message, part, html)
                    .unwrap_or_else(|| html.to_string()),
            )),
            _ => None,
        })
        .map(|text| text.replace("\r\n", "\n"))
        .filter(|text| !text.trim().is_empty())
        .collect();
    let htmls: Vec<String> = message
        .html_body
        .iter()
        .filter_map(|id| message.parts.get(*id as usize))
        .filter_map(|part| match &part.body {
            PartType::Html(html) => Some(
                legacy_charset::redecoded_text(message, part, html)
                    .unwrap_or_else(|| html.to_string()),
            ),
            _ => None,
        })
        .filter(|html| !html.trim().is_empty())
        .collect();

    let mut parts = Vec::new();
    let text = texts.join("\n");
    if !text.trim().is_empty() {
        let (new, quoted) = quote::split(&text);
        parts.push(Part::Text(cut(&new)));
        if let Some(quoted) = quoted {
            parts.push(Part::Quoted(cut(&quoted)));
        }
    }
    for html in htmls {
        parts.push(Part::Html(cut(&html)));
    }
    (parts, truncated)
}

/// Text for an HTML-only message: mail-parser's conversion, with line
/// breaks first put where block elements end (it joins list items and
/// paragraphs otherwise).
fn html_to_text(html: &str) -> String {
    let mut spaced = String::with_capacity(html.len() + html.len() / 16);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let (before, tag) = rest.split_at(at);
        spaced.push_str(before);
        let name: String = tag
            .trim_start_matches('<')
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "p" | "div"
                | "li"
                | "tr"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "ul"
                | "ol"
                | "table"
                | "blockquote"
        ) && tag.starts_with("</")
        {
            spaced.push_str("<br>");
        }
        spaced.push('<');
        rest = tag.get(1..).unwrap_or_default();
    }
    spaced.push_str(rest);
    let text = mail_parser::decoders::html::html_to_text(&spaced);
    // Collapse the runs of blank lines the extra breaks leave.
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

/// Attachments and inline images, by content hash and with their bytes
/// (within [`MAX_ATTACHMENT_BYTES`] in all).
fn attachments(message: &Message<'_>) -> Vec<Attachment> {
    let mut budget = MAX_ATTACHMENT_BYTES;
    let mut out = Vec::new();
    for part in message.attachments() {
        let bytes = part.contents();
        let media_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            })
            .filter(|mt| mt.contains('/') && !mt.contains(char::is_whitespace))
            .unwrap_or_else(|| match part.body {
                PartType::Message(_) => "message/rfc822".to_owned(),
                PartType::Text(_) => "text/plain".to_owned(),
                PartType::Html(_) => "text/html".to_owned(),
                _ => "application/octet-stream".to_owned(),
            });
        let hash = ids::content_hash(bytes);
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let content = (bytes.len() <= budget).then(|| {
            budget -= bytes.len();
            bytes.to_vec()
        });
        let mut attachment = Attachment {
            filename: None,
            media_type,
            size_bytes: Some(size),
            content_hash: Some(hash),
            url: None,
            content,
            content_id: None,
            inline: false,
        };
        if let Some(name) = part
            .attachment_name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            attachment = attachment.with_filename(name);
        }
        let disposition_inline = part
            .content_disposition()
            .is_some_and(|cd| cd.ctype().eq_ignore_ascii_case("inline"));
        if let Some(cid) = part.content_id().and_then(ids::clean_message_id) {
            attachment = attachment.inline_with_content_id(cid);
            attachment.inline = disposition_inline || part.content_disposition().is_none();
        } else if disposition_inline {
            attachment.inline = true;
        }
        out.push(attachment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{DeliveryState, ImapMeta, Part};

    fn event(raw: &str) -> InboundEvent {
        InboundEvent {
            channel_account: "01890a5d-ac96-7000-8000-00000000c0de".into(),
            received_at: Timestamp {
                seconds: 1_795_464_000,
                nanoseconds: 0,
            },
            transport: TransportMeta::Imap(ImapMeta {
                mailbox: "INBOX".into(),
                uid_validity: 1,
                uid: 7,
                flags: Vec::new(),
            }),
            body: raw.replace('\n', "\r\n").into_bytes(),
        }
    }

    fn one(raw: &str) -> silta_sdk::types::Interaction {
        match normalize(&event(raw), &Settings::default()).as_deref() {
            Ok([Normalized::Interaction(i)]) => i.clone(),
            other => panic!("expected one interaction, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_message() {
        let i = one(
            "From: Aino Virtanen <Aino.Virtanen@Example.FI>\nTo: support+r-tok1@example.test\nSubject: Hei\nMessage-ID: <m1@example.fi>\nDate: Mon, 02 Nov 2026 10:00:00 +0200\n\nHei!\n",
        );
        assert_eq!(i.provider_message_id, "m1@example.fi");
        assert_eq!(i.sender.value, "Aino.Virtanen@example.fi");
        assert_eq!(i.sender.assurance, Assurance::ChannelAsserted);
        assert_eq!(i.parts, vec![Part::Text("Hei!".into())]);
        assert!(
            i.thread_keys
                .contains(&ThreadKey::ReplyToken("tok1".into()))
        );
        assert_ne!(i.occurred_at, event("").received_at);
    }

    #[test]
    fn auto_replies_are_not_customer_messages() {
        let i = one(
            "From: a@example.fi\nTo: support@example.test\nAuto-Submitted: auto-replied\nSubject: Out of office\n\nAway.\n",
        );
        assert_eq!(i.kind, InteractionKind::Event);
        assert_eq!(i.sender_role, SenderRole::System);
        let no = one("From: a@example.fi\nAuto-Submitted: no\nSubject: x\n\ny\n");
        assert_eq!(no.kind, InteractionKind::Message);
    }

    #[test]
    fn dsn_becomes_a_bounce() {
        let raw = "From: MAILER-DAEMON@mx.example.test\nTo: support@example.test\nSubject: Undelivered\nMessage-ID: <dsn1@mx>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nFailed.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.test\n\nFinal-Recipient: rfc822; nobody@example.fi\nAction: failed\nStatus: 5.1.1\n\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <orig@example.test>\nSubject: x\n\n--b--\n";
        let out = normalize(&event(raw), &Settings::default()).expect("normalizes");
        match out.as_slice() {
            [Normalized::DeliveryUpdate(u)] => {
                assert_eq!(u.provider_message_id, "orig@example.test");
                assert_eq!(u.state, DeliveryState::Bounced);
                assert_eq!(u.provider_code.as_deref(), Some("5.1.1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_is_bad_input() {
        for raw in [
            "",
            "   ",
            "\u{0}\u{1}\u{2}binary",
            "just some words without headers",
        ] {
            let error = normalize(&event(raw), &Settings::default()).unwrap_err();
            assert_eq!(error.kind(), "bad-input", "{raw:?}");
        }
    }
}
