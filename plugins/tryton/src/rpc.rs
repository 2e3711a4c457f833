//! Tryton's JSON-RPC: the request body, and what an answer means.
//!
//! A request is `POST <url>/<database>/rpc/` with
//! `{"id": n, "method": "model.party.party.search_read", "params": [...]}`.
//! Tryton answers HTTP 200 with `{"id": n, "result": ...}` or, when the
//! call failed, `{"id": n, "error": [...]}`: `["UserError", [message,
//! description, domain]]` for a refusal a user would see, `["'sale.sale'",
//! ""]` (an exception's text and a traceback) for a server fault such as a
//! model whose module is not activated. Authentication problems are HTTP
//! statuses: 401 for refused credentials, 429 when Tryton throttles logins.
//!
//! Pure: no host calls, so every mapping is tested natively.

use std::time::Duration;

use serde_json::{Value, json};
use silta_sdk::types::PluginError;

use crate::settings::{self, Settings};

/// The longest piece of a Tryton message kept in an error.
const MAX_DETAIL_CHARS: usize = 300;

/// A JSON-RPC call; [`crate::client::HttpRpc`] sends it, tests answer it.
pub trait Rpc {
    /// Calls `method` with `params` and returns its `result`, or the error
    /// the answer means.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, PluginError>;
}

/// The request body of call number `id`.
#[must_use]
pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({ "id": id, "method": method, "params": params })
}

/// Tryton's HTTP answer to `method`: its `result`, or the error it means.
pub fn interpret(
    settings: &Settings,
    method: &str,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Value, PluginError> {
    match status {
        200 => {}
        401 | 403 => {
            return Err(PluginError::unauthorized(format!(
                "Tryton refused the credentials for user `{}` on database `{}` (HTTP {status}); \
                 the secret `credentials` must be the base64 of `{}:<password>`",
                settings.user, settings.database, settings.user
            )));
        }
        429 => {
            return Err(PluginError::retryable_after(
                "Tryton is throttling logins (HTTP 429) after failed attempts",
                retry_after,
            ));
        }
        404 => {
            return Err(PluginError::permanent(format!(
                "Tryton has no JSON-RPC endpoint at {} (HTTP 404); check config `{}` and `{}`",
                settings.rpc_url(),
                settings::URL,
                settings::DATABASE
            )));
        }
        503 if String::from_utf8_lossy(body).contains("exist") => {
            return Err(PluginError::permanent(format!(
                "Tryton has no database `{}` (HTTP 503: {}); check config `{}`",
                settings.database,
                detail(&strip_tags(&String::from_utf8_lossy(body))),
                settings::DATABASE
            )));
        }
        408 | 500..=599 => {
            return Err(PluginError::retryable_after(
                format!("Tryton answered HTTP {status} to `{method}`"),
                retry_after,
            ));
        }
        _ => {
            return Err(PluginError::permanent(format!(
                "Tryton answered HTTP {status} to `{method}`"
            )));
        }
    }
    let answer: Value = serde_json::from_slice(body).map_err(|error| {
        PluginError::bad_input(format!(
            "Tryton's answer to `{method}` is not JSON ({error}); is `{}` a Tryton server?",
            settings.rpc_url()
        ))
    })?;
    let Some(answer) = answer.as_object() else {
        return Err(PluginError::bad_input(format!(
            "Tryton's answer to `{method}` is not a JSON-RPC object: {}",
            detail(&answer.to_string())
        )));
    };
    if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
        return Err(tryton_error(method, error));
    }
    answer.get("result").cloned().ok_or_else(|| {
        PluginError::bad_input(format!(
            "Tryton's answer to `{method}` has neither `result` nor `error`"
        ))
    })
}

/// What the `error` member of an answer means.
fn tryton_error(method: &str, error: &Value) -> PluginError {
    let kind = error.get(0).and_then(Value::as_str).unwrap_or_default();
    let args = error.get(1).unwrap_or(&Value::Null);
    let arg = |n: usize| args.get(n).and_then(Value::as_str).unwrap_or_default();
    let message = |text: &str, description: &str| {
        if description.is_empty() {
            detail(text)
        } else {
            detail(&format!("{text} - {description}"))
        }
    };
    match kind {
        "UserError" => PluginError::permanent(format!(
            "Tryton refused `{method}`: {}",
            message(arg(0), arg(1))
        )),
        "UserWarning" => PluginError::permanent(format!(
            "Tryton asked to confirm a warning on `{method}`: {}",
            message(arg(1), arg(2))
        )),
        "LoginException" => PluginError::unauthorized(format!(
            "Tryton asked for another login step ({}) on `{method}`; give the plugin a user that \
             logs in with a password alone",
            detail(arg(1))
        )),
        "ConcurrencyException" => PluginError::retryable(format!(
            "Tryton reported a concurrent change on `{method}`: {}",
            detail(args.as_str().unwrap_or_default())
        )),
        // An exception's text: `'sale.sale'` is a model Tryton does not know.
        text if text.len() > 2 && text.starts_with('\'') && text.ends_with('\'') => {
            PluginError::permanent(format!(
                "Tryton does not know {} (called `{method}`): activate its module, or for \
                 `sale.sale` set config `{}` to 0",
                detail(text),
                settings::MAX_ORDERS
            ))
        }
        "" => PluginError::permanent(format!(
            "Tryton answered `{method}` with an error: {}",
            detail(&error.to_string())
        )),
        text => PluginError::permanent(format!("Tryton failed on `{method}`: {}", detail(text))),
    }
}

