//! The Bot API's answer to a send → a delivery outcome. Pure.
//!
//! Every Bot API answer is `{"ok": true, "result": …}` or `{"ok": false,
//! "error_code": N, "description": "…", "parameters": {…}}`, with
//! `error_code` equal to the HTTP status:
//!
//! - `ok: true` with a sent message: sent, under provider message id
//!   `<result.chat.id>:<result.message_id>` (what an inbound reply to it
//!   threads on);
//! - 429 (flood control): retried after `parameters.retry_after` seconds
//!   (or `Retry-After`);
//! - 5xx: retried;
//! - 401: `unauthorized` (the bot token was revoked or is wrong);
//! - 404: `permanent`: the Bot API answers 404 to a malformed token or a
//!   wrong `api_url` path, so configuration must change;
//! - 403 (the user blocked the bot, the bot was removed from the group)
//!   and 400 (chat not found, message too long, …): failed, with the
//!   status as the provider code and Telegram's description as the detail
//!   (with `migrate_to_chat_id` when a group became a supergroup); sending
//!   it again unchanged will not help, and the message is marked failed
//!   rather than dead-lettered, as for every channel's per-message
//!   refusals;
//! - anything else: `permanent`.

use std::time::Duration;

use serde::Deserialize;
use silta_sdk::types::{DeliveryOutcome, HttpResponse, PluginError, TransportResponse};

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Most bytes of an unreadable error body kept as the outcome's detail.
const MAX_DETAIL_BYTES: usize = 256;

/// A Bot API answer.
#[derive(Debug, Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

/// `ResponseParameters`: why a request failed and what to do.
#[derive(Debug, Deserialize)]
struct Parameters {
    /// Flood control: seconds to wait.
    #[serde(default)]
    retry_after: Option<u64>,
    /// The group became this supergroup.
    #[serde(default)]
    migrate_to_chat_id: Option<i64>,
}

/// The sent message in `result`.
#[derive(Debug, Deserialize)]
struct Sent {
    message_id: i64,
    chat: SentChat,
}

#[derive(Debug, Deserialize)]
struct SentChat {
    id: i64,
}

/// What the Bot API's answer means for the message.
pub fn interpret(response: &TransportResponse) -> Result<DeliveryOutcome> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::permanent(
            "Telegram sends over HTTP, but the transport answered with SMTP",
        ));
    };
    let status = response.status;
    let answer = serde_json::from_slice::<Answer>(&response.body).ok();
    if (200..=299).contains(&status) && answer.as_ref().is_none_or(|answer| answer.ok) {
        return Ok(DeliveryOutcome::sent(sent_id(answer)));
    }
    let description = describe(answer.as_ref(), &response.body);
    match status {
        429 => {
            let hint = answer
                .as_ref()
                .and_then(|a| a.parameters.as_ref()?.retry_after)
                .map(Duration::from_secs)
                .or_else(|| response.retry_after());
            Err(PluginError::retryable_after(
                format!(
                    "the Bot API throttled the send (429){}",
                    suffix(&description)
                ),
                hint,
            ))
        }
        500..=599 => Err(PluginError::retryable_after(
            format!("the Bot API answered {status}{}", suffix(&description)),
            response.retry_after(),
        )),
        401 => Err(PluginError::unauthorized(format!(
            "the Bot API refused the bot token{}; renew secret `bot-token` (from @BotFather)",
            suffix(&description)
        ))),
        404 => Err(PluginError::permanent(format!(
            "the Bot API answered 404{}: check secret `bot-token` (`<bot id>:<secret>`) and config key `api_url`",
            suffix(&description)
        ))),
        400..=499 => {
            let code = answer
                .as_ref()
                .and_then(|a| a.error_code)
                .unwrap_or(i64::from(status));
            let failed = DeliveryOutcome::failed(code.to_string());
            Ok(match description {
                Some(detail) => failed.with_detail(detail),
                None => failed,
            })
        }
        other => Err(PluginError::permanent(format!(
            "the Bot API answered with unexpected status {other}{}",
            suffix(&description)
        ))),
    }
}

