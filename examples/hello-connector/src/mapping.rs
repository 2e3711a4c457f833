//! The pure half of plugin `hello`: payloads to interactions, messages to
//! requests, answers to outcomes.
//!
//! Nothing here calls the host, so all of it runs natively under
//! `cargo test`. The host-bound half (the signing key, the `endpoint`
//! setting) lives in `lib.rs` and is handed in: [`render`] takes the signer
//! as a closure.
//!
//! Inbound, a system POSTs one greeting per request:
//!
//! ```json
//! {"id": "hello-1", "from": "aino@example.fi", "name": "Aino",
//!  "text": "Hello there!", "sent_at": "2026-11-23T20:54:41Z"}
//! ```
//!
//! signed with `x-hello-signature: <hex HMAC-SHA256 of the raw body>`.
//! Outbound, a reply is a JSON `POST` to the configured endpoint, signed the
//! same way.

use serde::Deserialize;
use serde_json::json;
use silta_sdk::types::{
    Assurance, DeliveryOutcome, HttpRequest, HttpResponse, Identity, IdentityKind, InboundEvent,
    Normalized, OutboundMessage, Part, TransportRequest, TransportResponse,
};
use silta_sdk::{InteractionBuilder, PluginError, time, validate};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// The header carrying the signature, inbound and outbound.
pub const SIGNATURE_HEADER: &str = "x-hello-signature";

/// The config key naming where replies are POSTed.
pub const ENDPOINT_KEY: &str = "endpoint";

/// Largest body accepted: a greeting is small, and refusing early keeps a
/// flood from costing host work.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Most bytes of an error answer kept as an outcome's detail.
const MAX_DETAIL_BYTES: usize = 200;

// === inbound ===

/// One inbound greeting as the sending system writes it. Unknown fields are
/// ignored, so the sender can add some without breaking us.
#[derive(Debug, Deserialize)]
struct Greeting {
    id: String,
    from: String,
    #[serde(default)]
    name: Option<String>,
    text: String,
    sent_at: String,
}

/// Refuses a body larger than [`MAX_BODY_BYTES`] as bad input.
pub fn check_size(body: &[u8]) -> Result<()> {
    if body.len() > MAX_BODY_BYTES {
        return Err(PluginError::bad_input(format!(
            "the body is {} bytes; a greeting is at most {MAX_BODY_BYTES}",
            body.len()
        )));
    }
    Ok(())
}

/// Turns a verified event into one inbound message.
///
/// Deterministic: everything comes from the body (the time from `sent_at`,
/// never the clock), so a replayed event gives the same provider message id
/// and the same interaction. Every malformed body is a bad-input error
/// naming the field, never a panic.
pub fn normalize(event: &InboundEvent) -> Result<Vec<Normalized>> {
    check_size(&event.body)?;
    let greeting: Greeting = serde_json::from_slice(&event.body).map_err(|error| {
        PluginError::bad_input(format!("the body is not a hello greeting: {error}"))
    })?;
    validate::provider_id("id", &greeting.id)?;
    let from = validate::email("from", &greeting.from)?;
    let text = validate::non_empty("text", &greeting.text)?;
    let occurred_at = time::parse_rfc3339("sent_at", &greeting.sent_at)?;

    // The sending system proved itself with the shared key, and it vouches
    // for `from`: that is what `hmac-verified` means.
    let mut sender = Identity::email(from).with_assurance(Assurance::HmacVerified);
    if let Some(name) = greeting.name.as_deref().map(str::trim)
        && !name.is_empty()
    {
        sender = sender.with_display_name(name);
    }
    let interaction = InteractionBuilder::inbound_message(sender, greeting.id, occurred_at)
        .text(text)
        .build()?;
    Ok(vec![Normalized::Interaction(interaction)])
}

/// The MAC bytes in a signature header; `unauthorized` with the reason when
/// it is absent or malformed.
pub fn parse_signature(value: Option<&str>) -> Result<Vec<u8>> {
    let value = value.ok_or_else(|| {
        PluginError::unauthorized(format!(
            "`{SIGNATURE_HEADER}` is missing; send the hex HMAC-SHA256 of the raw body"
        ))
    })?;
    match hex::decode(value.trim()) {
        Ok(mac) if mac.len() == 32 => Ok(mac),
        _ => Err(PluginError::unauthorized(format!(
            "`{SIGNATURE_HEADER}` must be 64 hex digits: the HMAC-SHA256 of the raw body"
        ))),
    }
}

/// A signature header value for MAC bytes.
pub fn format_signature(mac: &[u8]) -> String {
    hex::encode(mac)
}

// === outbound ===

