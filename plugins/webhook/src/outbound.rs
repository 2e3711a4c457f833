//! Outbound: an [`OutboundMessage`] → a signed JSON `POST` to the
//! configured endpoint, and the endpoint's answer → a delivery outcome.
//! Pure functions; the signer is passed in so tests can run natively.

use serde_json::{Value, json};
use silta_sdk::types::{
    DeliveryOutcome, HttpRequest, HttpResponse, OutboundMessage, Part, PluginError, ThreadKey,
    TransportRequest, TransportResponse,
};
use silta_sdk::{config, validate};

use crate::{kinds, signature};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// The config key naming where messages are posted.
pub const ENDPOINT_KEY: &str = "endpoint";

/// The header carrying the interaction id, for the receiver to drop
/// repeats (the host retries).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Most bytes of an error response kept as the outcome's detail.
const MAX_DETAIL_BYTES: usize = 256;

/// The request that delivers `message` to `endpoint` (the config value),
/// signed with `sign` (see [`signature::sign`]).
pub fn render(
    message: &OutboundMessage,
    endpoint: Option<&str>,
    sign: impl FnOnce(&[u8]) -> Result<String>,
) -> Result<TransportRequest> {
    let endpoint = endpoint
        .map(str::trim)
        .filter(|endpoint| !endpoint.is_empty())
        .ok_or_else(|| config::missing(ENDPOINT_KEY))?;
    validate::http_url(ENDPOINT_KEY, endpoint)
        .map_err(|error| PluginError::permanent(format!("config key {}", error.message())))?;
    let body = body(message)?.to_string().into_bytes();
    let signature = sign(&body)?;
    Ok(TransportRequest::Http(
        HttpRequest::post(endpoint)
            .with_header("content-type", "application/json")
            .with_header(IDEMPOTENCY_HEADER, message.interaction_id.as_str())
            .with_header(signature::HEADER, signature)
            .with_body(body),
    ))
}

/// The JSON body: text parts joined by blank lines, attachments by URL.
fn body(message: &OutboundMessage) -> Result<Value> {
    let mut texts = Vec::new();
    let mut attachments = Vec::new();
    for (n, part) in message.parts.iter().enumerate() {
        match part {
            Part::Text(text) => texts.push(text.as_str()),
            // Earlier history the receiving system already has.
            Part::Quoted(_) => {}
            Part::Attachment(attachment) => {
                let url = attachment.url.as_deref().ok_or_else(|| {
                    PluginError::permanent(format!(
                        "parts[{n}] is an attachment without a url; the webhook channel sends attachments by URL"
                    ))
                })?;
                attachments.push(json!({
                    "url": url,
                    "media_type": attachment.media_type,
                    "filename": attachment.filename,
                    "size_bytes": attachment.size_bytes,
                }));
            }
            Part::Html(_)
            | Part::Location(_)
            | Part::Interactive(_)
            | Part::Template(_)
            | Part::Reaction(_) => {
                return Err(PluginError::permanent(format!(
                    "parts[{n}] is a {} part; the webhook channel sends text and attachments only",
                    part_name(part)
                )));
            }
        }
    }
    if texts.is_empty() && attachments.is_empty() {
        return Err(PluginError::bad_input(
            "the message has nothing to send: no text and no attachments",
        ));
    }
    let thread_id = message.thread_keys.iter().find_map(|key| match key {
        ThreadKey::ProviderThread(thread) => Some(thread.as_str()),
        _ => None,
    });
    Ok(json!({
        "interaction_id": message.interaction_id,
        "to": {
            "kind": kinds::name(&message.recipient.kind),
            "value": message.recipient.value,
        },
        "text": (!texts.is_empty()).then(|| texts.join("\n\n")),
        "thread_id": thread_id,
        "reply_to": message.reply_to_provider_message_id,
        "attachments": attachments,
    }))
}

fn part_name(part: &Part) -> &'static str {
    match part {
        Part::Text(_) => "text",
        Part::Html(_) => "html",
        Part::Quoted(_) => "quoted",
        Part::Attachment(_) => "attachment",
        Part::Location(_) => "location",
        Part::Interactive(_) => "interactive",
        Part::Template(_) => "template",
        Part::Reaction(_) => "reaction",
    }
}

