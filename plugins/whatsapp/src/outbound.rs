//! Outbound: an [`OutboundMessage`] → `POST {graph_url}/{api_version}/
//! {phone_number_id}/messages` with the Cloud API's JSON body. Pure: the
//! window mark, the clock and the token's header value are passed in, so
//! tests run natively.

use silta_meta_webhook::graph_api;
use silta_sdk::config;
use silta_sdk::types::{
    HttpRequest, IdentityKind, OutboundMessage, PluginError, Template, Timestamp, TransportRequest,
};

use crate::compose;
use crate::window::{self, Window};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Config key: the Graph id of our business phone number (required).
pub const PHONE_NUMBER_ID_KEY: &str = "phone_number_id";
pub use silta_meta_webhook::graph_api::{
    API_VERSION_KEY, DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, GRAPH_URL_KEY,
};

/// The operator's settings for sending, read once per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The Graph id of our business phone number.
    pub phone_number_id: String,
    /// The Graph API origin, without a trailing `/`.
    pub graph_url: String,
    /// `vNN.N`.
    pub api_version: String,
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
        let phone_number_id =
            value(PHONE_NUMBER_ID_KEY).ok_or_else(|| config::missing(PHONE_NUMBER_ID_KEY))?;
        if !phone_number_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PluginError::permanent(format!(
                "config key `{PHONE_NUMBER_ID_KEY}` must be the Graph id of the phone number (digits, from WhatsApp Manager > API Setup), got {phone_number_id:?}"
            )));
        }
        let (graph_url, api_version) = graph_api::endpoint(value)?;
        Ok(Self {
            phone_number_id,
            graph_url,
            api_version,
        })
    }

    /// Where messages are posted.
    #[must_use]
    pub fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.graph_url, self.api_version, self.phone_number_id
        )
    }
}

/// The request that sends `message`.
///
/// `authorization` is the header value (`Bearer <placeholder>`, which the
/// host fills with the access token); `last_inbound` gives the customer's
/// last message to our number (see [`window`]) and is asked only for a
/// free-form message; `now` is the wall clock.
pub fn render(
    message: &OutboundMessage,
    settings: &Settings,
    authorization: &str,
    last_inbound: impl FnOnce(&str) -> Result<Option<Timestamp>>,
    now: Timestamp,
) -> Result<TransportRequest> {
    let to = recipient(message)?;
    let content = compose::content(&message.parts)?;
    if !matches!(content, compose::Content::Template(_)) {
        let window = window::status(last_inbound(&to)?, now);
        if let Window::Closed { last_inbound } = window {
            return Err(window_closed(last_inbound));
        }
    }
    let mut body = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        // Echoed back in the status webhooks of this message.
        "biz_opaque_callback_data": message.interaction_id,
    });
    let (kind, value) = content.into_json();
    body[kind] = value;
    body["type"] = kind.into();
    if kind != "reaction"
        && let Some(replied) = message
            .reply_to_provider_message_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())
    {
        body["context"] = serde_json::json!({ "message_id": replied });
    }
    Ok(TransportRequest::Http(
        HttpRequest::post(settings.messages_url())
            .with_header("content-type", "application/json")
            .with_header("authorization", authorization)
            .with_body(body.to_string().into_bytes()),
    ))
}

/// The recipient's wa_id: a WhatsApp id or a phone number, digits only.
fn recipient(message: &OutboundMessage) -> Result<String> {
    let recipient = &message.recipient;
    if !matches!(recipient.kind, IdentityKind::Whatsapp | IdentityKind::Phone) {
        return Err(PluginError::permanent(format!(
            "the recipient is a {} identity; WhatsApp sends to a whatsapp id or a phone number",
            recipient.kind.name()
        )));
    }
    let digits: String = recipient
        .value
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')'))
        .collect();
    if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PluginError::bad_input(format!(
            "recipient.value: {:?} is not an international phone number",
            recipient.value
        )));
    }
    Ok(digits)
}

fn window_closed(last_inbound: Option<u64>) -> PluginError {
    let since = match last_inbound.and_then(|seconds| {
        silta_sdk::time::to_rfc3339(&Timestamp {
            seconds,
            nanoseconds: 0,
        })
    }) {
        Some(at) => format!("the customer last wrote at {at}, more than 24 hours ago"),
        None => "the customer has not written to this number".to_owned(),
    };
    PluginError::permanent(format!(
        "the WhatsApp 24-hour customer service window is closed ({since}): only an approved template can be sent; send a template part, or wait for the customer to write"
    ))
}

