//! Outbound: an [`OutboundMessage`] → one REST API call, `POST
//! {api_url}/2010-04-01/Accounts/{account_sid}/Messages.json` with a form
//! body (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>).
//! Pure: the `authorization` header value is passed in, so tests run
//! natively.
//!
//! | form field | from |
//! |------------|------|
//! | `To` | the recipient's phone number, else the customer's half of the conversation's `<To>:<From>` provider-thread key |
//! | `From` | config `from` (an E.164 number of ours) |
//! | `MessagingServiceSid` | config `messaging_service_sid` (`MG…`); with both, Twilio sends from `from` when it is in the service's sender pool |
//! | `Body` | the text parts, joined by a blank line (at most 1600 characters) |
//! | `MediaUrl` | each attachment's `https` URL (at most 10; Twilio fetches them) |
//! | `StatusCallback` | config `status_callback_url`, when set |
//!
//! The request is authenticated with HTTP Basic, the account SID as the
//! user and the auth token as the password: the plugin puts the secret's
//! Basic placeholder in `authorization` and the host fills in
//! `Basic base64(sid:token)` as the request leaves, only towards an
//! allowed origin.

use silta_sdk::types::{
    HttpRequest, IdentityKind, OutboundMessage, Part, PluginError, ThreadKey, TransportRequest,
};
use silta_sdk::validate;

use crate::payload::is_sid;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Config key: the REST API origin.
pub const API_URL_KEY: &str = "api_url";
/// Where the REST API is unless `api_url` says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.twilio.com";
/// Config key: the account SID (`AC` + 32 hex digits).
pub const ACCOUNT_SID_KEY: &str = "account_sid";
/// Config key: the E.164 number messages are sent from.
pub const FROM_KEY: &str = "from";
/// Config key: the Messaging Service (`MG…`) messages are sent through.
pub const MESSAGING_SERVICE_SID_KEY: &str = "messaging_service_sid";
/// Config key: the full URL Twilio posts status callbacks to (usually
/// this channel account's `https://<silta>/v1/ingest/<name>`).
pub const STATUS_CALLBACK_URL_KEY: &str = "status_callback_url";
/// Most characters of a `Body`.
pub const MAX_BODY_CHARS: usize = 1600;
/// Most `MediaUrl`s of one message.
pub const MAX_MEDIA_URLS: usize = 10;

/// The operator's settings for sending, read once per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The REST API origin, without a trailing `/`.
    pub api_url: String,
    /// The account the messages are sent from.
    pub account_sid: String,
    /// Our sending number, E.164.
    pub from: Option<String>,
    /// The Messaging Service to send through.
    pub messaging_service_sid: Option<String>,
    /// Where Twilio posts status callbacks.
    pub status_callback_url: Option<String>,
}

// === impl Settings ===

impl Settings {
    /// Reads and checks the settings from `get` (the `config` capability);
    /// a missing or wrong value is `permanent`, naming the key to fix.
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let read = |key: &str| {
            get(key)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let api_url = read(API_URL_KEY)
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
            .trim_end_matches('/')
            .to_owned();
        validate::http_url(API_URL_KEY, &api_url)
            .map_err(|error| PluginError::permanent(format!("config key {}", error.message())))?;
        let account_sid = read(ACCOUNT_SID_KEY).ok_or_else(|| {
            PluginError::permanent(format!(
                "config key `{ACCOUNT_SID_KEY}` is not set: give the Twilio Account SID (AC followed by 32 hex digits)"
            ))
        })?;
        if !is_sid(&account_sid, &["AC"]) {
            return Err(PluginError::permanent(format!(
                "config key `{ACCOUNT_SID_KEY}` must be AC followed by 32 hex digits, got {account_sid:?}"
            )));
        }
        let from = read(FROM_KEY);
        if let Some(from) = &from {
            let digits = from.strip_prefix('+').unwrap_or_default();
            if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(PluginError::permanent(format!(
                    "config key `{FROM_KEY}` must be an E.164 number such as +14158675309, got {from:?}"
                )));
            }
        }
        let messaging_service_sid = read(MESSAGING_SERVICE_SID_KEY);
        if let Some(sid) = &messaging_service_sid
            && !is_sid(sid, &["MG"])
        {
            return Err(PluginError::permanent(format!(
                "config key `{MESSAGING_SERVICE_SID_KEY}` must be MG followed by 32 hex digits, got {sid:?}"
            )));
        }
        if from.is_none() && messaging_service_sid.is_none() {
            return Err(PluginError::permanent(format!(
                "set config key `{FROM_KEY}` (an E.164 number of the account) or `{MESSAGING_SERVICE_SID_KEY}` (MG…): Twilio needs a sender"
            )));
        }
        let status_callback_url = read(STATUS_CALLBACK_URL_KEY);
        if let Some(url) = &status_callback_url {
            validate::http_url(STATUS_CALLBACK_URL_KEY, url).map_err(|error| {
                PluginError::permanent(format!("config key {}", error.message()))
            })?;
        }
        Ok(Self {
            api_url,
            account_sid,
            from,
            messaging_service_sid,
            status_callback_url,
        })
    }

    /// The Messages resource of the account.
    #[must_use]
    pub fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_url, self.account_sid
        )
    }
}

