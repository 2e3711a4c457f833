//! Outbound: an [`OutboundMessage`] → the Send API,
//! `POST {graph_url}/{api_version}/{page_id}/messages`, for Messenger and
//! for Instagram alike (Instagram messaging through the Page linked to the
//! Instagram professional account, with the Page access token). Pure: the
//! window mark, the clock and the token's header value are passed in, so
//! tests run natively.
//!
//! A Send API message carries text (with optional quick replies) or one
//! attachment by URL; anything else is refused as `permanent`, never cut.

use serde_json::{Value, json};
use silta_meta_webhook::graph_api;
use silta_sdk::types::{
    Attachment, HttpRequest, InteractiveReply, OutboundMessage, Part, PluginError, Timestamp,
    TransportRequest,
};
use silta_sdk::{config, validate};

use crate::mapping::Platform;
use crate::window::{self, Window};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Config key: our Facebook Page's id (required).
pub const PAGE_ID_KEY: &str = "page_id";
/// Config key: `true` when the app has Meta's Human Agent permission, so
/// agents may answer up to 7 days after the customer's last message.
pub const HUMAN_AGENT_KEY: &str = "human_agent";
pub use silta_meta_webhook::graph_api::{
    API_VERSION_KEY, DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, GRAPH_URL_KEY,
};

/// The Send API's limit on a text message.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Quick replies per message.
pub const MAX_QUICK_REPLIES: usize = 13;
/// The limit on a quick reply's title.
pub const MAX_QUICK_REPLY_TITLE_CHARS: usize = 20;
/// The limit on a quick reply's payload.
pub const MAX_QUICK_REPLY_PAYLOAD_CHARS: usize = 1000;

/// The operator's settings for sending, read once per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Our Facebook Page's id.
    pub page_id: String,
    /// The Graph API origin, without a trailing `/`.
    pub graph_url: String,
    /// `vNN.N`.
    pub api_version: String,
    /// Whether agents may answer with the `HUMAN_AGENT` tag.
    pub human_agent: bool,
}

// === impl Settings ===

impl Settings {
    /// Reads and checks the settings from `get` (the `config` capability);
    /// a missing or wrong value is `permanent`, naming the key to fix.
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let value = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let page_id = value(PAGE_ID_KEY).ok_or_else(|| config::missing(PAGE_ID_KEY))?;
        if !page_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PluginError::permanent(format!(
                "config key `{PAGE_ID_KEY}` must be the Facebook Page's id (digits, from the Page's About > Page transparency, or Meta Business Suite), got {page_id:?}"
            )));
        }
        let (graph_url, api_version) = graph_api::endpoint(value)?;
        let human_agent = match value(HUMAN_AGENT_KEY).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(PluginError::permanent(format!(
                    "config key `{HUMAN_AGENT_KEY}` must be \"true\" or \"false\", got {other:?}"
                )));
            }
        };
        Ok(Self {
            page_id,
            graph_url,
            api_version,
            human_agent,
        })
    }

    /// Where messages are posted.
    #[must_use]
    pub fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.graph_url, self.api_version, self.page_id
        )
    }
}

/// The request that sends `message`.
///
/// `authorization` is the header value (`Bearer <placeholder>`, which the
/// host fills with the access token); `last_inbound` gives the customer's
/// last message (see [`window`]); `now` is the wall clock.
pub fn render(
    message: &OutboundMessage,
    settings: &Settings,
    authorization: &str,
    last_inbound: impl FnOnce(Platform, &str) -> Result<Option<Timestamp>>,
    now: Timestamp,
) -> Result<TransportRequest> {
    let (platform, to) = recipient(message)?;
    let content = content(&message.parts)?;
    let mut body = json!({
        "recipient": { "id": to },
        "message": content,
    });
    match window::status(last_inbound(platform, &to)?, now) {
        Window::Standard { .. } => body["messaging_type"] = "RESPONSE".into(),
        Window::HumanAgent { .. } if settings.human_agent => {
            body["messaging_type"] = "MESSAGE_TAG".into();
            body["tag"] = "HUMAN_AGENT".into();
        }
        Window::HumanAgent { .. } => {
            return Err(PluginError::permanent(format!(
                "the customer last wrote more than 24 hours ago, so Meta's standard messaging window is closed; a human agent may still answer for up to 7 days with the HUMAN_AGENT tag once the app has Meta's Human Agent permission and config `{HUMAN_AGENT_KEY}` is \"true\""
            )));
        }
        Window::Closed { last_inbound } => return Err(window_closed(platform, last_inbound)),
    }
    Ok(TransportRequest::Http(
        HttpRequest::post(settings.messages_url())
            .with_header("content-type", "application/json")
            .with_header("authorization", authorization)
            .with_body(body.to_string().into_bytes()),
    ))
}

