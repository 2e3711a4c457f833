//! Outbound: an [`OutboundMessage`] → one Bot API call, `POST
//! {api_url}/bot<token>/<method>` with a JSON body. Pure: the token's
//! placeholder is passed in, so tests run natively.
//!
//! | parts | method |
//! |-------|--------|
//! | text | `sendMessage` (`text`, up to 4096 characters) |
//! | one attachment (+ text as caption) | `sendPhoto` for JPEG, PNG and WebP images, `sendDocument` otherwise |
//! | one location | `sendLocation`, or `sendVenue` when it has a name and an address |
//!
//! The chat is the one of the message replied to (where the customer last
//! wrote: a private chat or a group), else the conversation's
//! provider-thread key (a chat id), else the recipient's Telegram user id
//! (a private chat's id is the user's id). A reply carries
//! `reply_parameters` with the replied message's id and
//! `allow_sending_without_reply`, so a reply to a message the customer
//! deleted still goes out.
//!
//! The bot token is in the URL path, as the Bot API requires: the plugin
//! writes the secret's placeholder there and the host fills it in when the
//! request leaves, only towards an origin the operator granted.

use serde_json::{Value, json};
use silta_sdk::types::{
    Attachment, HttpRequest, IdentityKind, Location, OutboundMessage, Part, PluginError, ThreadKey,
    TransportRequest,
};
use silta_sdk::validate;

use crate::content::FILE_SCHEME;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Config key: the Bot API origin.
pub const API_URL_KEY: &str = "api_url";
/// Where the Bot API is unless `api_url` says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org";
/// Most characters of a `sendMessage` text.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Most characters of a caption.
pub const MAX_CAPTION_CHARS: usize = 1024;

/// The operator's settings for sending, read once per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The Bot API origin, without a trailing `/`.
    pub api_url: String,
}

// === impl Settings ===

impl Settings {
    /// Reads and checks the settings from `get` (the `config` capability);
    /// a wrong value is `permanent`, naming the key to fix.
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let api_url = get(API_URL_KEY)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let api_url = api_url.trim_end_matches('/').to_owned();
        validate::http_url(API_URL_KEY, &api_url)
            .map_err(|error| PluginError::permanent(format!("config key {}", error.message())))?;
        Ok(Self { api_url })
    }

    /// The URL of Bot API method `method`, the token given as `token`
    /// (the secret's placeholder).
    #[must_use]
    pub fn method_url(&self, token: &str, method: &str) -> String {
        format!("{}/bot{token}/{method}", self.api_url)
    }
}

/// A chat as the Bot API names it: a numeric id or `@channelusername`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatRef {
    /// A chat id (negative for groups and channels).
    Id(i64),
    /// `@username` of a public channel or supergroup.
    Username(String),
}

// === impl ChatRef ===

impl ChatRef {
    /// Reads a provider-thread key or configured value.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Ok(id) = raw.parse::<i64>() {
            return (id != 0).then_some(Self::Id(id));
        }
        let name = raw.strip_prefix('@')?;
        let plausible = (4..=32).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        plausible.then(|| Self::Username(raw.to_owned()))
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Id(id) => json!(id),
            Self::Username(name) => json!(name),
        }
    }
}

/// The chat and message of a provider message id this plugin made:
/// `<chat_id>:<message_id>`, or an edit's
/// `<chat_id>:<message_id>:edit:<edit_date>` (the same message).
#[must_use]
pub fn parse_provider_message_id(id: &str) -> Option<(i64, i64)> {
    let mut fields = id.trim().split(':');
    let chat = fields.next()?.parse().ok()?;
    let message = fields.next()?.parse().ok()?;
    match (fields.next(), fields.next(), fields.next()) {
        (None, None, None) => Some((chat, message)),
        (Some("edit"), Some(date), None) if date.parse::<i64>().is_ok() => Some((chat, message)),
        _ => None,
    }
}

/// The request that sends `message`; `token` is the bot token's
/// placeholder, which goes into the URL path.
pub fn render(
    message: &OutboundMessage,
    settings: &Settings,
    token: &str,
) -> Result<TransportRequest> {
    let replied = match message
        .reply_to_provider_message_id
        .as_deref()
        .filter(|id| !id.trim().is_empty())
    {
        Some(id) => Some(parse_provider_message_id(id).ok_or_else(|| {
            PluginError::bad_input(format!(
                "reply_to_provider_message_id: {id:?} is not a Telegram message id (`<chat_id>:<message_id>`)"
            ))
        })?),
        None => None,
    };
    let chat = chat(message, replied)?;
    let (method, mut body) = content(&message.parts)?;
    body["chat_id"] = chat.to_json();
    if let Some((_, replied_message)) = replied {
        // The reply goes to the replied message's own chat (see `chat`).
        body["reply_parameters"] = json!({
            "message_id": replied_message,
            "allow_sending_without_reply": true,
        });
    }
    Ok(TransportRequest::Http(
        HttpRequest::post(settings.method_url(token, method))
            .with_header("content-type", "application/json")
            .with_body(body.to_string().into_bytes()),
    ))
}