/// A template's name and language as the Cloud API writes them.
#[must_use]
pub fn template_json(template: &Template) -> serde_json::Value {
    let mut value = serde_json::json!({
        "name": template.name,
        // BCP 47 `en-US` is WhatsApp's `en_US`.
        "language": { "code": template.language.replace('-', "_") },
    });
    if !template.parameters.is_empty() {
        let parameters: Vec<_> = template
            .parameters
            .iter()
            .map(|text| serde_json::json!({ "type": "text", "text": text }))
            .collect();
        value["components"] = serde_json::json!([{ "type": "body", "parameters": parameters }]);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::tests::at;
    use serde_json::{Value, json};
    use silta_sdk::types::{Identity, Part, ThreadKey};

    const NOW: u64 = 1_795_464_000;

    fn settings() -> Settings {
        Settings::from_config(|key| (key == PHONE_NUMBER_ID_KEY).then(|| "106540352242922".into()))
            .expect("settings")
    }

    fn message(parts: Vec<Part>) -> OutboundMessage {
        OutboundMessage {
            channel_account: "acct".into(),
            interaction_id: "01890a5d-ac96-7000-8000-0000000000aa".into(),
            recipient: Identity::new(IdentityKind::Whatsapp, "+358401234567"),
            sender: None,
            subject: None,
            parts,
            thread_keys: vec![ThreadKey::ProviderThread(
                "106540352242922:358401234567".into(),
            )],
            reply_to_provider_message_id: Some("wamid.IN".into()),
            reply_to_email: None,
            reply_token: "tok".into(),
        }
    }

    fn rendered(message: &OutboundMessage, last: Option<u64>) -> Result<(HttpRequest, Value)> {
        let request = render(
            message,
            &settings(),
            "Bearer {placeholder}",
            |wa_id| {
                assert_eq!(wa_id, "358401234567");
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

    #[test]
    fn a_reply_inside_the_window_is_free_form_text() {
        let (request, body) = rendered(
            &message(vec![Part::Text("On its way!".into())]),
            Some(NOW - 3_600),
        )
        .expect("renders");
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.url,
            "https://graph.facebook.com/v21.0/106540352242922/messages"
        );
        assert_eq!(
            request.header("authorization"),
            Some("Bearer {placeholder}")
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            body,
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "358401234567",
                "biz_opaque_callback_data": "01890a5d-ac96-7000-8000-0000000000aa",
                "type": "text",
                "text": {"body": "On its way!", "preview_url": false},
                "context": {"message_id": "wamid.IN"},
            })
        );
    }

    #[test]
    fn outside_the_window_only_a_template_goes() {
        let text = message(vec![Part::Text("Hello again".into())]);
        for last in [None, Some(NOW - window::WINDOW_SECONDS)] {
            let error = rendered(&text, last).unwrap_err();
            assert_eq!(error.kind(), "permanent");
            assert!(error.message().contains("window is closed"), "{error:?}");
            assert!(error.message().contains("template"), "{error:?}");
        }
        let template = message(vec![Part::Template(Template {
            name: "order_update".into(),
            language: "en-US".into(),
            parameters: vec!["Aino".into(), "1234".into()],
        })]);
        let (_, body) = render(
            &template,
            &settings(),
            "Bearer x",
            |_| panic!("a template needs no window"),
            at(NOW),
        )
        .map(|request| match request {
            TransportRequest::Http(request) => {
                let body: Value = serde_json::from_slice(&request.body).expect("JSON");
                (request, body)
            }
            TransportRequest::Email(_) => panic!("HTTP"),
        })
        .expect("renders");
        assert_eq!(body["type"], "template");
        assert_eq!(
            body["template"],
            json!({
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": [
                    {"type": "text", "text": "Aino"}, {"type": "text", "text": "1234"}]}],
            })
        );
    }

    #[test]
    fn settings_are_checked_with_the_key_to_fix() {
        let missing = Settings::from_config(|_| None).unwrap_err();
        assert_eq!(missing.kind(), "permanent");
        assert!(missing.message().contains("phone_number_id"), "{missing:?}");
        let custom = Settings::from_config(|key| match key {
            PHONE_NUMBER_ID_KEY => Some("42".into()),
            GRAPH_URL_KEY => Some("http://127.0.0.1:8080/".into()),
            API_VERSION_KEY => Some("v22.0".into()),
            _ => None,
        })
        .expect("settings");
        assert_eq!(
            custom.messages_url(),
            "http://127.0.0.1:8080/v22.0/42/messages"
        );
        for (key, value, reason) in [
            (PHONE_NUMBER_ID_KEY, "+1555", "digits"),
            (GRAPH_URL_KEY, "graph.facebook.com", "graph_url"),
            (API_VERSION_KEY, "21", "api_version"),
        ] {
            let error = Settings::from_config(|k| {
                if k == key {
                    Some(value.into())
                } else {
                    (k == PHONE_NUMBER_ID_KEY).then(|| "42".into())
                }
            })
            .unwrap_err();
            assert!(error.message().contains(reason), "{key}: {error:?}");
        }
    }

    #[test]
    fn the_recipient_must_be_a_number() {
        let mut email = message(vec![Part::Text("x".into())]);
        email.recipient = Identity::email("aino@example.fi");
        let error = rendered(&email, Some(NOW)).unwrap_err();
        assert!(error.message().contains("email identity"), "{error:?}");
    }
}