/// The recipient's platform and page-scoped id.
fn recipient(message: &OutboundMessage) -> Result<(Platform, String)> {
    let recipient = &message.recipient;
    let platform = Platform::of_kind(&recipient.kind).ok_or_else(|| {
        PluginError::permanent(format!(
            "the recipient is a {} identity; this channel sends to a messenger (PSID) or instagram (IGSID) id",
            recipient.kind.name()
        ))
    })?;
    let id = recipient.value.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PluginError::bad_input(format!(
            "recipient.value: {:?} is not a page-scoped id (digits)",
            recipient.value
        )));
    }
    Ok((platform, id.to_owned()))
}

fn window_closed(platform: Platform, last_inbound: Option<u64>) -> PluginError {
    let since = match last_inbound.and_then(|seconds| {
        silta_sdk::time::to_rfc3339(&Timestamp {
            seconds,
            nanoseconds: 0,
        })
    }) {
        Some(at) => format!("the customer last wrote at {at}, more than 7 days ago"),
        None => "the customer has not written to this account".to_owned(),
    };
    PluginError::permanent(format!(
        "Meta's messaging window for this {} customer is closed ({since}): a Page may message a person only within 24 hours of their last message, or within 7 days as a human agent; wait for the customer to write",
        platform.name()
    ))
}

/// The Send API `message` object for `parts`. Quoted history is left out
/// (the customer has it in the chat).
pub fn content(parts: &[Part]) -> Result<Value> {
    let mut texts = Vec::new();
    let mut attachments = Vec::new();
    let mut quick_replies = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        match part {
            Part::Text(text) if !text.trim().is_empty() => texts.push(text.as_str()),
            Part::Text(_) | Part::Quoted(_) => {}
            Part::Attachment(attachment) => attachments.push(attachment),
            Part::Interactive(choice) => quick_replies.push(choice),
            Part::Html(_) => {
                return Err(PluginError::permanent(format!(
                    "parts[{n}] is HTML; Messenger and Instagram carry plain text only (send a text part)"
                )));
            }
            Part::Location(_) | Part::Reaction(_) | Part::Template(_) => {
                return Err(PluginError::permanent(format!(
                    "parts[{n}] is a {}; this channel sends text, quick replies and attachments only",
                    match part {
                        Part::Location(_) => "location",
                        Part::Reaction(_) => "reaction",
                        _ => "template",
                    }
                )));
            }
        }
    }
    let text = (!texts.is_empty()).then(|| texts.join("\n\n"));
    match (text, attachments.as_slice()) {
        (Some(text), []) => {
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                return Err(PluginError::permanent(format!(
                    "the text is {chars} characters; the Send API takes at most {MAX_TEXT_CHARS}"
                )));
            }
            let mut message = json!({ "text": text });
            if !quick_replies.is_empty() {
                message["quick_replies"] = quick_replies_json(&quick_replies)?;
            }
            Ok(message)
        }
        (None, [attachment]) if quick_replies.is_empty() => Ok(json!({
            "attachment": attachment_json(attachment)?,
        })),
        (None, []) => Err(PluginError::bad_input(if quick_replies.is_empty() {
            "the message has nothing to send: no text or attachment"
        } else {
            "quick replies need a text part to go with"
        })),
        _ => Err(PluginError::permanent(
            "a Send API message carries text (with quick replies) or one attachment alone; send the text and each attachment as messages of their own",
        )),
    }
}