/// `<chat id>:<message id>` of the sent message, when the answer has one.
fn sent_id(answer: Option<Answer>) -> Option<String> {
    let result = answer?.result?;
    match serde_json::from_value::<Sent>(result) {
        Ok(sent) => Some(crate::mapping::provider_message_id(
            sent.chat.id,
            sent.message_id,
        )),
        Err(_) => {
            silta_sdk::warn!("the Bot API accepted a message but gave no message and chat id");
            None
        }
    }
}

/// Telegram's description (with a supergroup migration), or the start of
/// an unreadable body.
fn describe(answer: Option<&Answer>, body: &[u8]) -> Option<String> {
    if let Some(answer) = answer {
        let mut text = answer.description.clone().unwrap_or_default();
        if let Some(to) = answer
            .parameters
            .as_ref()
            .and_then(|p| p.migrate_to_chat_id)
        {
            text = format!("{text} (the group is now supergroup {to})");
        }
        let text = text.trim();
        return (!text.is_empty()).then(|| text.to_owned());
    }
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

fn suffix(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

/// Helper for tests and callers holding a plain [`HttpResponse`].
pub fn interpret_http(response: HttpResponse) -> Result<DeliveryOutcome> {
    interpret(&TransportResponse::Http(response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{DeliveryState, RetryableError};

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Result<DeliveryOutcome> {
        interpret_http(HttpResponse::new(status, headers, body))
    }

    #[test]
    fn a_sent_message_is_known_by_chat_and_message_id() {
        let body = r#"{"ok":true,"result":{"message_id":53,"from":{"id":7000000001,"is_bot":true,"first_name":"Shop"},"chat":{"id":123456789,"type":"private"},"date":1795464000,"text":"On its way!"}}"#;
        assert_eq!(
            answer(200, &[], body),
            Ok(DeliveryOutcome::sent(Some("123456789:53".into())))
        );
        assert_eq!(
            answer(200, &[], r#"{"ok":true,"result":true}"#),
            Ok(DeliveryOutcome::sent(None))
        );
        assert_eq!(answer(200, &[], "{}"), Ok(DeliveryOutcome::sent(None)));
    }

    #[test]
    fn flood_control_and_server_trouble_are_retried() {
        let flood = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#;
        for (status, headers, body, after) in [
            (429, vec![], flood, Some(7_000)),
            (429, vec![("retry-after", "3")], "", Some(3_000)),
            (
                502,
                vec![],
                r#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#,
                None,
            ),
            (503, vec![], "", None),
        ] {
            match answer(status, &headers, body) {
                Err(PluginError::Retryable(RetryableError { retry_after_ms, .. })) => {
                    assert_eq!(retry_after_ms, after, "{status} {body}");
                }
                other => panic!("{status} {body}: retryable, got {other:?}"),
            }
        }
    }

    #[test]
    fn refusals_fail_with_telegrams_description() {
        for (status, body, detail) in [
            (
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
                "Forbidden: bot was blocked by the user",
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                "Bad Request: chat not found",
            ),
            (
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}"#,
                "Bad Request: group chat was upgraded to a supergroup chat (the group is now supergroup -1001234567890)",
            ),
            (400, "not json", "not json"),
        ] {
            let outcome = answer(status, &[], body).expect("an outcome");
            assert_eq!(outcome.state, DeliveryState::Failed);
            assert_eq!(outcome.provider_code, Some(status.to_string()));
            assert_eq!(outcome.detail.as_deref(), Some(detail));
        }
    }

    #[test]
    fn a_refused_token_is_unauthorized_and_odd_answers_permanent() {
        let refused = answer(
            401,
            &[],
            r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
        )
        .unwrap_err();
        assert_eq!(refused.kind(), "unauthorized");
        assert!(refused.message().contains("bot-token"), "{refused:?}");
        let not_found = answer(
            404,
            &[],
            r#"{"ok":false,"error_code":404,"description":"Not Found"}"#,
        )
        .unwrap_err();
        assert_eq!(not_found.kind(), "permanent");
        assert!(not_found.message().contains("api_url"), "{not_found:?}");
        assert_eq!(answer(301, &[], "").unwrap_err().kind(), "permanent");
        let smtp = TransportResponse::Smtp(silta_sdk::types::SmtpReply {
            code: 250,
            text: "ok".into(),
        });
        assert_eq!(interpret(&smtp).unwrap_err().kind(), "permanent");
    }
}
