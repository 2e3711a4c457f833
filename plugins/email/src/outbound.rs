//! Outbound: an [`OutboundMessage`] → a complete RFC 5322 message and its
//! SMTP envelope for the host's mail transport, and the SMTP server's reply
//! → a delivery outcome. Pure functions; the settings and the clock's
//! reading are passed in so tests run natively.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use silta_sdk::types::{
    DeliveryOutcome, EmailRequest, IdentityKind, OutboundMessage, Part, PluginError,
    TransportRequest, TransportResponse,
};
use silta_sdk::{config, validate};

use crate::ids;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Config key: our address, the envelope sender and `From` (required).
pub const ADDRESS_KEY: &str = "address";
/// Config key: the domain of generated Message-IDs (default: the domain of
/// `address`).
pub const DOMAIN_KEY: &str = "domain";
/// Config key: the display name in `From` (optional).
pub const NAME_KEY: &str = "name";

/// Reply prefixes stripped from a subject before one `Re: ` is added.
const REPLY_PREFIXES: &[&str] = &["re", "vs", "sv", "aw", "antw", "vl"];

/// Most bytes of an SMTP reply kept as an outcome's detail.
const MAX_DETAIL_BYTES: usize = 512;

/// The sending side, from the configuration.
#[derive(Debug, Clone)]
pub struct Sender {
    /// Our address (`support@example.test`), normalized.
    pub address: String,
    /// The domain of generated Message-IDs.
    pub domain: String,
    /// The display name in `From`.
    pub name: Option<String>,
}

// === impl Sender ===

impl Sender {
    /// The sender from config values; errors are permanent and say which
    /// key to fix.
    pub fn from_config(
        address: Option<&str>,
        domain: Option<&str>,
        name: Option<&str>,
    ) -> Result<Self> {
        let address = address
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| config::missing(ADDRESS_KEY))?;
        let address = validate::email(ADDRESS_KEY, address).map_err(|error| {
            PluginError::permanent(format!(
                "config key {}; set it to our address, e.g. support@example.com",
                error.message()
            ))
        })?;
        let domain = match domain.map(str::trim).filter(|d| !d.is_empty()) {
            Some(domain) => domain.to_ascii_lowercase(),
            None => address
                .rsplit_once('@')
                .map(|(_, d)| d.to_ascii_lowercase())
                .unwrap_or_default(),
        };
        let plausible = !domain.is_empty()
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !plausible {
            return Err(PluginError::permanent(format!(
                "config key `{DOMAIN_KEY}`: {domain:?} is not a domain name such as example.com"
            )));
        }
        Ok(Self {
            address,
            domain,
            name: name
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        })
    }
}

/// The Message-ID of the message rendered for an interaction: fresh for
/// every interaction, the same on a retry of the same one.
pub fn message_id(interaction_id: &str, domain: &str) -> String {
    format!("{}@{domain}", interaction_id.trim())
}