fn quick_replies_json(choices: &[&InteractiveReply]) -> Result<Value> {
    if choices.len() > MAX_QUICK_REPLIES {
        return Err(PluginError::permanent(format!(
            "{} quick replies; the Send API takes at most {MAX_QUICK_REPLIES}",
            choices.len()
        )));
    }
    let mut out = Vec::with_capacity(choices.len());
    for choice in choices {
        let title_chars = choice.title.chars().count();
        if choice.title.trim().is_empty() || title_chars > MAX_QUICK_REPLY_TITLE_CHARS {
            return Err(PluginError::permanent(format!(
                "quick reply {:?}: the title must be 1 to {MAX_QUICK_REPLY_TITLE_CHARS} characters",
                choice.title
            )));
        }
        if choice.id.trim().is_empty() || choice.id.chars().count() > MAX_QUICK_REPLY_PAYLOAD_CHARS
        {
            return Err(PluginError::permanent(format!(
                "quick reply {:?}: the id (its payload) must be 1 to {MAX_QUICK_REPLY_PAYLOAD_CHARS} characters",
                choice.title
            )));
        }
        out.push(json!({ "content_type": "text", "title": choice.title, "payload": choice.id }));
    }
    Ok(Value::Array(out))
}

/// One attachment by URL, which Meta fetches.
fn attachment_json(attachment: &Attachment) -> Result<Value> {
    let url = attachment.url.as_deref().ok_or_else(|| {
        PluginError::permanent(
            "the attachment has no url; this plugin sends media by URL (an https URL Meta can fetch)",
        )
    })?;
    validate::http_url("attachment.url", url)
        .map_err(|error| PluginError::permanent(error.message().to_owned()))?;
    Ok(json!({
        "type": attachment_kind(&attachment.media_type),
        "payload": { "url": url, "is_reusable": false },
    }))
}

