//! The connector compliance suite: the checks every channel plugin must
//! pass, run against the real component in the real runtime.
//!
//! A plugin's test describes itself with a [`ChannelSpec`] (how to start it,
//! where its fixtures are, how to sign a payload, a sample outbound message)
//! and calls [`check_channel`]. The checks:
//!
//! 1. **golden fixtures**: every `fixtures/valid/NAME.json`, signed,
//!    normalizes to exactly `NAME.normalized.json` (random ids left out;
//!    the harness receives every event at a fixed time); `BLESS=1`
//!    rewrites those files;
//! 2. **idempotency**: the same provider message twice gives the same
//!    idempotency keys;
//! 3. **signatures**: a tampered or missing signature is refused as
//!    `unauthorized`;
//! 4. **bad payloads**: every `fixtures/malformed/*.json`, signed, gives a
//!    `bad-input` error with a reason (never a trap, never a crash);
//! 5. **outbound**: `render` gives a well-formed transport request, and the
//!    provider's answers map to delivery outcomes (2xx sent, 4xx failed,
//!    5xx retryable).
//!
//! An email channel has no webhook, no signature and no HTTP answer: it
//! describes itself with a [`MailChannelSpec`] and calls
//! [`check_mail_channel`], which runs the same checks over raw RFC 5322
//! messages delivered as IMAP events, and SMTP replies (2xx sent, 4xx
//! retryable, 5xx failed).

use std::path::{Path, PathBuf};

use serde_json::Value;
use silta_model::Part;
use silta_plugin_test::PluginUnderTest;
use silta_plugin_test::contract::{
    AttachmentBytes, HttpResponse, Normalized, OutboundMessage, TransportRequest, TransportResponse,
};
use silta_runtime::{Error, PluginError};

/// How to exercise one channel plugin.
pub struct ChannelSpec {
    /// The plugin, started with its test secrets and configuration.
    pub plugin: PluginUnderTest,
    /// The folder holding `valid/` and `malformed/`.
    pub fixtures: PathBuf,
    /// Headers that make `body` authentic for this plugin (a signature).
    pub sign: fn(&[u8]) -> Vec<(String, String)>,
    /// A message to render.
    pub outbound: OutboundMessage,
}