/// `subject` with exactly one `Re: ` in front.
pub fn reply_subject(subject: &str) -> String {
    let mut rest = subject.trim();
    loop {
        let stripped = REPLY_PREFIXES.iter().find_map(|prefix| {
            let head = rest.get(..prefix.len())?;
            if !head.eq_ignore_ascii_case(prefix) {
                return None;
            }
            let after = rest.get(prefix.len()..)?;
            // `Re:`, `RE :`, `Re[2]:`
            let after = after.trim_start();
            let after = match after.strip_prefix('[') {
                Some(numbered) => numbered.split_once(']').map(|(_, r)| r)?,
                None => after,
            };
            after.trim_start().strip_prefix(':')
        });
        match stripped {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    format!("Re: {rest}")
}

/// The email that delivers `message`, sent at `now` (seconds since the
/// Unix epoch).
pub fn render(message: &OutboundMessage, sender: &Sender, now: u64) -> Result<TransportRequest> {
    if message.recipient.kind != IdentityKind::Email {
        return Err(PluginError::permanent(format!(
            "the recipient is a {} identity; the email channel sends to email addresses",
            message.recipient.kind.name()
        )));
    }
    let to = validate::email("recipient.value", &message.recipient.value)?;
    if !ids::token_is_usable(&message.reply_token) {
        return Err(PluginError::bad_input(format!(
            "reply_token {:?} does not fit an email address: use 1-64 of A-Z a-z 0-9 - _ . =",
            message.reply_token
        )));
    }
    let reply_address = ids::reply_address(&sender.address, &message.reply_token)
        .ok_or_else(|| PluginError::permanent("config key `address` has no '@'"))?;
    let id = message_id(&message.interaction_id, &sender.domain);
    if ids::clean_message_id(&id).as_deref() != Some(id.as_str()) {
        return Err(PluginError::bad_input(format!(
            "interaction_id {:?} cannot be part of a Message-ID",
            message.interaction_id
        )));
    }

    let mut texts: Vec<String> = Vec::new();
    let mut quoted: Vec<String> = Vec::new();
    let mut htmls: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for (n, part) in message.parts.iter().enumerate() {
        match part {
            Part::Text(text) => texts.push(text.clone()),
            Part::Html(html) => htmls.push(html.clone()),
            Part::Quoted(text) => quoted.push(text.clone()),
            Part::Attachment(attachment) => {
                let content = attachment.content.clone().ok_or_else(|| {
                    PluginError::permanent(format!(
                        "parts[{n}] is an attachment without its bytes; the email channel needs the content to attach it"
                    ))
                })?;
                files.push((n, attachment.clone(), content));
            }
            Part::Location(location) => texts.push(match &location.name {
                Some(name) => format!("{name} ({}, {})", location.latitude, location.longitude),
                None => format!("{}, {}", location.latitude, location.longitude),
            }),
            Part::Interactive(_) | Part::Template(_) | Part::Reaction(_) => {
                return Err(PluginError::permanent(format!(
                    "parts[{n}] is an interactive, template or reaction part; email cannot carry it"
                )));
            }
        }
    }
    if texts.iter().all(|t| t.trim().is_empty()) && htmls.is_empty() && files.is_empty() {
        return Err(PluginError::bad_input(
            "the message has nothing to send: no text, no HTML and no attachments",
        ));
    }
    let mut text = texts.join("\n\n");
    if text.trim().is_empty() && !htmls.is_empty() {
        text = mail_parser::decoders::html::html_to_text(&htmls.join("\n"));
    }
    for history in &quoted {
        text.push_str("\n\n");
        for line in history.lines() {
            text.push('>');
            if !line.starts_with('>') {
                text.push(' ');
            }
            text.push_str(line);
            text.push('\n');
        }
    }

    let from: Address<'_> = match &sender.name {
        Some(name) => (name.clone(), sender.address.clone()).into(),
        None => sender.address.clone().into(),
    };
    let recipient: Address<'_> = match message
        .recipient
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(name) => (name.to_owned(), to.clone()).into(),
        None => to.clone().into(),
    };
    let mut builder = MessageBuilder::new()
        .from(from)
        .to(recipient)
        .reply_to(reply_address)
        .message_id(id.clone())
        .date(Date::new(i64::try_from(now).unwrap_or(i64::MAX)));

    let base_subject = message
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match &message.reply_to_email {
        Some(original) => {
            let original_id = original
                .message_id
                .as_deref()
                .and_then(ids::clean_message_id)
                .or_else(|| {
                    message
                        .reply_to_provider_message_id
                        .as_deref()
                        .and_then(ids::clean_message_id)
                        .filter(|id| id.contains('@'))
                });
            let mut references =
                ids::message_id_list(original.references.iter().map(String::as_str));
            if let Some(original_id) = &original_id {
                references.retain(|r| r != original_id);
                references.push(original_id.clone());
                builder = builder.in_reply_to(MessageId::new(original_id.clone()));
            }
            if !references.is_empty() {
                builder = builder.references(MessageId::from(references));
            }
            let subject = base_subject
                .or(original.subject.as_deref())
                .unwrap_or_default();
            builder = builder.subject(reply_subject(subject));
        }
        None => {
            if let Some(subject) = base_subject {
                builder = builder.subject(subject.to_owned());
            }
        }
    }
    builder = builder.header("Auto-Submitted", Raw::new("no"));

    if !text.trim().is_empty() {
        builder = builder.text_body(text);
    }
    if !htmls.is_empty() {
        builder = builder.html_body(htmls.join("\n"));
    }
    for (n, attachment, content) in files {
        let media_type = attachment.media_type.trim().to_ascii_lowercase();
        if !media_type.contains('/') || media_type.contains(char::is_whitespace) {
            return Err(PluginError::bad_input(format!(
                "parts[{n}].media_type {media_type:?} is not a media type such as image/png"
            )));
        }
        builder = match (attachment.inline, attachment.content_id.as_deref()) {
            (true, Some(cid)) => builder.inline(media_type, cid.to_owned(), content),
            _ => builder.attachment(
                media_type,
                attachment
                    .filename
                    .clone()
                    .unwrap_or_else(|| format!("attachment-{n}")),
                content,
            ),
        };
    }
    let raw = builder.write_to_vec().map_err(|error| {
        PluginError::permanent(format!("the message could not be written: {error}"))
    })?;
    Ok(TransportRequest::Email(EmailRequest {
        envelope_from: sender.address.clone(),
        envelope_to: vec![to],
        message_id: id,
        raw,
    }))
}