/// Where the message goes.
fn chat(message: &OutboundMessage, replied: Option<(i64, i64)>) -> Result<ChatRef> {
    if let Some((chat, _)) = replied {
        return Ok(ChatRef::Id(chat));
    }
    let thread = message.thread_keys.iter().find_map(|key| match key {
        ThreadKey::ProviderThread(chat) => ChatRef::parse(chat),
        _ => None,
    });
    if let Some(chat) = thread {
        return Ok(chat);
    }
    let recipient = &message.recipient;
    if recipient.kind != IdentityKind::Telegram {
        return Err(PluginError::permanent(format!(
            "the recipient is a {} identity and the conversation has no Telegram chat; Telegram sends to a chat or a Telegram user id",
            recipient.kind.name()
        )));
    }
    match recipient.value.trim().parse::<i64>() {
        Ok(id) if id > 0 => Ok(ChatRef::Id(id)),
        _ => Err(PluginError::bad_input(format!(
            "recipient.value: {:?} is not a Telegram user id",
            recipient.value
        ))),
    }
}

/// The method and the body without the chat.
fn content(parts: &[Part]) -> Result<(&'static str, Value)> {
    let mut texts = Vec::new();
    let mut html = false;
    let mut attachments = Vec::new();
    let mut locations = Vec::new();
    for part in parts {
        match part {
            Part::Text(text) if !text.trim().is_empty() => texts.push(text.as_str()),
            Part::Text(_) | Part::Quoted(_) => {}
            Part::Html(_) => html = true,
            Part::Attachment(attachment) => attachments.push(attachment),
            Part::Location(location) => locations.push(location),
            Part::Interactive(_) | Part::Template(_) | Part::Reaction(_) => {
                return Err(PluginError::permanent(format!(
                    "Telegram cannot send a {} part (this plugin sends text, one attachment or one location)",
                    part_name(part)
                )));
            }
        }
    }
    let text = texts.join("\n\n");
    match (attachments.as_slice(), locations.as_slice()) {
        ([], []) if text.is_empty() && html => Err(PluginError::permanent(
            "this plugin sends plain text only; give the message a text part beside the HTML",
        )),
        ([], []) if text.is_empty() => Err(PluginError::bad_input(
            "parts: the message has nothing to send (no text, attachment or location)",
        )),
        ([], []) => {
            check_length("text", &text, MAX_TEXT_CHARS)?;
            Ok(("sendMessage", json!({ "text": text })))
        }
        ([attachment], []) => attachment_body(attachment, &text),
        ([], [location]) if text.is_empty() => Ok(location_body(location)),
        _ => Err(PluginError::permanent(format!(
            "one Telegram message carries text with at most one attachment, or one location alone; got {} attachments, {} locations and {} text",
            attachments.len(),
            locations.len(),
            if text.is_empty() { "no" } else { "some" },
        ))),
    }
}

fn part_name(part: &Part) -> &'static str {
    match part {
        Part::Interactive(_) => "interactive",
        Part::Template(_) => "template",
        Part::Reaction(_) => "reaction",
        _ => "such",
    }
}

fn check_length(field: &str, text: &str, max: usize) -> Result<()> {
    let chars = text.chars().count();
    if chars > max {
        return Err(PluginError::permanent(format!(
            "the {field} is {chars} characters; Telegram takes at most {max}"
        )));
    }
    Ok(())
}