/// The request that sends `message`; `authorization` is the whole header
/// value (the auth token's Basic placeholder).
pub fn render(
    message: &OutboundMessage,
    settings: &Settings,
    authorization: &str,
) -> Result<TransportRequest> {
    let to = recipient(message)?;
    let (body, media) = content(&message.parts)?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("To", &to);
    if let Some(from) = &settings.from {
        form.append_pair("From", from);
    }
    if let Some(sid) = &settings.messaging_service_sid {
        form.append_pair("MessagingServiceSid", sid);
    }
    if !body.is_empty() {
        form.append_pair("Body", &body);
    }
    for url in media {
        form.append_pair("MediaUrl", url);
    }
    if let Some(url) = &settings.status_callback_url {
        form.append_pair("StatusCallback", url);
    }
    Ok(TransportRequest::Http(
        HttpRequest::post(settings.messages_url())
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_header("accept", "application/json")
            .with_header("authorization", authorization)
            .with_body(form.finish().into_bytes()),
    ))
}

/// The customer's number: the recipient's phone, else the second half of
/// the `<To>:<From>` thread key an inbound message gave the conversation.
fn recipient(message: &OutboundMessage) -> Result<String> {
    let recipient = &message.recipient;
    if recipient.kind == IdentityKind::Phone {
        let number = recipient.value.trim();
        if !e164(number) {
            return Err(PluginError::bad_input(format!(
                "recipient.value: {number:?} is not an E.164 phone number"
            )));
        }
        return Ok(number.to_owned());
    }
    let from_thread = message.thread_keys.iter().find_map(|key| match key {
        ThreadKey::ProviderThread(key) => key
            .split_once(':')
            .map(|(_, theirs)| theirs)
            .filter(|theirs| e164(theirs)),
        _ => None,
    });
    from_thread.map(str::to_owned).ok_or_else(|| {
        PluginError::permanent(format!(
            "the recipient is a {} identity and the conversation has no SMS thread; Twilio sends to a phone number",
            recipient.kind.name()
        ))
    })
}

fn e164(raw: &str) -> bool {
    let digits = raw.strip_prefix('+').unwrap_or_default();
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The `Body` and the `MediaUrl`s.
fn content(parts: &[Part]) -> Result<(String, Vec<&str>)> {
    let mut texts = Vec::new();
    let mut html = false;
    let mut media = Vec::new();
    for part in parts {
        match part {
            Part::Text(text) if !text.trim().is_empty() => texts.push(text.as_str()),
            Part::Text(_) | Part::Quoted(_) => {}
            Part::Html(_) => html = true,
            Part::Attachment(attachment) => {
                let url = attachment.url.as_deref().map(str::trim).ok_or_else(|| {
                    PluginError::permanent(
                        "this plugin sends attachments by URL only (Twilio fetches MediaUrl itself); give the attachment an https url",
                    )
                })?;
                if !url.starts_with("https://") {
                    return Err(PluginError::permanent(format!(
                        "attachment url {url:?} must be https: Twilio fetches media from a public https URL"
                    )));
                }
                validate::http_url("parts.attachment.url", url)?;
                media.push(url);
            }
            Part::Location(_) | Part::Interactive(_) | Part::Template(_) | Part::Reaction(_) => {
                return Err(PluginError::permanent(format!(
                    "SMS cannot carry a {} part (this plugin sends text and media by URL)",
                    part_name(part)
                )));
            }
        }
    }
    let body = texts.join("\n\n");
    if body.is_empty() && media.is_empty() {
        return Err(if html {
            PluginError::permanent(
                "SMS is plain text; give the message a text part beside the HTML",
            )
        } else {
            PluginError::bad_input("parts: the message has nothing to send (no text or media)")
        });
    }
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(PluginError::permanent(format!(
            "the text is {chars} characters; Twilio takes at most {MAX_BODY_CHARS} in one message"
        )));
    }
    if media.len() > MAX_MEDIA_URLS {
        return Err(PluginError::permanent(format!(
            "the message has {} attachments; Twilio takes at most {MAX_MEDIA_URLS}",
            media.len()
        )));
    }
    Ok((body, media))
}

