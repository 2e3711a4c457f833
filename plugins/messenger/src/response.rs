//! The Send API's answer → a delivery outcome. Pure.
//!
//! - `200 {"recipient_id": "…", "message_id": "m_…"}`: sent, under that
//!   id, which the delivery and read webhooks then report on;
//! - 429, 5xx, a throttling code (4, 17, 32, 613), a temporary failure
//!   (1, 2, 1200) or an error Meta marks `is_transient`: retried,
//!   honouring `Retry-After`;
//! - 401 or code 190 (the access token is invalid or expired):
//!   `unauthorized`;
//! - any other Graph error on a 4xx (10 and 200 permission or window,
//!   551 person unavailable, 100 invalid parameter, ...): failed, with
//!   the code as the provider code and Meta's message as the detail;
//! - anything else: `permanent`.

use serde::Deserialize;
use silta_meta_webhook::graph_error::{GraphError, INVALID_TOKEN_CODE, body_detail};
use silta_sdk::types::{DeliveryOutcome, HttpResponse, PluginError, TransportResponse};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Graph error codes that mean "try again later": 1 (unknown, possibly
/// temporary), 2 (service temporarily unavailable), 4 (application
/// request limit), 17 (user request limit), 32 (Page request limit), 613
/// (rate limit exceeded) and 1200 (temporary send message failure).
pub const RETRYABLE_CODES: [i64; 7] = [1, 2, 4, 17, 32, 613, 1200];

#[derive(Debug, Deserialize)]
struct Sent {
    #[serde(default)]
    message_id: Option<String>,
}

/// What the Send API's answer means for the message.
pub fn interpret(response: &TransportResponse) -> Result<DeliveryOutcome> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::permanent(
            "the Send API is HTTP, but the transport answered with SMTP",
        ));
    };
    let status = response.status;
    let error = GraphError::parse(&response.body);
    match (status, error) {
        (200..=299, _) => Ok(DeliveryOutcome::sent(sent_id(response))),
        (401, error) => Err(unauthorized(error.as_ref())),
        (_, Some(error)) if error.code == INVALID_TOKEN_CODE => Err(unauthorized(Some(&error))),
        (429 | 500..=599, error) => Err(PluginError::retryable_after(
            format!(
                "the Graph API answered {status}{}",
                error
                    .map(|e| format!(": {}", describe(&e)))
                    .unwrap_or_default()
            ),
            response.retry_after(),
        )),
        (400..=499, Some(error)) if error.is_transient || RETRYABLE_CODES.contains(&error.code) => {
            Err(PluginError::retryable_after(
                format!(
                    "the Graph API asked to try again later: {}",
                    describe(&error)
                ),
                response.retry_after(),
            ))
        }
        (400..=499, Some(error)) => {
            Ok(DeliveryOutcome::failed(error.code.to_string()).with_detail(describe(&error)))
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

/// Meta's description of the error, what it usually means, and the trace
/// id to quote to Meta.
fn describe(error: &GraphError) -> String {
    let mut text = error.describe();
    let hint = match (error.code, error.error_subcode) {
        (10, Some(2_018_278)) => {
            Some("sent outside the messaging window: the customer must write first")
        }
        (10 | 200 | 230, _) => Some(
            "the app or Page lacks a permission: check pages_messaging / instagram_manage_messages and, for HUMAN_AGENT, the Human Agent permission",
        ),
        (551, _) => Some("the person is not available: they blocked the Page or left"),
        (100, Some(2_018_001)) => Some("no person with this page-scoped id"),
        _ => None,
    };
    if let Some(hint) = hint {
        text = format!("{text}; {hint}");
    }
    if let Some(trace) = error.fbtrace_id.as_deref() {
        text = format!("{text} (fbtrace_id {trace})");
    }
    text
}

/// `message_id` of a success body.
fn sent_id(response: &HttpResponse) -> Option<String> {
    let sent: Sent = serde_json::from_slice(&response.body).ok()?;
    match sent.message_id {
        Some(id) if !id.trim().is_empty() => Some(id),
        _ => {
            silta_sdk::warn!("the Send API accepted a message but gave no message id");
            None
        }
    }
}

fn unauthorized(error: Option<&GraphError>) -> PluginError {
    PluginError::unauthorized(format!(
        "the Graph API refused the access token{}; renew secret `access-token` (a Page access token with pages_messaging, and instagram_manage_messages for Instagram)",
        error
            .map(|e| format!(": {}", describe(e)))
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

    fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> String {
        let mut error = serde_json::json!({"error": {"message": message,
            "type": "OAuthException", "code": code, "fbtrace_id": "AbC123"}});
        if let Some(subcode) = subcode {
            error["error"]["error_subcode"] = subcode.into();
        }
        error.to_string()
    }

    #[test]
    fn a_success_is_sent_under_the_mid() {
        let body = r#"{"recipient_id":"6830112345678901","message_id":"m_OUT"}"#;
        assert_eq!(
            interpret(&answer(200, &[], body)),
            Ok(DeliveryOutcome::sent(Some("m_OUT".into())))
        );
        assert_eq!(
            interpret(&answer(200, &[], "{}")),
            Ok(DeliveryOutcome::sent(None))
        );
    }

    #[test]
    fn refusals_fail_with_the_code_and_meta_s_message() {
        for (code, subcode, hint) in [
            (10, Some(2_018_278), "outside the messaging window"),
            (200, None, "permission"),
            (551, Some(1_545_041), "not available"),
            (100, Some(2_018_001), "no person"),
        ] {
            let outcome =
                interpret(&answer(400, &[], &graph_error(code, subcode, "m"))).expect("failed");
            assert_eq!(outcome.state, DeliveryState::Failed);
            assert_eq!(outcome.provider_code, Some(code.to_string()));
            let detail = outcome.detail.expect("a detail");
            assert!(
                detail.starts_with(&format!("({code}) m")) && detail.contains(hint),
                "{detail}"
            );
            assert!(detail.contains("fbtrace_id AbC123"), "{detail}");
        }
        let plain = interpret(&answer(404, &[], "not here")).expect("failed");
        assert_eq!(plain.provider_code.as_deref(), Some("404"));
    }

    #[test]
    fn throttling_and_server_trouble_are_retried() {
        let transient = r#"{"error":{"message":"x","code":9999,"is_transient":true}}"#;
        for (status, body) in [
            (429, String::new()),
            (500, graph_error(2, None, "Service temporarily unavailable")),
            (503, String::new()),
            (
                400,
                graph_error(613, None, "Calls to this api have exceeded the rate limit."),
            ),
            (
                400,
                graph_error(4, None, "Application request limit reached"),
            ),
            (400, graph_error(32, None, "Page request limit reached")),
            (
                400,
                graph_error(1200, None, "Temporary send message failure"),
            ),
            (400, transient.to_owned()),
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
        let expired =
            interpret(&answer(400, &[], &graph_error(190, Some(463), "expired"))).unwrap_err();
        assert_eq!(expired.kind(), "unauthorized");
        assert!(expired.message().contains("access-token"), "{expired:?}");
        assert_eq!(
            interpret(&answer(401, &[], "")).unwrap_err().kind(),
            "unauthorized"
        );
        let moved = interpret(&answer(301, &[("location", "https://x.test")], "")).unwrap_err();
        assert_eq!(moved.kind(), "permanent");
        let smtp = TransportResponse::Smtp(silta_sdk::types::SmtpReply {
            code: 250,
            text: "ok".into(),
        });
        assert_eq!(interpret(&smtp).unwrap_err().kind(), "permanent");
    }
}
