//! The Graph API's answer to a send → a delivery outcome. Pure.
//!
//! - `200 {"messages": [{"id": "wamid…"}]}`: sent, under that id, which
//!   the status webhooks then report on;
//! - a Graph error (`{"error": {"code": 131047, …}}`) on a 4xx: failed,
//!   with the code as the provider code, except the throttling codes,
//!   which are retried, and a refused access token, which is
//!   `unauthorized`;
//! - 429 and 5xx: retried, honouring `Retry-After`;
//! - anything else: `permanent`.

use serde::Deserialize;
use silta_meta_webhook::graph_error::{GraphError, body_detail};
use silta_sdk::types::{DeliveryOutcome, HttpResponse, PluginError, TransportResponse};

/// The Graph error code of an invalid or expired access token.
pub use silta_meta_webhook::graph_error::INVALID_TOKEN_CODE;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Graph error codes that mean "too fast, try later": 4 (application
/// request limit), 80007 (WhatsApp Business Account rate limit), 130429
/// (Cloud API throughput) and 131056 (pair rate limit: too many messages
/// to one customer).
pub const THROTTLING_CODES: [i64; 4] = [4, 80_007, 130_429, 131_056];

#[derive(Debug, Deserialize)]
struct Sent {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Debug, Deserialize)]
struct SentMessage {
    id: String,
}

/// What the Graph API's answer means for the message.
pub fn interpret(response: &TransportResponse) -> Result<DeliveryOutcome> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::permanent(
            "WhatsApp sends over HTTP, but the transport answered with SMTP",
        ));
    };
    let status = response.status;
    let error = GraphError::parse(&response.body);
    match (status, error) {
        (200..=299, _) => Ok(DeliveryOutcome::sent(sent_id(response))),
        (429 | 500..=599, error) => Err(PluginError::retryable_after(
            format!(
                "the Graph API answered {status}{}",
                error
                    .map(|e| format!(": {}", e.describe()))
                    .unwrap_or_default()
            ),
            response.retry_after(),
        )),
        (400..=499, Some(error)) if THROTTLING_CODES.contains(&error.code) => {
            Err(PluginError::retryable_after(
                format!("the Graph API throttled the send: {}", error.describe()),
                response.retry_after(),
            ))
        }
        (401, error) => Err(unauthorized(error.as_ref())),
        (400..=499, Some(error)) if error.code == INVALID_TOKEN_CODE => {
            Err(unauthorized(Some(&error)))
        }
        (400..=499, Some(error)) => {
            Ok(DeliveryOutcome::failed(error.code.to_string()).with_detail(error.describe()))
        }
        (400..=499, None) => {
            let failed = DeliveryOutcome::failed(status.to_string());
            Ok(match body_detail(&response.body) {
                Some(detail) => failed.with_detail(detail),
                None => failed,
            })
        }
        (other, _) => Err(PluginError::permanent(format!(
            "the Graph API answered with unexpected status {other}{}",
            response
                .header("location")
                .map(|to| format!(" (a redirect to {to}; set `graph_url` to the final origin)"))
                .unwrap_or_default()
        ))),
    }
}

/// `messages[0].id` of a success body.
fn sent_id(response: &HttpResponse) -> Option<String> {
    let sent: Sent = serde_json::from_slice(&response.body).ok()?;
    let id = sent.messages.into_iter().next()?.id;
    if id.trim().is_empty() {
        silta_sdk::warn!("the Graph API accepted a message but gave no message id");
        None
    } else {
        Some(id)
    }
}

fn unauthorized(error: Option<&GraphError>) -> PluginError {
    PluginError::unauthorized(format!(
        "the Graph API refused the access token{}; renew secret `access-token` (a system user token with whatsapp_business_messaging)",
        error
            .map(|e| format!(": {}", e.describe()))
            .unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{DeliveryState, RetryableError};

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> TransportResponse {
        TransportResponse::Http(HttpResponse::new(status, headers, body))
    }

    fn graph_error(code: i64, message: &str) -> String {
        format!(
            r#"{{"error":{{"message":"{message}","type":"OAuthException","code":{code},"error_data":{{"messaging_product":"whatsapp","details":"d"}},"fbtrace_id":"A1"}}}}"#
        )
    }

    #[test]
    fn a_success_is_sent_under_the_wamid() {
        let body = r#"{"messaging_product":"whatsapp","contacts":[{"input":"358401234567","wa_id":"358401234567"}],"messages":[{"id":"wamid.OUT","message_status":"accepted"}]}"#;
        assert_eq!(
            interpret(&answer(200, &[], body)),
            Ok(DeliveryOutcome::sent(Some("wamid.OUT".into())))
        );
        assert_eq!(
            interpret(&answer(200, &[], "{}")),
            Ok(DeliveryOutcome::sent(None))
        );
    }

    #[test]
    fn graph_errors_keep_their_code() {
        for code in [131_047, 131_026, 100] {
            let outcome = interpret(&answer(400, &[], &graph_error(code, "m"))).expect("failed");
            assert_eq!(outcome.state, DeliveryState::Failed);
            assert_eq!(outcome.provider_code, Some(code.to_string()));
            assert_eq!(outcome.detail, Some(format!("({code}) m: d")));
        }
        let plain = interpret(&answer(404, &[], "not here")).expect("failed");
        assert_eq!(plain.provider_code.as_deref(), Some("404"));
        assert_eq!(plain.detail.as_deref(), Some("not here"));
    }

    #[test]
    fn throttling_and_server_trouble_are_retried() {
        for (status, body) in [
            (429, String::new()),
            (500, graph_error(131_000, "Something went wrong")),
            (503, String::new()),
            (400, graph_error(130_429, "Rate limit hit")),
            (400, graph_error(131_056, "Pair rate limit hit")),
        ] {
            match interpret(&answer(status, &[("retry-after", "30")], &body)) {
                Err(PluginError::Retryable(RetryableError { retry_after_ms, .. })) => {
                    assert_eq!(retry_after_ms, Some(30_000), "{status} {body}");
                }
                other => panic!("{status} {body}: retryable, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_refused_token_is_unauthorized_and_odd_answers_permanent() {
        let expired = interpret(&answer(401, &[], &graph_error(190, "expired"))).unwrap_err();
        assert_eq!(expired.kind(), "unauthorized");
        assert!(expired.message().contains("access-token"), "{expired:?}");
        let as_400 = interpret(&answer(400, &[], &graph_error(190, "invalid"))).unwrap_err();
        assert_eq!(as_400.kind(), "unauthorized");
        let moved = interpret(&answer(301, &[("location", "https://x.test")], "")).unwrap_err();
        assert_eq!(moved.kind(), "permanent");
        assert!(moved.message().contains("https://x.test"));
        let smtp = TransportResponse::Smtp(silta_sdk::types::SmtpReply {
            code: 250,
            text: "ok".into(),
        });
        assert_eq!(interpret(&smtp).unwrap_err().kind(), "permanent");
    }
}
