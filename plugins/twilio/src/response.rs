//! The REST API's answer to a send → a delivery outcome. Pure.
//!
//! Twilio answers a created message with `201` and the Message resource
//! (`{"sid": "SM…", "status": "queued", …}`), and an error with its
//! status and `{"code": 21211, "message": "…", "more_info": "…",
//! "status": 400}` (<https://www.twilio.com/docs/usage/twilios-response>):
//!
//! - 2xx: sent, under provider message id `sid` (what status callbacks
//!   name);
//! - 429 or code 20429 (too many requests): retried, after `Retry-After`
//!   when given;
//! - 5xx: retried;
//! - 401 or code 20003 (authentication failed): `unauthorized`: secret
//!   `auth-token` or config `account_sid` is wrong;
//! - 404 with code 20404: `permanent`: the account in the URL does not
//!   exist (`account_sid`, `api_url`);
//! - any other 4xx (21211 invalid `To`, 21610 the recipient replied STOP,
//!   21408 region not enabled, 21614 not a mobile number, …): failed,
//!   with Twilio's code as the provider code and its message as the
//!   detail; sending it again unchanged will not help;
//! - anything else: `permanent`.

use serde::Deserialize;
use silta_sdk::types::{DeliveryOutcome, HttpResponse, PluginError, TransportResponse};

use crate::mapping::MESSAGE_SID_PREFIXES;
use crate::payload::is_sid;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// Most bytes of an unreadable error body kept as the outcome's detail.
const MAX_DETAIL_BYTES: usize = 256;

/// The created Message resource; only its id is read.
#[derive(Debug, Deserialize)]
struct Created {
    #[serde(default)]
    sid: Option<String>,
}

/// Twilio's error body.
#[derive(Debug, Deserialize)]
struct TwilioError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    more_info: Option<String>,
}

/// What the REST API's answer means for the message.
pub fn interpret(response: &TransportResponse) -> Result<DeliveryOutcome> {
    let TransportResponse::Http(response) = response else {
        return Err(PluginError::permanent(
            "Twilio sends over HTTP, but the transport answered with SMTP",
        ));
    };
    let status = response.status;
    if (200..=299).contains(&status) {
        return Ok(DeliveryOutcome::sent(sent_id(&response.body)));
    }
    let error = serde_json::from_slice::<TwilioError>(&response.body).ok();
    let code = error.as_ref().and_then(|e| e.code);
    let detail = describe(error.as_ref(), &response.body);
    let suffix = detail
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    match (status, code) {
        (429, _) | (_, Some(20429)) => Err(PluginError::retryable_after(
            format!("Twilio throttled the send ({status}){suffix}"),
            response.retry_after(),
        )),
        (500..=599, _) => Err(PluginError::retryable_after(
            format!("Twilio answered {status}{suffix}"),
            response.retry_after(),
        )),
        (401, _) | (_, Some(20003)) => Err(PluginError::unauthorized(format!(
            "Twilio refused the credentials ({status}){suffix}; check secret `auth-token` and config key `account_sid`"
        ))),
        (404, Some(20404)) => Err(PluginError::permanent(format!(
            "Twilio answered 404{suffix}: check config keys `account_sid` and `api_url`"
        ))),
        (400..=499, _) => {
            let code = code.map_or_else(|| status.to_string(), |code| code.to_string());
            let failed = DeliveryOutcome::failed(code);
            Ok(match detail {
                Some(detail) => failed.with_detail(detail),
                None => failed,
            })
        }
        (other, _) => Err(PluginError::permanent(format!(
            "Twilio answered with unexpected status {other}{suffix}"
        ))),
    }
}

/// The created message's `sid`, when the answer has a plausible one.
fn sent_id(body: &[u8]) -> Option<String> {
    let sid = serde_json::from_slice::<Created>(body).ok()?.sid?;
    if is_sid(&sid, MESSAGE_SID_PREFIXES) {
        Some(sid)
    } else {
        silta_sdk::warn!("Twilio accepted a message but gave no message sid");
        None
    }
}