/// Run every check; panics with a message naming the check and fixture on
/// the first failure. Returns how many fixtures were checked.
pub async fn check_channel(spec: &ChannelSpec) -> usize {
    let valid = fixtures(&spec.fixtures.join("valid"));
    let malformed = fixtures(&spec.fixtures.join("malformed"));
    assert!(
        !valid.is_empty(),
        "no fixtures in {}/valid",
        spec.fixtures.display()
    );
    assert!(
        !malformed.is_empty(),
        "no fixtures in {}/malformed",
        spec.fixtures.display()
    );
    for path in &valid {
        golden(spec, path).await;
        idempotent(spec, path).await;
    }
    signatures(spec, &valid[0]).await;
    for path in &malformed {
        bad_input(spec, path).await;
    }
    outbound(spec).await;
    valid.len() + malformed.len()
}

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "json")
                        && !p.to_string_lossy().ends_with(".normalized.json")
                        && !p.to_string_lossy().ends_with(".expected.json")
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn normalize_signed(
    spec: &ChannelSpec,
    body: &[u8],
) -> silta_runtime::Result<Vec<Normalized>> {
    let headers = (spec.sign)(body);
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    spec.plugin.normalize_http(body, &headers).await
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

async fn golden(spec: &ChannelSpec, path: &Path) {
    let out = normalize_signed(spec, &read(path))
        .await
        .unwrap_or_else(|e| panic!("golden {}: normalize failed: {e}", path.display()));
    let actual = stable_json(&out);
    let expected_path = PathBuf::from(path.to_string_lossy().replace(".json", ".normalized.json"));
    let rendered = serde_json::to_string_pretty(&actual).unwrap_or_default() + "\n";
    if let Err(message) = silta_plugin_test::golden::check(&expected_path, &rendered) {
        panic!("golden {}: {message}", path.display());
    }
}

async fn idempotent(spec: &ChannelSpec, path: &Path) {
    let body = read(path);
    let keys = |out: Vec<Normalized>| -> Vec<String> {
        out.iter()
            .filter_map(|n| match n {
                Normalized::Interaction(i) => Some(i.interaction.idempotency_key.to_string()),
                Normalized::DeliveryUpdate(_) => None,
            })
            .collect()
    };
    let first = keys(normalize_signed(spec, &body).await.unwrap_or_default());
    let second = keys(normalize_signed(spec, &body).await.unwrap_or_default());
    assert_eq!(
        first,
        second,
        "idempotency {}: the same message gave different keys",
        path.display()
    );
}

async fn signatures(spec: &ChannelSpec, path: &Path) {
    let body = read(path);
    let mut headers = (spec.sign)(&body);
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

async fn bad_input(spec: &ChannelSpec, path: &Path) {
    match normalize_signed(spec, &read(path)).await {
        Err(Error::Plugin {
            error: PluginError::BadInput(reason),
            ..
        }) => {
            assert!(
                !reason.trim().is_empty(),
                "bad input {}: the error gives no reason",
                path.display()
            );
        }
        other => panic!(
            "bad input {}: expected a bad-input error with a reason, got {other:?}",
            path.display()
        ),
    }
}

async fn outbound(spec: &ChannelSpec) {
    let request = spec
        .plugin
        .render(&spec.outbound)
        .await
        .unwrap_or_else(|e| panic!("outbound: render failed: {e}"));
    if let TransportRequest::Http(h) = &request {
        h.method
            .parse::<http::Method>()
            .unwrap_or_else(|e| panic!("outbound: bad method {:?}: {e}", h.method));
        let uri: http::Uri = h
            .url
            .parse()
            .unwrap_or_else(|e| panic!("outbound: bad url {:?}: {e}", h.url));
        assert!(
            uri.scheme().is_some() && uri.host().is_some(),
            "outbound: url {:?} is not absolute",
            h.url
        );
        for (name, value) in &h.headers {
            http::HeaderName::from_bytes(name.as_bytes())
                .unwrap_or_else(|e| panic!("outbound: bad header name {name:?}: {e}"));
            http::HeaderValue::from_str(value)
                .unwrap_or_else(|e| panic!("outbound: bad header value for {name}: {e}"));
        }
    }
    let answer = |status: u16| {
        TransportResponse::Http(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"id":"provider-42"}"#.to_vec(),
        })
    };
    let sent = spec.plugin.interpret_response(&request, &answer(200)).await;
    match sent {
        Ok(o) => assert!(
            matches!(
                o.state,
                silta_model::DeliveryState::Sent | silta_model::DeliveryState::Delivered
            ),
            "outbound: a 200 answer must mean sent or delivered, got {o:?}"
        ),
        Err(e) => panic!("outbound: a 200 answer failed: {e}"),
    }
    match spec.plugin.interpret_response(&request, &answer(503)).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { .. },
            ..
        }) => {}
        other => panic!("outbound: a 503 answer must be retryable, got {other:?}"),
    }
    match spec.plugin.interpret_response(&request, &answer(400)).await {
        Ok(o) if o.state == silta_model::DeliveryState::Failed => {}
        Err(Error::Plugin {
            error: PluginError::Permanent(_),
            ..
        }) => {}
        other => panic!("outbound: a 400 answer must mean failed, got {other:?}"),
    }
}

// === impl MailChannelSpec ===

/// How to exercise one email channel plugin.
pub struct MailChannelSpec {
    /// The plugin, started with its test configuration.
    pub plugin: PluginUnderTest,
    /// The folder of fixture groups (`rfc/`, `malformed/`, ...), each
    /// holding `NAME.eml`; the host's view is kept as `NAME.normalized.json`.
    pub fixtures: PathBuf,
    /// Which fixtures must be refused as bad input (all others must
    /// normalize).
    pub unreadable: fn(&Path) -> bool,
    /// A message to render.
    pub outbound: OutboundMessage,
}