/// The signed `POST` that delivers `message` to `endpoint`; `sign` turns
/// the body into the signature header value.
///
/// A message this channel cannot carry (no text, a part other than text,
/// a recipient without an email address) is `permanent`: retrying the same
/// message cannot help.
pub fn render(
    message: &OutboundMessage,
    endpoint: &str,
    sign: impl FnOnce(&[u8]) -> Result<String>,
) -> Result<TransportRequest> {
    validate::http_url(ENDPOINT_KEY, endpoint)
        .map_err(|error| PluginError::permanent(format!("config key {}", error.message())))?;
    if message.recipient.kind != IdentityKind::Email {
        return Err(PluginError::permanent(format!(
            "the recipient is a {} identity; hello replies to email addresses only",
            message.recipient.kind.name()
        )));
    }
    let mut texts = Vec::new();
    for (n, part) in message.parts.iter().enumerate() {
        match part {
            Part::Text(text) => texts.push(text.as_str()),
            // History the other side already has.
            Part::Quoted(_) => {}
            _ => {
                return Err(PluginError::permanent(format!(
                    "parts[{n}] is not text; hello sends text only"
                )));
            }
        }
    }
    if texts.is_empty() {
        return Err(PluginError::permanent("the message has no text to send"));
    }
    let body = json!({
        "to": message.recipient.value,
        "text": texts.join("\n\n"),
        "in_reply_to": message.reply_to_provider_message_id,
    })
    .to_string()
    .into_bytes();
    let signature = sign(&body)?;
    Ok(TransportRequest::Http(
        HttpRequest::post(endpoint)
            .with_header("content-type", "application/json")
            // The host retries; the receiver drops repeats by this key.
            .with_header("idempotency-key", message.interaction_id.as_str())
            .with_header(SIGNATURE_HEADER, signature)
            .with_body(body),
    ))
}

/// What the endpoint's answer means for the reply.
///
/// 2xx: sent (under the `id` of a JSON answer, if any); 401/403: our
/// signature was refused; 408, 429 and 5xx: try again, honouring
/// `Retry-After`; any other status: failed for good, with the status as the
/// provider code.
pub fn interpret(response: &TransportResponse) -> Result<DeliveryOutcome> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::permanent(
            "hello sends over HTTP but got an SMTP reply",
        ));
    };
    let status = response.status;
    match status {
        200..=299 => Ok(DeliveryOutcome::sent(answer_id(response))),
        401 | 403 => Err(PluginError::unauthorized(format!(
            "the endpoint refused the reply with {status}; check `signing-key` on both sides"
        ))),
        408 | 429 | 500..=599 => Err(PluginError::retryable_after(
            format!("the endpoint answered {status}"),
            response.retry_after(),
        )),
        _ => Ok(DeliveryOutcome::failed(status.to_string()).with_detail(detail(response))),
    }
}

/// The `id` of a JSON answer such as `{"id": "r-17"}`.
fn answer_id(response: &HttpResponse) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    answer.get("id")?.as_str().map(str::to_owned)
}