/// 2xx is `sent`, under the id the endpoint answered with (`{"id": ...}`)
/// or else the interaction id we sent; 408, 429 and 5xx are retryable
/// (honouring `retry-after` seconds); other 4xx are `failed` with the
/// status as the provider code; a redirect is a configuration problem.
pub fn interpret_response(
    request: &TransportRequest,
    response: &TransportResponse,
) -> Result<DeliveryOutcome> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::permanent(
            "the webhook channel sends HTTP requests, but the transport answered with SMTP",
        ));
    };
    match response.status {
        200..=299 => Ok(DeliveryOutcome::sent(
            response_id(response).or_else(|| sent_interaction_id(request)),
        )),
        408 | 429 | 500..=599 => Err(PluginError::retryable_after(
            format!("the endpoint answered {}", response.status),
            response.retry_after(),
        )),
        300..=399 => Err(PluginError::permanent(format!(
            "the endpoint answered {} (a redirect to {}); set config key `{ENDPOINT_KEY}` to the final URL",
            response.status,
            response.header("location").unwrap_or("nowhere")
        ))),
        400..=499 => {
            let failed = DeliveryOutcome::failed(response.status.to_string());
            Ok(match detail(&response.body) {
                Some(detail) => failed.with_detail(detail),
                None => failed,
            })
        }
        other => Err(PluginError::permanent(format!(
            "the endpoint answered with unexpected status {other}"
        ))),
    }
}

