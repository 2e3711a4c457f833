//! `normalize`: one JSON command in, one capability call, one interaction out.
//!
//! The body is `{"action": "<name>", ...}`. Every action but `echo` may also
//! carry `from` (default [`DEFAULT_SENDER`]) and `id` (default
//! `echo-<action>`). The interaction's text parts per action:
//!
//! | action   | fields                     | text parts                                         |
//! |----------|----------------------------|----------------------------------------------------|
//! | `echo`   | `from`, `text`, `id`       | `text` (plus thread key provider-thread = `id`)    |
//! | `kv`     | `key`, `value`             | the value read back after `kv.set`, or `<none>`    |
//! | `config` | `key`                      | `config.get(key)` or `<none>`                      |
//! | `sign`   | `secret`, `data`, `algorithm`? | hex HMAC, `verified=<bool>`, the header placeholder (`algorithm`: `sha1`, `sha512`; SHA-256 without) |
//! | `http`   | `url`, `header_secret`?, `url_secret`?, `basic_secret`? + `basic_user`? | `status=<code> body=<body>` |
//! | `log`    | `message`                  | `logged`                                           |
//! | `sleep`  | `ms`                       | `slept`                                            |
//!
//! `bad` and `retry` return errors; see [`run`].

use std::time::Duration;

use guest_kit::silta::connector::types::{
    InboundEvent, Normalized, Part, PluginError, RetryableError, ThreadKey,
};
use guest_kit::silta::connector::{config, kv, log, secrets};
use serde_json::Value;

/// The sender when a command names none.
pub const DEFAULT_SENDER: &str = "customer@example.test";

/// Reads the command in `event.body` and carries it out.
pub fn normalize(event: InboundEvent) -> Result<Vec<Normalized>, PluginError> {
    let command: Value =
        serde_json::from_slice(&event.body).map_err(|e| PluginError::BadInput(e.to_string()))?;
    let action = required_str(&command, "action")?;
    let parts = run(action, &command)?;

    let (from, id) = if action == "echo" {
        (
            required_str(&command, "from")?,
            required_str(&command, "id")?.to_owned(),
        )
    } else {
        (
            optional_str(&command, "from").unwrap_or(DEFAULT_SENDER),
            optional_str(&command, "id").map_or_else(|| format!("echo-{action}"), str::to_owned),
        )
    };
    let mut interaction = guest_kit::text_interaction(from, &id, event.received_at, "");
    interaction.parts = parts;
    if action == "echo" {
        interaction.thread_keys.push(ThreadKey::ProviderThread(id));
    }
    Ok(vec![Normalized::Interaction(interaction)])
}

/// The text parts of `action`, or the error it stands for.
fn run(action: &str, command: &Value) -> Result<Vec<Part>, PluginError> {
    let texts = match action {
        "echo" => vec![required_str(command, "text")?.to_owned()],
        "kv" => {
            let key = required_str(command, "key")?;
            let value = required_str(command, "value")?;
            kv::set(key, value.as_bytes()).map_err(debug_permanent)?;
            let read = kv::get(key).map_err(debug_permanent)?;
            vec![read.map_or_else(|| "<none>".to_owned(), |bytes| lossy(&bytes))]
        }
        "config" => {
            let key = required_str(command, "key")?;
            vec![config::get(key).unwrap_or_else(|| "<none>".to_owned())]
        }
        "sign" => {
            let secret =
                secrets::open(required_str(command, "secret")?).map_err(debug_permanent)?;
            let data = required_str(command, "data")?.as_bytes();
            let algorithm = match optional_str(command, "algorithm") {
                None => None,
                Some("sha1") => Some(secrets::HashAlgorithm::Sha1),
                Some("sha512") => Some(secrets::HashAlgorithm::Sha512),
                Some(other) => {
                    return Err(PluginError::BadInput(format!(
                        "`algorithm` must be `sha1` or `sha512`, not `{other}`"
                    )));
                }
            };
            let (signature, verified) = match algorithm {
                None => {
                    let signature = secret.hmac_sha256(data);
                    let verified = secret.verify_hmac_sha256(data, &signature);
                    (signature, verified)
                }
                Some(algorithm) => {
                    let signature = secret.hmac(algorithm, data);
                    let verified = secret.verify_hmac(algorithm, data, &signature)
                        && !secret.verify_hmac(algorithm, b"other data", &signature);
                    (signature, verified)
                }
            };
            vec![
                hex(&signature),
                format!("verified={verified}"),
                secret.header_placeholder(),
            ]
        }
        "http" => {
            let mut url = required_str(command, "url")?.to_owned();
            // `{secret}` in the URL becomes the placeholder of `url_secret`.
            if let Some(name) = optional_str(command, "url_secret") {
                let secret = secrets::open(name).map_err(debug_permanent)?;
                url = url.replace("{secret}", &secret.header_placeholder());
            }
            let authorization = match (
                optional_str(command, "header_secret"),
                optional_str(command, "basic_secret"),
            ) {
                (Some(name), _) => {
                    let secret = secrets::open(name).map_err(debug_permanent)?;
                    Some(format!("Bearer {}", secret.header_placeholder()))
                }
                (None, Some(name)) => {
                    let secret = secrets::open(name).map_err(debug_permanent)?;
                    let user = optional_str(command, "basic_user").unwrap_or_default();
                    Some(secret.basic_auth_placeholder(user))
                }
                (None, None) => None,
            };
            let headers: Vec<(&str, &str)> = authorization
                .iter()
                .map(|value| ("authorization", value.as_str()))
                .collect();
            vec![guest_kit::http_get_summary(&url, &headers)?]
        }
        "log" => {
            let message = required_str(command, "message")?;
            log::log(
                log::Level::Info,
                message,
                &[("k".to_owned(), "v".to_owned())],
            );
            vec!["logged".to_owned()]
        }
        "sleep" => {
            let ms = command.get("ms").and_then(Value::as_u64).ok_or_else(|| {
                PluginError::BadInput("field `ms` is missing or not a whole number".to_owned())
            })?;
            std::thread::sleep(Duration::from_millis(ms));
            vec!["slept".to_owned()]
        }
        "bad" => return Err(missing("text")),
        "retry" => {
            return Err(PluginError::Retryable(RetryableError {
                message: "provider busy".to_owned(),
                retry_after_ms: Some(1500),
            }));
        }
        other => return Err(PluginError::BadInput(format!("unknown action `{other}`"))),
    };
    Ok(texts.into_iter().map(Part::Text).collect())
}

fn required_str<'a>(command: &'a Value, field: &str) -> Result<&'a str, PluginError> {
    optional_str(command, field).ok_or_else(|| missing(field))
}

fn optional_str<'a>(command: &'a Value, field: &str) -> Option<&'a str> {
    command.get(field).and_then(Value::as_str)
}

fn missing(field: &str) -> PluginError {
    PluginError::BadInput(format!("field `{field}` is missing"))
}

fn debug_permanent(error: impl std::fmt::Debug) -> PluginError {
    PluginError::Permanent(format!("{error:?}"))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