/// The start of an answer's body, cut at a character boundary.
fn detail(response: &HttpResponse) -> String {
    let text = String::from_utf8_lossy(&response.body);
    let mut end = text.len().min(MAX_DETAIL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{Timestamp, TransportMeta};

    fn event(body: &str) -> InboundEvent {
        InboundEvent {
            channel_account: "acct-1".into(),
            received_at: Timestamp {
                seconds: 1_795_464_000,
                nanoseconds: 0,
            },
            transport: TransportMeta::Other(Vec::new()),
            body: body.as_bytes().to_vec(),
        }
    }

    fn message(parts: Vec<Part>) -> OutboundMessage {
        OutboundMessage {
            channel_account: "acct-1".into(),
            interaction_id: "01890a5d-ac96-7000-8000-000000000001".into(),
            recipient: Identity::email("aino@example.fi"),
            sender: None,
            subject: None,
            parts,
            thread_keys: Vec::new(),
            reply_to_provider_message_id: Some("hello-1".into()),
            reply_to_email: None,
            reply_token: "rt-1".into(),
        }
    }

    fn http(status: u16, headers: &[(&str, &str)], body: &str) -> TransportResponse {
        TransportResponse::Http(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn a_greeting_becomes_an_inbound_message() {
        let body = r#"{"id":"hello-1","from":" Aino@Example.FI ","name":" Aino ","text":" Hi! ","sent_at":"2026-11-23T22:54:41+02:00"}"#;
        let out = normalize(&event(body)).expect("valid");
        let [Normalized::Interaction(interaction)] = out.as_slice() else {
            panic!("expected one interaction, got {out:?}");
        };
        assert_eq!(interaction.provider_message_id, "hello-1");
        assert_eq!(interaction.sender.value, "Aino@example.fi");
        assert_eq!(interaction.sender.assurance, Assurance::HmacVerified);
        assert_eq!(interaction.sender.display_name.as_deref(), Some("Aino"));
        assert_eq!(interaction.parts, vec![Part::Text("Hi!".into())]);
        assert_eq!(interaction.occurred_at.seconds, 1_795_467_281);
    }

    #[test]
    fn malformed_greetings_are_bad_input_naming_the_field() {
        for (body, reason) in [
            ("not json", "not a hello greeting"),
            (
                r#"{"id":"1","text":"x","sent_at":"2026-11-23T20:00:00Z"}"#,
                "missing field `from`",
            ),
            (
                r#"{"id":"1","from":"nope","text":"x","sent_at":"2026-11-23T20:00:00Z"}"#,
                "from:",
            ),
            (
                r#"{"id":"1","from":"a@b.fi","text":"  ","sent_at":"2026-11-23T20:00:00Z"}"#,
                "text",
            ),
            (
                r#"{"id":"","from":"a@b.fi","text":"x","sent_at":"2026-11-23T20:00:00Z"}"#,
                "id",
            ),
            (
                r#"{"id":"1","from":"a@b.fi","text":"x","sent_at":"yesterday"}"#,
                "sent_at",
            ),
        ] {
            let error = normalize(&event(body)).expect_err(body);
            assert_eq!(error.kind(), "bad-input", "{body}: {error:?}");
            assert!(error.message().contains(reason), "{body}: {error:?}");
        }
        let huge = "x".repeat(MAX_BODY_BYTES + 1);
        assert_eq!(
            normalize(&event(&huge)).expect_err("huge").kind(),
            "bad-input"
        );
    }

    #[test]
    fn signatures_parse_or_are_unauthorized() {
        let mac = [0xab_u8; 32];
        let header = format_signature(&mac);
        assert_eq!(parse_signature(Some(&header)).expect("valid"), mac.to_vec());
        assert_eq!(
            parse_signature(Some(&format!(" {} ", header.to_uppercase()))).expect("any case"),
            mac.to_vec()
        );
        for value in [None, Some("zz"), Some("abcd"), Some("")] {
            let error = parse_signature(value).expect_err("malformed");
            assert_eq!(error.kind(), "unauthorized", "{value:?}");
        }
    }

    #[test]
    fn render_posts_signed_json_to_the_endpoint() {
        let message = message(vec![
            Part::Text("Hello Aino!".into()),
            Part::Quoted("> Hi!".into()),
        ]);
        let request = render(&message, "https://hello.example.test/replies", |body| {
            Ok(format!("signed:{}", body.len()))
        })
        .expect("renders");
        let TransportRequest::Http(request) = request else {
            panic!("expected HTTP");
        };
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "https://hello.example.test/replies");
        let body: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON");
        assert_eq!(
            body,
            json!({"to": "aino@example.fi", "text": "Hello Aino!", "in_reply_to": "hello-1"})
        );
        assert_eq!(
            request.header(SIGNATURE_HEADER),
            Some(format!("signed:{}", request.body.len()).as_str())
        );
        assert_eq!(
            request.header("idempotency-key"),
            Some("01890a5d-ac96-7000-8000-000000000001")
        );
    }

    #[test]
    fn render_refuses_what_it_cannot_send_as_permanent() {
        let ok = |_: &[u8]| Ok(String::new());
        let text = || vec![Part::Text("x".into())];
        let cases = [
            (message(text()), "ftp://x", "config key endpoint"),
            (message(Vec::new()), "https://x.test", "no text"),
            (
                message(vec![Part::Html("<p>x</p>".into())]),
                "https://x.test",
                "parts[0]",
            ),
            (
                OutboundMessage {
                    recipient: Identity::phone("+358401234567"),
                    ..message(text())
                },
                "https://x.test",
                "email addresses only",
            ),
        ];
        for (message, endpoint, reason) in cases {
            let error = render(&message, endpoint, ok).expect_err(reason);
            assert_eq!(error.kind(), "permanent", "{error:?}");
            assert!(error.message().contains(reason), "{error:?}");
        }
    }

    #[test]
    fn answers_map_to_outcomes_and_errors() {
        let sent = interpret(&http(201, &[], r#"{"id":"r-17"}"#)).expect("sent");
        assert_eq!(sent, DeliveryOutcome::sent(Some("r-17".into())));
        assert_eq!(
            interpret(&http(204, &[], "")).expect("sent"),
            DeliveryOutcome::sent(None)
        );
        let failed = interpret(&http(422, &[], "no such recipient")).expect("failed");
        assert_eq!(
            failed,
            DeliveryOutcome::failed("422").with_detail("no such recipient")
        );
        let busy = interpret(&http(429, &[("retry-after", "30")], "")).expect_err("busy");
        assert_eq!(
            busy,
            PluginError::retryable_after(
                "the endpoint answered 429",
                Some(std::time::Duration::from_secs(30))
            )
        );
        assert_eq!(
            interpret(&http(503, &[], "")).expect_err("down").kind(),
            "retryable"
        );
        assert_eq!(
            interpret(&http(401, &[], "")).expect_err("refused").kind(),
            "unauthorized"
        );
    }

    #[test]
    fn long_details_are_cut_at_a_character_boundary() {
        let body = "ä".repeat(MAX_DETAIL_BYTES);
        let outcome = interpret(&http(400, &[], &body)).expect("failed");
        let detail = outcome.detail.expect("a detail");
        assert!(detail.len() <= MAX_DETAIL_BYTES);
        assert!(detail.chars().all(|c| c == 'ä'));
    }
}