/// The `"id"` of a JSON response body, a string or a number.
fn response_id(response: &HttpResponse) -> Option<String> {
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    match body.get("id")? {
        Value::String(id) if !id.trim().is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// The interaction id [`render`] put into the request.
fn sent_interaction_id(request: &TransportRequest) -> Option<String> {
    match request {
        TransportRequest::Http(request) => request.header(IDEMPOTENCY_HEADER).map(str::to_owned),
        TransportRequest::Email(_) => None,
    }
}

/// The start of an error body, as text, for the agent to read.
fn detail(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut end = text.len().min(MAX_DETAIL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{Attachment, DeliveryState, Identity, IdentityKind, RetryableError};

    fn message(parts: Vec<Part>) -> OutboundMessage {
        OutboundMessage {
            channel_account: "acct".into(),
            interaction_id: "01890a5d-ac96-7000-8000-0000000000aa".into(),
            recipient: Identity::new(IdentityKind::Custom("shop_user".into()), "u-17"),
            sender: None,
            subject: None,
            parts,
            thread_keys: vec![
                ThreadKey::ReplyToken("tok".into()),
                ThreadKey::ProviderThread("t-9".into()),
            ],
            reply_to_provider_message_id: Some("m-3".into()),
            reply_to_email: None,
            reply_token: "tok".into(),
        }
    }

    fn fake_sign(body: &[u8]) -> Result<String> {
        Ok(format!("sha256=len{}", body.len()))
    }

    fn http(request: &TransportRequest) -> &HttpRequest {
        match request {
            TransportRequest::Http(request) => request,
            TransportRequest::Email(_) => panic!("an HTTP request"),
        }
    }

    #[test]
    fn renders_a_signed_post() {
        let parts = vec![
            Part::Text("Hello".into()),
            Part::Quoted("> earlier".into()),
            Part::Text("Bye".into()),
            Part::Attachment(
                Attachment::from_url("image/png", "https://cdn.example.test/a.png")
                    .with_filename("a.png"),
            ),
        ];
        let request = render(
            &message(parts),
            Some("https://hooks.example.test/in"),
            fake_sign,
        )
        .expect("renders");
        let request = http(&request);
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "https://hooks.example.test/in");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.header("idempotency-key"),
            Some("01890a5d-ac96-7000-8000-0000000000aa")
        );
        let expected_signature = format!("sha256=len{}", request.body.len());
        assert_eq!(
            request.header("x-silta-signature"),
            Some(expected_signature.as_str())
        );
        let body: Value = serde_json::from_slice(&request.body).expect("JSON");
        assert_eq!(
            body,
            json!({
                "interaction_id": "01890a5d-ac96-7000-8000-0000000000aa",
                "to": {"kind": "custom:shop_user", "value": "u-17"},
                "text": "Hello\n\nBye",
                "thread_id": "t-9",
                "reply_to": "m-3",
                "attachments": [{
                    "url": "https://cdn.example.test/a.png",
                    "media_type": "image/png",
                    "filename": "a.png",
                    "size_bytes": null,
                }],
            })
        );
    }

    #[test]
    fn render_refuses_what_it_cannot_send() {
        let text = || vec![Part::Text("x".into())];
        let missing = render(&message(text()), None, fake_sign).unwrap_err();
        assert_eq!(missing.kind(), "permanent");
        assert!(missing.message().contains("`endpoint`"), "{missing:?}");
        let relative = render(&message(text()), Some("hooks/in"), fake_sign).unwrap_err();
        assert!(
            relative.message().starts_with("config key endpoint:"),
            "{relative:?}"
        );
        let html = render(
            &message(vec![Part::Html("<b>x</b>".into())]),
            Some("https://h.test"),
            fake_sign,
        );
        assert!(
            html.unwrap_err()
                .message()
                .contains("parts[0] is a html part")
        );
        let inline = Part::Attachment(Attachment::from_bytes("text/plain", b"x".to_vec()));
        let inline = render(&message(vec![inline]), Some("https://h.test"), fake_sign).unwrap_err();
        assert!(inline.message().contains("without a url"), "{inline:?}");
        let empty = render(&message(Vec::new()), Some("https://h.test"), fake_sign).unwrap_err();
        assert_eq!(empty.kind(), "bad-input");
        let unsigned = render(&message(text()), Some("https://h.test"), |_| {
            Err(PluginError::permanent("no key"))
        });
        assert_eq!(unsigned.unwrap_err(), PluginError::permanent("no key"));
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> TransportResponse {
        TransportResponse::Http(HttpResponse::new(status, headers, body))
    }

    #[test]
    fn interprets_answers() {
        let request = render(
            &message(vec![Part::Text("x".into())]),
            Some("https://h.test"),
            fake_sign,
        )
        .expect("renders");
        let sent = interpret_response(&request, &answer(201, &[], r#"{"id": "p-1"}"#));
        assert_eq!(sent, Ok(DeliveryOutcome::sent(Some("p-1".into()))));
        let numbered = interpret_response(&request, &answer(200, &[], r#"{"id": 77}"#));
        assert_eq!(
            numbered.expect("sent").provider_message_id.as_deref(),
            Some("77")
        );
        let anonymous = interpret_response(&request, &answer(202, &[], "accepted"));
        assert_eq!(
            anonymous.expect("sent").provider_message_id.as_deref(),
            Some("01890a5d-ac96-7000-8000-0000000000aa")
        );
        for status in [408, 429, 500, 503] {
            let error = interpret_response(&request, &answer(status, &[("retry-after", "3")], ""));
            assert_eq!(
                error,
                Err(PluginError::Retryable(RetryableError {
                    message: format!("the endpoint answered {status}"),
                    retry_after_ms: Some(3000),
                }))
            );
        }
        let failed =
            interpret_response(&request, &answer(422, &[], " unknown recipient ")).expect("failed");
        assert_eq!(failed.state, DeliveryState::Failed);
        assert_eq!(failed.provider_code.as_deref(), Some("422"));
        assert_eq!(failed.detail.as_deref(), Some("unknown recipient"));
        let moved = interpret_response(
            &request,
            &answer(301, &[("location", "https://n.test")], ""),
        );
        assert!(moved.unwrap_err().message().contains("https://n.test"));
        let smtp = TransportResponse::Smtp(silta_sdk::types::SmtpReply {
            code: 250,
            text: "ok".into(),
        });
        assert_eq!(
            interpret_response(&request, &smtp).unwrap_err().kind(),
            "permanent"
        );
    }

    #[test]
    fn details_are_cut_on_a_character_boundary() {
        let long = "ä".repeat(200);
        let cut = detail(long.as_bytes()).expect("text");
        assert!(cut.len() <= MAX_DETAIL_BYTES);
        assert!(cut.chars().all(|c| c == 'ä'));
        assert_eq!(detail(b"  "), None);
    }
}
