//! Rendering to a JSON HTTP API and reading its answers.

use guest_kit::silta::connector::types::{
    DeliveryOutcome, DeliveryState, HttpRequest, HttpResponse, OutboundMessage, Part, PluginError,
    RetryableError, TransportRequest, TransportResponse,
};
use serde_json::Value;

/// Where rendered messages go; the tests never let it leave the host.
pub const SEND_URL: &str = "https://api.example.test/send";

/// `POST {"text": [<each text part>]}` to [`SEND_URL`].
pub fn render(message: &OutboundMessage) -> Result<TransportRequest, PluginError> {
    let texts: Vec<Value> = message
        .parts
        .iter()
        .filter_map(|part| match part {
            Part::Text(text) => Some(Value::String(text.clone())),
            _ => None,
        })
        .collect();
    let mut body = serde_json::Map::new();
    body.insert("text".to_owned(), Value::Array(texts));
    Ok(TransportRequest::Http(HttpRequest {
        method: "POST".to_owned(),
        url: SEND_URL.to_owned(),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: Value::Object(body).to_string().into_bytes(),
    }))
}

/// 2xx is `sent` (with the body's `"id"`), 4xx `failed` with the status as
/// provider code, 5xx a retryable error honouring `retry-after` seconds.
pub fn interpret_response(response: &TransportResponse) -> Result<DeliveryOutcome, PluginError> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::Permanent(
            "echo renders HTTP requests only, got an SMTP reply".to_owned(),
        ));
    };
    match response.status {
        200..=299 => Ok(outcome(DeliveryState::Sent, message_id(response), None)),
        400..=499 => Ok(outcome(
            DeliveryState::Failed,
            None,
            Some(response.status.to_string()),
        )),
        500..=599 => Err(PluginError::Retryable(RetryableError {
            message: format!("provider answered {}", response.status),
            retry_after_ms: retry_after_ms(response),
        })),
        status => Err(PluginError::Permanent(format!(
            "unexpected status {status}"
        ))),
    }
}

fn outcome(
    state: DeliveryState,
    provider_message_id: Option<String>,
    provider_code: Option<String>,
) -> DeliveryOutcome {
    DeliveryOutcome {
        state,
        provider_message_id,
        provider_code,
        detail: None,
    }
}

/// The `"id"` of a JSON body, a string or a number.
fn message_id(response: &HttpResponse) -> Option<String> {
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    match body.get("id")? {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// `retry-after: <seconds>` in milliseconds; header names arrive lowercase.
fn retry_after_ms(response: &HttpResponse) -> Option<u64> {
    let (_, value) = response
        .headers
        .iter()
        .find(|(name, _)| name == "retry-after")?;
    let seconds: u64 = value.trim().parse().ok()?;
    Some(seconds.saturating_mul(1000))
}