/// Run every check of an email channel; panics naming the check and
/// fixture on the first failure. Returns how many fixtures were checked.
pub async fn check_mail_channel(spec: &MailChannelSpec) -> usize {
    let mut messages: Vec<PathBuf> = std::fs::read_dir(&spec.fixtures)
        .map(|groups| {
            groups
                .flatten()
                .map(|group| group.path())
                .filter(|group| group.is_dir())
                .flat_map(|group| std::fs::read_dir(group).into_iter().flatten().flatten())
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default();
    messages.sort();
    let (unreadable, readable): (Vec<PathBuf>, Vec<PathBuf>) = messages
        .into_iter()
        .partition(|path| (spec.unreadable)(path));
    assert!(
        !readable.is_empty(),
        "no .eml fixtures under {}",
        spec.fixtures.display()
    );
    assert!(
        !unreadable.is_empty(),
        "no unreadable .eml fixtures under {}",
        spec.fixtures.display()
    );
    for path in &readable {
        let event = spec.plugin.imap_event(read(path));
        let first = spec
            .plugin
            .normalize(&event)
            .await
            .unwrap_or_else(|e| panic!("golden {}: normalize failed: {e}", path.display()));
        let expected_path = path.with_extension("normalized.json");
        let rendered =
            serde_json::to_string_pretty(&stable_json(&first)).unwrap_or_default() + "\n";
        if let Err(message) = silta_plugin_test::golden::check(&expected_path, &rendered) {
            panic!("golden {}: {message}", path.display());
        }
        let again = spec.plugin.normalize(&event).await.unwrap_or_default();
        assert_eq!(
            idempotency_keys(&first),
            idempotency_keys(&again),
            "idempotency {}: the same message gave different keys",
            path.display()
        );
    }
    for path in &unreadable {
        match spec
            .plugin
            .normalize(&spec.plugin.imap_event(read(path)))
            .await
        {
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
    mail_outbound(spec).await;
    readable.len() + unreadable.len()
}

fn idempotency_keys(out: &[Normalized]) -> Vec<String> {
    out.iter()
        .filter_map(|n| match n {
            Normalized::Interaction(i) => Some(i.interaction.idempotency_key.to_string()),
            Normalized::DeliveryUpdate(_) => None,
        })
        .collect()
}

/// An attachment named by content hash reaches the message with the
/// bytes the host hands over, as the host's sender does from its blob
/// store.
async fn mail_attachment(spec: &MailChannelSpec) {
    let bytes = vec![b'Z'; 300];
    let hash = silta_model::ContentHash::of(&bytes);
    let mut message = spec.outbound.clone();
    message
        .parts
        .push(Part::Attachment(silta_model::Attachment {
            filename: Some("compliance.bin".into()),
            media_type: "application/octet-stream".into(),
            size_bytes: Some(300),
            content_hash: Some(hash.clone()),
            url: None,
            content_id: None,
            inline: false,
        }));
    let bytes_by_hash = AttachmentBytes::from([(hash, bytes)]);
    let request = spec
        .plugin
        .render_with(&message, &bytes_by_hash)
        .await
        .unwrap_or_else(|e| panic!("outbound: render with an attachment failed: {e}"));
    let TransportRequest::Email(email) = &request else {
        panic!("outbound: an email channel must render an email request, got {request:?}");
    };
    let raw = String::from_utf8_lossy(&email.raw);
    assert!(
        raw.contains("compliance.bin") && raw.contains("WlpaWlpaWlpa"),
        "outbound: the attachment's name and base64 bytes are missing:\n{raw}"
    );
}

async fn mail_outbound(spec: &MailChannelSpec) {
    let request = spec
        .plugin
        .render(&spec.outbound)
        .await
        .unwrap_or_else(|e| panic!("outbound: render failed: {e}"));
    let TransportRequest::Email(email) = &request else {
        panic!("outbound: an email channel must render an email request, got {request:?}");
    };
    assert!(
        email.envelope_from.contains('@') && !email.envelope_to.is_empty(),
        "outbound: incomplete envelope {email:?}"
    );
    assert!(
        !email.message_id.is_empty() && !email.message_id.contains(['<', '>']),
        "outbound: message id {:?} must be given without angle brackets",
        email.message_id
    );
    let raw = String::from_utf8_lossy(&email.raw);
    assert!(
        raw.contains(&format!("<{}>", email.message_id)),
        "outbound: the message does not carry its Message-ID"
    );
    mail_attachment(spec).await;
    let answer = |code: u16, text: &str| TransportResponse::Smtp {
        code,
        text: text.into(),
    };
    match spec
        .plugin
        .interpret_response(&request, &answer(250, "2.0.0 Ok: queued"))
        .await
    {
        Ok(o) => assert!(
            o.state == silta_model::DeliveryState::Sent,
            "outbound: a 250 reply must mean sent, got {o:?}"
        ),
        Err(e) => panic!("outbound: a 250 reply failed: {e}"),
    }
    match spec
        .plugin
        .interpret_response(&request, &answer(451, "4.7.1 try again later"))
        .await
    {
        Err(Error::Plugin {
            error: PluginError::Retryable { .. },
            ..
        }) => {}
        other => panic!("outbound: a 451 reply must be retryable, got {other:?}"),
    }
    match spec
        .plugin
        .interpret_response(&request, &answer(550, "5.1.1 user unknown"))
        .await
    {
        Ok(o) if o.state == silta_model::DeliveryState::Failed => {}
        other => panic!("outbound: a 550 reply must mean failed, got {other:?}"),
    }
}
