//! The gateway's answer → a delivery outcome. Pure.
//!
//! - 200 `{"id": "<interaction id>"}`: sent (the visitor's widget shows it
//!   now, or from history when they come back); the interaction id is the
//!   provider message id the widget's receipts name;
//! - 404: failed: the conversation has no web chat visitor (a reply to a
//!   conversation from another channel, routed here by mistake);
//! - 5xx: retried;
//! - anything else: permanent.

use serde::Deserialize;
use silta_sdk::types::{DeliveryOutcome, PluginError, TransportResponse};

#[derive(Deserialize)]
struct Answer {
    id: String,
}

/// What the gateway's answer means for the reply.
pub fn interpret(response: &TransportResponse) -> Result<DeliveryOutcome, PluginError> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::permanent(
            "web chat replies go through the gateway, but the transport answered with SMTP",
        ));
    };
    let detail = || {
        String::from_utf8_lossy(&response.body)
            .chars()
            .take(256)
            .collect::<String>()
    };
    match response.status {
        200 => {
            let answer: Answer = serde_json::from_slice(&response.body).map_err(|error| {
                PluginError::permanent(format!("the gateway's answer is unreadable: {error}"))
            })?;
            Ok(DeliveryOutcome::sent(Some(answer.id)))
        }
        404 => Ok(DeliveryOutcome::failed("404").with_detail(detail())),
        500..=599 => Err(PluginError::retryable(format!(
            "the web chat gateway answered {}: {}",
            response.status,
            detail()
        ))),
        status => Err(PluginError::permanent(format!(
            "the web chat gateway answered {status}: {}",
            detail()
        ))),
    }
}