/// `sendPhoto` or `sendDocument` with the file by URL (or by the
/// `file_id` of a file a customer sent).
fn attachment_body(attachment: &Attachment, caption: &str) -> Result<(&'static str, Value)> {
    let url = attachment.url.as_deref().map(str::trim).ok_or_else(|| {
        PluginError::permanent(
            "this plugin sends attachments by URL only (uploading the bytes is not done yet); give the attachment a url",
        )
    })?;
    let file = match url.strip_prefix(FILE_SCHEME) {
        Some(file_id) => {
            crate::content::file_ref("parts.attachment.url", file_id)?;
            file_id.to_owned()
        }
        None => {
            validate::http_url("parts.attachment.url", url)?;
            url.to_owned()
        }
    };
    let media_type = attachment.media_type.trim().to_ascii_lowercase();
    let photo = matches!(
        media_type.split(';').next().map(str::trim),
        Some("image/jpeg" | "image/png" | "image/webp")
    );
    let (method, field) = if photo {
        ("sendPhoto", "photo")
    } else {
        ("sendDocument", "document")
    };
    let mut body = json!({ field: file });
    if !caption.is_empty() {
        check_length("caption", caption, MAX_CAPTION_CHARS)?;
        body["caption"] = json!(caption);
    }
    Ok((method, body))
}