/// The Send API attachment type for a media type.
#[must_use]
pub fn attachment_kind(media_type: &str) -> &'static str {
    let media_type = media_type.trim().to_ascii_lowercase();
    match media_type.split('/').next().unwrap_or_default() {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::tests::at;
    use crate::window::{HUMAN_AGENT_SECONDS, STANDARD_SECONDS};
    use silta_sdk::types::{Identity, IdentityKind, Template, ThreadKey};

    const NOW: u64 = 1_795_464_000;
    const PSID: &str = "6830112345678901";

    fn settings(human_agent: bool) -> Settings {
        Settings::from_config(|key| match key {
            PAGE_ID_KEY => Some("104501234567890".into()),
            HUMAN_AGENT_KEY => Some(human_agent.to_string()),
            _ => None,
        })
        .expect("settings")
    }

    fn message(parts: Vec<Part>) -> OutboundMessage {
        OutboundMessage {
            channel_account: "acct".into(),
            interaction_id: "01890a5d-ac96-7000-8000-0000000000aa".into(),
            recipient: Identity::new(IdentityKind::Messenger, PSID),
            sender: None,
            subject: None,
            parts,
            thread_keys: vec![ThreadKey::ProviderThread(format!("104501234567890:{PSID}"))],
            reply_to_provider_message_id: Some("m_IN".into()),
            reply_to_email: None,
            reply_token: "tok".into(),
        }
    }

    fn rendered(
        message: &OutboundMessage,
        human_agent: bool,
        last: Option<u64>,
    ) -> Result<(HttpRequest, Value)> {
        let request = render(
            message,
            &settings(human_agent),
            "Bearer {placeholder}",
            |platform, id| {
                assert_eq!((platform, id), (Platform::Messenger, PSID));
                Ok(last.map(at))
            },
            at(NOW),
        )?;
        let TransportRequest::Http(request) = request else {
            panic!("an HTTP request");
        };
        let body = serde_json::from_slice(&request.body).expect("JSON");
        Ok((request, body))
    }

    fn text() -> OutboundMessage {
        message(vec![Part::Text("On its way!".into())])
    }

    #[test]
    fn a_reply_inside_24_hours_is_a_response() {
        let (request, body) = rendered(&text(), false, Some(NOW - 3_600)).expect("renders");
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.url,
            "https://graph.facebook.com/v21.0/104501234567890/messages"
        );
        assert_eq!(
            request.header("authorization"),
            Some("Bearer {placeholder}")
        );
        assert_eq!(
            body,
            json!({
                "recipient": {"id": PSID},
                "messaging_type": "RESPONSE",
                "message": {"text": "On its way!"},
            })
        );
    }

    #[test]
    fn after_24_hours_only_a_human_agent_and_after_7_days_nothing() {
        let late = Some(NOW - STANDARD_SECONDS - 60);
        let (_, body) = rendered(&text(), true, late).expect("a human agent reply");
        assert_eq!(body["messaging_type"], "MESSAGE_TAG");
        assert_eq!(body["tag"], "HUMAN_AGENT");
        let error = rendered(&text(), false, late).unwrap_err();
        assert_eq!(error.kind(), "permanent");
        assert!(error.message().contains("human_agent"), "{error:?}");
        for last in [None, Some(NOW - HUMAN_AGENT_SECONDS)] {
            let error = rendered(&text(), true, last).unwrap_err();
            assert_eq!(error.kind(), "permanent");
            assert!(error.message().contains("window"), "{error:?}");
        }
    }

    #[test]
    fn quick_replies_and_attachments() {
        let parts = vec![
            Part::Text("Which slot?".into()),
            Part::Interactive(InteractiveReply {
                id: "SLOT_1".into(),
                title: "Mon 9:00".into(),
            }),
        ];
        assert_eq!(
            content(&parts).expect("quick replies"),
            json!({"text": "Which slot?", "quick_replies": [
                {"content_type": "text", "title": "Mon 9:00", "payload": "SLOT_1"}]})
        );
        let pdf = Attachment::from_url("application/pdf", "https://cdn.example.fi/i.pdf");
        assert_eq!(
            content(&[Part::Attachment(pdf.clone())]).expect("attachment"),
            json!({"attachment": {"type": "file",
                "payload": {"url": "https://cdn.example.fi/i.pdf", "is_reusable": false}}})
        );
        assert_eq!(attachment_kind("image/png"), "image");
        let error = content(&[Part::Text("x".into()), Part::Attachment(pdf)]).unwrap_err();
        assert!(
            error.message().contains("one attachment alone"),
            "{error:?}"
        );
        let template = Part::Template(Template {
            name: "t".into(),
            language: "fi".into(),
            parameters: Vec::new(),
        });
        assert!(
            content(&[template])
                .unwrap_err()
                .message()
                .contains("template")
        );
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            content(&[Part::Text(long)]).unwrap_err().kind(),
            "permanent"
        );
        assert_eq!(content(&[]).unwrap_err().kind(), "bad-input");
    }

    #[test]
    fn settings_and_recipients_are_checked() {
        let missing = Settings::from_config(|_| None).unwrap_err();
        assert!(missing.message().contains("page_id"), "{missing:?}");
        let custom = Settings::from_config(|key| match key {
            PAGE_ID_KEY => Some("42".into()),
            GRAPH_URL_KEY => Some("http://127.0.0.1:8080/".into()),
            API_VERSION_KEY => Some("v22.0".into()),
            _ => None,
        })
        .expect("settings");
        assert_eq!(
            custom.messages_url(),
            "http://127.0.0.1:8080/v22.0/42/messages"
        );
        assert!(!custom.human_agent);
        let error = Settings::from_config(|key| match key {
            PAGE_ID_KEY => Some("42".into()),
            HUMAN_AGENT_KEY => Some("yes".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(error.message().contains("human_agent"), "{error:?}");
        let mut email = text();
        email.recipient = Identity::email("aino@example.fi");
        let error = rendered(&email, false, Some(NOW)).unwrap_err();
        assert!(error.message().contains("email identity"), "{error:?}");
    }
}