/// `text` on one line, at most [`MAX_DETAIL_CHARS`] characters.
fn detail(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

/// The text of a small HTML error page.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&#39;", "'").replace("&quot;", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::from_config(|key| match key {
            "url" => Some("http://127.0.0.1:8000".into()),
            "database" => Some("erp".into()),
            _ => None,
        })
        .unwrap()
    }

    fn answer(status: u16, body: &str) -> Result<Value, PluginError> {
        interpret(
            &settings(),
            "model.party.party.search_read",
            status,
            None,
            body.as_bytes(),
        )
    }

    #[test]
    fn a_result_is_returned() {
        assert_eq!(answer(200, r#"{"id":1,"result":[2]}"#).unwrap(), json!([2]));
        assert_eq!(
            answer(200, r#"{"id":1,"result":null}"#).unwrap(),
            Value::Null
        );
        assert_eq!(
            request(3, "m", json!([[], {}])),
            json!({"id": 3, "method": "m", "params": [[], {}]})
        );
    }

    #[test]
    fn http_statuses_map_to_error_kinds() {
        let cases = [
            (401, "", "unauthorized", "base64 of `admin:<password>`"),
            (403, "", "unauthorized", "user `admin`"),
            (429, "", "retryable", "throttling"),
            (404, "", "permanent", "http://127.0.0.1:8000/erp/rpc/"),
            (
                503,
                "<p>Database &#39;/db/erp.sqlite&#39; doesn&#39;t exist!</p>",
                "permanent",
                "no database `erp`",
            ),
            (503, "busy", "retryable", "HTTP 503"),
            (500, "", "retryable", "HTTP 500"),
            (502, "", "retryable", "HTTP 502"),
            (400, "", "permanent", "HTTP 400"),
        ];
        for (status, body, kind, needle) in cases {
            let error = answer(status, body).unwrap_err();
            assert_eq!(error.kind(), kind, "{status}: {error:?}");
            assert!(error.message().contains(needle), "{status}: {error:?}");
        }
    }

    #[test]
    fn tryton_errors_map_to_error_kinds() {
        let cases = [
            (
                r#"{"id":1,"error":["UserError",["You can not call \"quote\".","",null]]}"#,
                "permanent",
                "Tryton refused `model.party.party.search_read`: You can not call \"quote\".",
            ),
            (
                r#"{"id":1,"error":["UserError",["Bad","More detail",null]]}"#,
                "permanent",
                "Bad - More detail",
            ),
            (
                r#"{"id":1,"error":["UserWarning",["w1","Sure?",""]]}"#,
                "permanent",
                "Sure?",
            ),
            (
                r#"{"id":1,"error":["LoginException",["totp","Code",  "char"]]}"#,
                "unauthorized",
                "another login step (Code)",
            ),
            (
                r#"{"id":1,"error":["ConcurrencyException","Records were modified"]}"#,
                "retryable",
                "Records were modified",
            ),
            (
                r#"{"id":1,"error":["'sale.sale'",""]}"#,
                "permanent",
                "does not know 'sale.sale'",
            ),
            (
                r#"{"id":1,"error":["database is locked","Traceback ..."]}"#,
                "permanent",
                "failed on `model.party.party.search_read`: database is locked",
            ),
            (r#"{"id":1,"error":[]}"#, "permanent", "with an error: []"),
        ];
        for (body, kind, needle) in cases {
            let error = answer(200, body).unwrap_err();
            assert_eq!(error.kind(), kind, "{body}: {error:?}");
            assert!(error.message().contains(needle), "{body}: {error:?}");
        }
    }

    #[test]
    fn malformed_answers_are_bad_input_with_a_reason() {
        let cases = [
            ("<html>hello</html>", "is not JSON"),
            ("[1, 2]", "not a JSON-RPC object"),
            (r#"{"id": 1}"#, "neither `result` nor `error`"),
        ];
        for (body, needle) in cases {
            let error = answer(200, body).unwrap_err();
            assert_eq!(error.kind(), "bad-input", "{body}");
            assert!(error.message().contains(needle), "{body}: {error:?}");
        }
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(1000);
        let body = format!(r#"{{"id":1,"error":["UserError",["{long}","",null]]}}"#);
        let error = answer(200, &body).unwrap_err();
        assert!(error.message().len() < 400, "{}", error.message().len());
        assert!(error.message().ends_with("..."));
    }
}
