//! Inbound checks: golden fixtures, idempotency on redelivery, signatures
//! and bad payloads.

use std::path::Path;

use serde_json::Value;
use silta_plugin_test::contract::Normalized;
use silta_runtime::{Error, PluginError};

use crate::fixtures::{golden_path, read};
use crate::{ChannelSpec, Delivery};

/// Normalize a fixture as its provider delivers it: a webhook body with
/// its signature, or a message read from the mailbox.
async fn deliver(spec: &ChannelSpec, body: &[u8]) -> silta_runtime::Result<Vec<Normalized>> {
    match spec.delivery {
        Delivery::Webhook { sign } => {
            let headers = sign(body);
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            spec.plugin.normalize_http(body, &headers).await
        }
        Delivery::Gateway { meta } => {
            let event = spec.plugin.other_event(meta, body.to_vec());
            spec.plugin.normalize(&event).await
        }
        Delivery::Mailbox { .. } => {
            let event = spec.plugin.imap_event(body.to_vec());
            spec.plugin.normalize(&event).await
        }
    }
}

/// The normalized output without what differs between runs.
pub fn stable_json(out: &[Normalized]) -> Value {
    let items = out
        .iter()
        .map(|item| match item {
            Normalized::Interaction(n) => {
                let mut interaction = serde_json::to_value(&n.interaction).unwrap_or(Value::Null);
                if let Some(o) = interaction.as_object_mut() {
                    o.remove("id");
                }
                let identity = |i: &silta_model::Identity| {
                    let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
                    if let Some(o) = v.as_object_mut() {
                        o.remove("id");
                    }
                    v
                };
                serde_json::json!({
                    "interaction": interaction,
                    "sender": identity(&n.sender),
                    "recipients": n.recipients.iter().map(identity).collect::<Vec<_>>(),
                    "blobs": n.blobs.iter().map(|(h, b)| serde_json::json!({"hash": h.as_str(), "bytes": b.len()})).collect::<Vec<_>>(),
                })
            }
            Normalized::DeliveryUpdate(d) => serde_json::json!({ "delivery_update": d }),
        })
        .collect();
    Value::Array(items)
}

/// Checks 1 and 2: the fixture normalizes to its golden file, and again to
/// the same idempotency keys.
pub async fn golden_and_idempotent(spec: &ChannelSpec, path: &Path) {
    let body = read(path);
    let first = deliver(spec, &body)
        .await
        .unwrap_or_else(|e| panic!("golden {}: normalize failed: {e}", path.display()));
    let rendered = serde_json::to_string_pretty(&stable_json(&first)).unwrap_or_default() + "\n";
    if let Err(message) = silta_plugin_test::golden::check(&golden_path(path), &rendered) {
        panic!("golden {}: {message}", path.display());
    }
    let again = deliver(spec, &body).await.unwrap_or_default();
    assert_eq!(
        idempotency_keys(&first),
        idempotency_keys(&again),
        "idempotency {}: the same message gave different keys",
        path.display()
    );
}

fn idempotency_keys(out: &[Normalized]) -> Vec<String> {
    out.iter()
        .filter_map(|n| match n {
            Normalized::Interaction(i) => Some(i.interaction.idempotency_key.to_string()),
            Normalized::DeliveryUpdate(_) => None,
        })
        .collect()
}

/// Check 3: a tampered and a missing signature are refused as
/// `unauthorized`.
pub async fn signatures(spec: &ChannelSpec, sign: fn(&[u8]) -> Vec<(String, String)>, path: &Path) {
    let body = read(path);
    let mut headers = sign(&body);
    for (_, value) in headers.iter_mut() {
        let last = value.pop().unwrap_or('0');
        value.push(if last == '0' { '1' } else { '0' });
    }
    let tampered: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    match spec.plugin.normalize_http(&body, &tampered).await {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(_),
            ..
        }) => {}
        other => panic!(
            "signatures: a tampered signature must be refused as unauthorized, got {other:?}"
        ),
    }
    match spec.plugin.normalize_http(&body, &[]).await {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(_),
            ..
        }) => {}
        other => {
            panic!("signatures: a missing signature must be refused as unauthorized, got {other:?}")
        }
    }
}

/// Check 3, for events only the host hands over: the same body posted
/// to the ingest API (over HTTP, by anyone) is refused as `unauthorized`.
pub async fn only_through_the_host(spec: &ChannelSpec, path: &Path) {
    match spec.plugin.normalize_http(&read(path), &[]).await {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(_),
            ..
        }) => {}
        other => panic!(
            "signatures: an event posted over HTTP must be refused as unauthorized, got {other:?}"
        ),
    }
}

/// Check 4: an unreadable fixture is `bad-input` with a reason.
pub async fn bad_input(spec: &ChannelSpec, path: &Path) {
    match deliver(spec, &read(path)).await {
        Err(Error::Plugin {
            error: PluginError::BadInput(reason),
            ..
        }) if !reason.trim().is_empty() => {}
        other => panic!(
            "bad input {}: expected a bad-input error with a reason, got {other:?}",
            path.display()
        ),
    }
}