fn location_body(location: &Location) -> (&'static str, Value) {
    let mut body = json!({
        "latitude": location.latitude,
        "longitude": location.longitude,
    });
    match (location.name.as_deref(), location.address.as_deref()) {
        (Some(title), Some(address)) if !title.trim().is_empty() && !address.trim().is_empty() => {
            body["title"] = json!(title);
            body["address"] = json!(address);
            ("sendVenue", body)
        }
        _ => ("sendLocation", body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::Identity;

    const TOKEN: &str = "{{placeholder}}";

    fn settings() -> Settings {
        Settings::from_config(|_| None).expect("defaults")
    }

    fn message(parts: Vec<Part>) -> OutboundMessage {
        OutboundMessage {
            channel_account: "acct".into(),
            interaction_id: "01890a5d-ac96-7000-8000-0000000000aa".into(),
            recipient: Identity::new(IdentityKind::Telegram, "123456789"),
            sender: None,
            subject: None,
            parts,
            thread_keys: vec![ThreadKey::ProviderThread("123456789".into())],
            reply_to_provider_message_id: Some("123456789:52".into()),
            reply_to_email: None,
            reply_token: "tok".into(),
        }
    }

    fn rendered(message: &OutboundMessage) -> Result<(HttpRequest, Value)> {
        let TransportRequest::Http(request) = render(message, &settings(), TOKEN)? else {
            panic!("an HTTP request");
        };
        let body = serde_json::from_slice(&request.body).expect("JSON");
        Ok((request, body))
    }

    #[test]
    fn a_reply_is_send_message_with_reply_parameters() {
        let (request, body) =
            rendered(&message(vec![Part::Text("On its way!".into())])).expect("renders");
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.url,
            "https://api.telegram.org/bot{{placeholder}}/sendMessage"
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            body,
            json!({"chat_id": 123456789, "text": "On its way!",
                "reply_parameters": {"message_id": 52, "allow_sending_without_reply": true}})
        );
    }

    #[test]
    fn the_chat_comes_from_the_reply_then_the_thread_then_the_recipient() {
        let mut group = message(vec![Part::Text("Hei".into())]);
        group.thread_keys = vec![
            ThreadKey::ReplyToProviderMessage("x".into()),
            ThreadKey::ProviderThread("-1001234567890".into()),
        ];
        group.reply_to_provider_message_id = Some("-1001234567890:7:edit:1795463960".into());
        let (_, body) = rendered(&group).expect("renders");
        assert_eq!(body["chat_id"], json!(-1_001_234_567_890_i64));
        assert_eq!(body["reply_parameters"]["message_id"], 7);
        assert_eq!(body["reply_parameters"].get("chat_id"), None);

        let mut in_group = message(vec![Part::Text("Hei".into())]);
        in_group.reply_to_provider_message_id = Some("-100:9".into());
        let (_, body) = rendered(&in_group).expect("renders");
        assert_eq!(body["chat_id"], -100);
        assert_eq!(body["reply_parameters"]["message_id"], 9);

        let mut new_in_thread = message(vec![Part::Text("Hei".into())]);
        new_in_thread.reply_to_provider_message_id = None;
        new_in_thread.thread_keys = vec![ThreadKey::ProviderThread("@kahvila_news".into())];
        let (_, body) = rendered(&new_in_thread).expect("renders");
        assert_eq!(body, json!({"chat_id": "@kahvila_news", "text": "Hei"}));

        let mut fresh = message(vec![Part::Text("Hei".into())]);
        fresh.thread_keys.clear();
        fresh.reply_to_provider_message_id = None;
        fresh.recipient = Identity::new(IdentityKind::Telegram, "987654321");
        let (_, body) = rendered(&fresh).expect("renders");
        assert_eq!(body, json!({"chat_id": 987_654_321, "text": "Hei"}));

        fresh.recipient = Identity::email("aino@example.fi");
        let error = rendered(&fresh).unwrap_err();
        assert_eq!(error.kind(), "permanent");
        assert!(error.message().contains("email identity"), "{error:?}");

        let mut foreign = message(vec![Part::Text("Hei".into())]);
        foreign.reply_to_provider_message_id = Some("wamid.X".into());
        assert_eq!(rendered(&foreign).unwrap_err().kind(), "bad-input");
    }

    #[test]
    fn attachments_go_by_url_or_file_id_with_the_caption() {
        let photo = Attachment::from_url("image/png", "https://cdn.example.com/box.png");
        let (request, body) = rendered(&message(vec![
            Part::Text("Your parcel".into()),
            Part::Attachment(photo),
        ]))
        .expect("renders");
        assert!(request.url.ends_with("/sendPhoto"), "{}", request.url);
        assert_eq!(body["photo"], "https://cdn.example.com/box.png");
        assert_eq!(body["caption"], "Your parcel");

        let pdf = Attachment::from_url("application/pdf", "tg-file:BQACAgIAAxkBAAIBZ2")
            .with_filename("invoice.pdf");
        let (request, body) = rendered(&message(vec![Part::Attachment(pdf)])).expect("renders");
        assert!(request.url.ends_with("/sendDocument"), "{}", request.url);
        assert_eq!(body["document"], "BQACAgIAAxkBAAIBZ2");
        assert_eq!(body.get("caption"), None);

        let bytes = Attachment::from_bytes("application/pdf", b"%PDF".to_vec());
        let error = rendered(&message(vec![Part::Attachment(bytes)])).unwrap_err();
        assert_eq!(error.kind(), "permanent");
        assert!(error.message().contains("by URL only"), "{error:?}");
    }

    #[test]
    fn locations_are_send_location_or_send_venue() {
        let at = |name: Option<&str>| {
            Part::Location(Location {
                latitude: 60.1675,
                longitude: 24.9525,
                name: name.map(str::to_owned),
                address: name.map(|_| "Helsinki".to_owned()),
            })
        };
        let (request, body) = rendered(&message(vec![at(None)])).expect("renders");
        assert!(request.url.ends_with("/sendLocation"), "{}", request.url);
        assert_eq!(body["latitude"], 60.1675);
        let (request, body) = rendered(&message(vec![at(Some("Kauppatori"))])).expect("renders");
        assert!(request.url.ends_with("/sendVenue"), "{}", request.url);
        assert_eq!(body["title"], "Kauppatori");
    }

    #[test]
    fn what_telegram_cannot_carry_is_refused_with_a_reason() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        for (parts, kind, reason) in [
            (vec![Part::Text(long)], "permanent", "at most 4096"),
            (vec![], "bad-input", "nothing to send"),
            (
                vec![Part::Html("<p>x</p>".into())],
                "permanent",
                "plain text",
            ),
            (
                vec![Part::Reaction(silta_sdk::types::Reaction {
                    emoji: "👍".into(),
                    provider_message_id: "1:2".into(),
                })],
                "permanent",
                "reaction part",
            ),
            (
                vec![
                    Part::Attachment(Attachment::from_url("image/png", "https://a.test/1.png")),
                    Part::Attachment(Attachment::from_url("image/png", "https://a.test/2.png")),
                ],
                "permanent",
                "2 attachments",
            ),
        ] {
            let error = rendered(&message(parts)).unwrap_err();
            assert_eq!(error.kind(), kind, "{error:?}");
            assert!(error.message().contains(reason), "{error:?}");
        }
    }

    #[test]
    fn settings_check_the_api_url() {
        let custom = Settings::from_config(|_| Some("http://127.0.0.1:8081/".into())).expect("ok");
        assert_eq!(
            custom.method_url("T", "sendMessage"),
            "http://127.0.0.1:8081/botT/sendMessage"
        );
        let error = Settings::from_config(|_| Some("api.telegram.org".into())).unwrap_err();
        assert_eq!(error.kind(), "permanent");
        assert!(error.message().contains("api_url"), "{error:?}");
    }

    #[test]
    fn provider_message_ids_parse_back() {
        assert_eq!(parse_provider_message_id("-100:5"), Some((-100, 5)));
        assert_eq!(parse_provider_message_id("1:2:edit:3"), Some((1, 2)));
        for bad in ["", "1", "1:x", "1:2:3", "1:2:edit:x", "1:2:edit:3:4"] {
            assert_eq!(parse_provider_message_id(bad), None, "{bad}");
        }
    }
}