/// 2xx is `sent` under the Message-ID; 4xx is retryable (the server may
/// take it later: greylisting, a full mailbox); 5xx is `failed` with the
/// reply code as the provider code and the reply text as the detail.
pub fn interpret_response(
    request: &TransportRequest,
    response: &TransportResponse,
) -> Result<DeliveryOutcome> {
    let TransportResponse::Smtp(reply) = response else {
        return Err(PluginError::permanent(
            "the email channel sends through SMTP, but the transport answered with HTTP",
        ));
    };
    let message_id = match request {
        TransportRequest::Email(email) => Some(email.message_id.clone()),
        TransportRequest::Http(_) => None,
    };
    let text = dsn_text(&reply.text);
    match reply.code {
        200..=299 => Ok(DeliveryOutcome::sent(message_id)),
        400..=499 => Err(PluginError::retryable(format!(
            "the SMTP server answered {} {text}",
            reply.code
        ))),
        500..=599 => {
            let failed = DeliveryOutcome::failed(reply.code.to_string());
            Ok(if text.is_empty() {
                failed
            } else {
                failed.with_detail(text)
            })
        }
        other => Err(PluginError::permanent(format!(
            "the SMTP server answered with unexpected code {other} {text}"
        ))),
    }
}

fn dsn_text(text: &str) -> String {
    crate::dsn::cut(text.trim(), MAX_DETAIL_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;
    use silta_sdk::types::{
        Attachment, DeliveryState, EmailHeaders, Identity, SmtpReply, ThreadKey,
    };

    fn sender() -> Sender {
        Sender::from_config(Some("support@example.test"), None, Some("Silta Support"))
            .expect("sender")
    }

    fn message(parts: Vec<Part>, reply_to_email: Option<EmailHeaders>) -> OutboundMessage {
        OutboundMessage {
            channel_account: "acct".into(),
            interaction_id: "01890a5d-ac96-7000-8000-0000000000aa".into(),
            recipient: Identity::email("aino.virtanen@example.fi").with_display_name("Aino"),
            sender: None,
            subject: None,
            parts,
            thread_keys: vec![ThreadKey::MessageId("q1@example.fi".into())],
            reply_to_provider_message_id: Some("q1@example.fi".into()),
            reply_to_email,
            reply_token: "tok-9".into(),
        }
    }

    fn email(request: &TransportRequest) -> &EmailRequest {
        match request {
            TransportRequest::Email(email) => email,
            TransportRequest::Http(_) => panic!("an email request"),
        }
    }

    #[test]
    fn subjects_get_one_re() {
        assert_eq!(reply_subject("Tilaus"), "Re: Tilaus");
        assert_eq!(reply_subject("RE: Re: Vs: SV: AW: Tilaus"), "Re: Tilaus");
        assert_eq!(reply_subject("Re[2]: x"), "Re: x");
        assert_eq!(reply_subject("Reply needed"), "Re: Reply needed");
        assert_eq!(reply_subject("Vs:Tilaus"), "Re: Tilaus");
    }

    #[test]
    fn a_reply_threads_on_the_original() {
        let original = EmailHeaders {
            message_id: Some("q1@example.fi".into()),
            in_reply_to: vec!["a0@example.test".into()],
            references: vec!["a0@example.test".into()],
            subject: Some("Vs: Tilaus 1234".into()),
            auto_submitted: None,
            reply_to: Vec::new(),
        };
        let request = render(
            &message(
                vec![
                    Part::Text("Hei Aino, tilauksesi on matkalla.".into()),
                    Part::Html("<p>Hei Aino, tilauksesi on matkalla.</p>".into()),
                    Part::Quoted("Missä tilaukseni on?".into()),
                    Part::Attachment(
                        Attachment::from_bytes("application/pdf", b"%PDF-1.4".to_vec())
                            .with_filename("lasku.pdf"),
                    ),
                ],
                Some(original),
            ),
            &sender(),
            1_795_464_000,
        )
        .expect("renders");
        let request = email(&request);
        assert_eq!(request.envelope_from, "support@example.test");
        assert_eq!(request.envelope_to, ["aino.virtanen@example.fi"]);
        assert_eq!(
            request.message_id,
            "01890a5d-ac96-7000-8000-0000000000aa@example.test"
        );
        let parsed = MessageParser::default()
            .parse(&request.raw)
            .expect("parses");
        assert_eq!(parsed.message_id(), Some(request.message_id.as_str()));
        assert_eq!(parsed.subject(), Some("Re: Tilaus 1234"));
        assert_eq!(
            parsed.in_reply_to().as_text_list().map(|l| l.len()),
            Some(1)
        );
        let references: Vec<&str> = match parsed.references() {
            mail_parser::HeaderValue::TextList(l) => l.iter().map(AsRef::as_ref).collect(),
            mail_parser::HeaderValue::Text(t) => vec![t.as_ref()],
            _ => Vec::new(),
        };
        assert_eq!(references, ["a0@example.test", "q1@example.fi"]);
        let reply_to = parsed
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address());
        assert_eq!(reply_to, Some("support+r-tok-9@example.test"));
        assert!(parsed.body_text(0).expect("text").contains("> Missä"));
        assert!(parsed.body_html(0).expect("html").contains("<p>Hei Aino"));
        assert_eq!(parsed.attachment_count(), 1);
        let from = parsed.from().and_then(|a| a.first()).expect("from");
        assert_eq!(from.name(), Some("Silta Support"));
    }

    #[test]
    fn a_proactive_message_starts_a_thread() {
        let mut proactive = message(vec![Part::Text("Hei".into())], None);
        proactive.subject = Some("Re: Uutiskirje".into());
        let request = render(&proactive, &sender(), 1_795_464_000).expect("renders");
        let parsed = MessageParser::default()
            .parse(&email(&request).raw)
            .expect("parses");
        assert!(parsed.in_reply_to().is_empty());
        assert!(parsed.references().is_empty());
        assert_eq!(parsed.subject(), Some("Re: Uutiskirje"));
    }

    #[test]
    fn render_refuses_what_it_cannot_send() {
        let empty = render(&message(Vec::new(), None), &sender(), 0).unwrap_err();
        assert_eq!(empty.kind(), "bad-input");
        let by_url = Part::Attachment(Attachment::from_url("image/png", "https://x.test/a.png"));
        let by_url = render(&message(vec![by_url], None), &sender(), 0).unwrap_err();
        assert_eq!(by_url.kind(), "permanent");
        let missing = Sender::from_config(None, None, None).unwrap_err();
        assert!(missing.message().contains("`address`"), "{missing:?}");
        let mut phone = message(vec![Part::Text("x".into())], None);
        phone.recipient = Identity::phone("+358401234567");
        assert_eq!(
            render(&phone, &sender(), 0).unwrap_err().kind(),
            "permanent"
        );
    }

    #[test]
    fn smtp_replies_map_to_outcomes() {
        let request =
            render(&message(vec![Part::Text("x".into())], None), &sender(), 0).expect("renders");
        let reply = |code, text: &str| {
            TransportResponse::Smtp(SmtpReply {
                code,
                text: text.into(),
            })
        };
        let sent = interpret_response(&request, &reply(250, "2.0.0 Ok: queued")).expect("sent");
        assert_eq!(sent.state, DeliveryState::Sent);
        assert_eq!(
            sent.provider_message_id.as_deref(),
            Some("01890a5d-ac96-7000-8000-0000000000aa@example.test")
        );
        let later = interpret_response(&request, &reply(451, "4.7.1 greylisted")).unwrap_err();
        assert_eq!(later.kind(), "retryable");
        let failed =
            interpret_response(&request, &reply(550, "5.1.1 <x@y>: user unknown")).expect("ok");
        assert_eq!(failed.state, DeliveryState::Failed);
        assert_eq!(failed.provider_code.as_deref(), Some("550"));
        assert_eq!(failed.detail.as_deref(), Some("5.1.1 <x@y>: user unknown"));
    }
}