fn part_name(part: &Part) -> &'static str {
    match part {
        Part::Location(_) => "location",
        Part::Interactive(_) => "interactive",
        Part::Template(_) => "template",
        Part::Reaction(_) => "reaction",
        _ => "such",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{Attachment, Identity, Location};

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const AUTH: &str = "{{placeholder}}";

    fn config(key: &str) -> Option<String> {
        match key {
            ACCOUNT_SID_KEY => Some(ACCOUNT.into()),
            FROM_KEY => Some("+14158675309".into()),
            _ => None,
        }
    }

    fn message(parts: Vec<Part>) -> OutboundMessage {
        OutboundMessage {
            channel_account: "acct".into(),
            interaction_id: "01890a5d-ac96-7000-8000-0000000000aa".into(),
            recipient: Identity::phone("+358401234567"),
            sender: None,
            subject: None,
            parts,
            thread_keys: vec![ThreadKey::ProviderThread(
                "+14158675309:+358401234567".into(),
            )],
            reply_to_provider_message_id: None,
            reply_to_email: None,
            reply_token: "tok".into(),
        }
    }

    fn rendered(
        message: &OutboundMessage,
        settings: &Settings,
    ) -> Result<(HttpRequest, Vec<(String, String)>)> {
        let TransportRequest::Http(request) = render(message, settings, AUTH)? else {
            panic!("an HTTP request");
        };
        let form = form_urlencoded::parse(&request.body).into_owned().collect();
        Ok((request, form))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_text_is_a_form_post_to_the_messages_resource() {
        let settings = Settings::from_config(config).expect("settings");
        let (request, form) =
            rendered(&message(vec![Part::Text("Hei Aino! 😀".into())]), &settings)
                .expect("renders");
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.url,
            format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(request.header("authorization"), Some(AUTH));
        assert_eq!(
            form,
            pairs(&[
                ("To", "+358401234567"),
                ("From", "+14158675309"),
                ("Body", "Hei Aino! 😀")
            ])
        );
    }

    #[test]
    fn media_service_and_status_callback() {
        let settings = Settings::from_config(|key| match key {
            ACCOUNT_SID_KEY => Some(ACCOUNT.into()),
            MESSAGING_SERVICE_SID_KEY => Some(format!("MG{}", "0".repeat(32))),
            STATUS_CALLBACK_URL_KEY => Some("https://silta.example.com/v1/ingest/sms".into()),
            API_URL_KEY => Some("http://127.0.0.1:9/".into()),
            _ => None,
        })
        .expect("settings");
        let mut to_thread = message(vec![
            Part::Attachment(Attachment::from_url(
                "image/png",
                "https://cdn.example.com/a.png",
            )),
            Part::Attachment(Attachment::from_url(
                "application/pdf",
                "https://cdn.example.com/b.pdf",
            )),
        ]);
        to_thread.recipient = Identity::email("aino@example.fi");
        let (request, form) = rendered(&to_thread, &settings).expect("renders");
        assert!(
            request.url.starts_with("http://127.0.0.1:9/2010-04-01/"),
            "{}",
            request.url
        );
        assert_eq!(
            form,
            pairs(&[
                ("To", "+358401234567"),
                ("MessagingServiceSid", &format!("MG{}", "0".repeat(32))),
                ("MediaUrl", "https://cdn.example.com/a.png"),
                ("MediaUrl", "https://cdn.example.com/b.pdf"),
                ("StatusCallback", "https://silta.example.com/v1/ingest/sms"),
            ])
        );
    }

    #[test]
    fn what_sms_cannot_carry_is_refused_with_a_reason() {
        let settings = Settings::from_config(config).expect("settings");
        for (parts, kind, reason) in [
            (
                vec![Part::Text("x".repeat(1601))],
                "permanent",
                "at most 1600",
            ),
            (vec![], "bad-input", "nothing to send"),
            (
                vec![Part::Html("<p>x</p>".into())],
                "permanent",
                "plain text",
            ),
            (
                vec![Part::Location(Location {
                    latitude: 60.0,
                    longitude: 24.0,
                    name: None,
                    address: None,
                })],
                "permanent",
                "location part",
            ),
            (
                vec![Part::Attachment(Attachment::from_bytes(
                    "image/png",
                    vec![1],
                ))],
                "permanent",
                "by URL only",
            ),
            (
                vec![Part::Attachment(Attachment::from_url(
                    "image/png",
                    "http://a.test/1.png",
                ))],
                "permanent",
                "must be https",
            ),
        ] {
            let error = rendered(&message(parts), &settings).unwrap_err();
            assert_eq!(error.kind(), kind, "{error:?}");
            assert!(error.message().contains(reason), "{error:?}");
        }
        let mut nobody = message(vec![Part::Text("x".into())]);
        nobody.recipient = Identity::email("aino@example.fi");
        nobody.thread_keys.clear();
        let error = rendered(&nobody, &settings).unwrap_err();
        assert!(error.message().contains("email identity"), "{error:?}");
    }

    #[test]
    fn settings_name_the_key_to_fix() {
        for (key, value, reason) in [
            (ACCOUNT_SID_KEY, "", "`account_sid` is not set"),
            (ACCOUNT_SID_KEY, "AC123", "`account_sid` must be"),
            (FROM_KEY, "", "Twilio needs a sender"),
            (FROM_KEY, "4158675309", "`from` must be"),
            (
                MESSAGING_SERVICE_SID_KEY,
                "MGx",
                "`messaging_service_sid` must be",
            ),
            (API_URL_KEY, "api.twilio.com", "api_url"),
            (STATUS_CALLBACK_URL_KEY, "silta/cb", "status_callback_url"),
        ] {
            let error = Settings::from_config(|k| {
                if k == key {
                    Some(value.to_owned())
                } else {
                    config(k)
                }
            })
            .unwrap_err();
            assert_eq!(error.kind(), "permanent", "{key}");
            assert!(error.message().contains(reason), "{key}: {error:?}");
        }
    }
}