/// Twilio's message (with its `more_info` link), or the start of an
/// unreadable body.
fn describe(error: Option<&TwilioError>, body: &[u8]) -> Option<String> {
    if let Some(error) = error {
        let message = error.message.as_deref().map(str::trim).unwrap_or_default();
        let more = error
            .more_info
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        return match (message.is_empty(), more.is_empty()) {
            (true, true) => None,
            (false, true) => Some(message.to_owned()),
            (true, false) => Some(more.to_owned()),
            (false, false) => Some(format!("{message} ({more})")),
        };
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

/// Helper for tests and callers holding a plain [`HttpResponse`].
pub fn interpret_http(response: HttpResponse) -> Result<DeliveryOutcome> {
    interpret(&TransportResponse::Http(response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{DeliveryState, RetryableError};

    const SID: &str = "SM1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c";

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Result<DeliveryOutcome> {
        interpret_http(HttpResponse::new(status, headers, body))
    }

    fn error(code: i64, message: &str, status: u16) -> String {
        serde_json::json!({"code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})
        .to_string()
    }

    #[test]
    fn a_created_message_is_sent_under_its_sid() {
        let body = format!(
            r#"{{"sid":"{SID}","status":"queued","to":"+358401234567","from":"+14158675309","body":"Hei","num_media":"0","error_code":null}}"#
        );
        assert_eq!(
            answer(201, &[], &body),
            Ok(DeliveryOutcome::sent(Some(SID.into())))
        );
        assert_eq!(answer(200, &[], "{}"), Ok(DeliveryOutcome::sent(None)));
        assert_eq!(
            answer(201, &[], r#"{"sid":"nope"}"#),
            Ok(DeliveryOutcome::sent(None))
        );
    }

    #[test]
    fn throttling_and_server_trouble_are_retried() {
        let throttled = error(20429, "Too Many Requests", 429);
        for (status, headers, body, after) in [
            (
                429,
                vec![("retry-after", "3")],
                throttled.as_str(),
                Some(3_000),
            ),
            (429, vec![], "", None),
            (400, vec![], throttled.as_str(), None),
            (500, vec![], "", None),
            (503, vec![("retry-after", "5")], "", Some(5_000)),
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
    fn refusals_fail_with_twilios_code_and_message() {
        for (code, message) in [
            (21211, "The 'To' number +3584 is not a valid phone number."),
            (21610, "Attempt to send to unsubscribed recipient"),
            (
                21408,
                "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +99912345.",
            ),
        ] {
            let outcome = answer(400, &[], &error(code, message, 400)).expect("an outcome");
            assert_eq!(outcome.state, DeliveryState::Failed);
            assert_eq!(outcome.provider_code, Some(code.to_string()));
            assert_eq!(
                outcome.detail,
                Some(format!(
                    "{message} (https://www.twilio.com/docs/errors/{code})"
                ))
            );
        }
        let outcome = answer(400, &[], "not json").expect("an outcome");
        assert_eq!(outcome.provider_code.as_deref(), Some("400"));
        assert_eq!(outcome.detail.as_deref(), Some("not json"));
    }

    #[test]
    fn bad_credentials_are_unauthorized_and_odd_answers_permanent() {
        for (status, body) in [
            (401, error(20003, "Authenticate", 401)),
            (401, String::new()),
            (403, error(20003, "Authenticate", 403)),
        ] {
            let refused = answer(status, &[], &body).unwrap_err();
            assert_eq!(refused.kind(), "unauthorized", "{status} {body}");
            assert!(refused.message().contains("auth-token"), "{refused:?}");
        }
        let missing = answer(
            404,
            &[],
            &error(20404, "The requested resource was not found", 404),
        )
        .unwrap_err();
        assert_eq!(missing.kind(), "permanent");
        assert!(missing.message().contains("account_sid"), "{missing:?}");
        assert_eq!(answer(301, &[], "").unwrap_err().kind(), "permanent");
        let smtp = TransportResponse::Smtp(silta_sdk::types::SmtpReply {
            code: 250,
            text: "ok".into(),
        });
        assert_eq!(interpret(&smtp).unwrap_err().kind(), "permanent");
    }
}
