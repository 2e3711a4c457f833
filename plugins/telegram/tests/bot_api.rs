//! The component in the real runtime against the Bot API played on
//! loopback: the test kit's `FakeProvider` on 127.0.0.1 answers `POST
//! /bot<token>/<method>` with the Bot API's documented success and error
//! bodies, and only for the right token. The plugin normalizes a webhook
//! `Update` (its secret-token header checked by the host), renders the
//! reply, the host fills the bot token into the URL path
//! (`Plugin::prepare_http_request`, as the sender does), the request goes
//! to the server, and `interpret-response` reads the answer.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use silta_model::{
    Assurance, Attachment, DeliveryState, Identity, IdentityKind, IdentityScope, InteractionId,
    Location, Part, ThreadKey,
};
use silta_plugin_test::contract::{DeliveryOutcome, Normalized, OutboundMessage};
use silta_plugin_test::fake_provider::{self, Answer, FakeProvider, Received};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};

const BOT_TOKEN: &str = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const SECRET_TOKEN: &str = "loopback-Secret_token-42";

/// Chats, each answered differently by the fake Bot API.
const ACCEPTED: i64 = 123_456_789;
const BLOCKED: i64 = 223_456_789;
const FLOODED: i64 = 323_456_789;
const BROKEN: i64 = 423_456_789;
const UNKNOWN_CHAT: i64 = 523_456_789;

// === the fake Bot API ===

/// The Bot API, numbering the messages it accepts from 100 on.
async fn start_bot_api() -> FakeProvider {
    let next_id = AtomicI64::new(100);
    FakeProvider::start(move |request| {
        let (status, body) = bot_api(&request.path, &request.json(), &next_id);
        Answer::json(status, &body)
    })
    .await
}

/// A Bot API error body as Telegram documents it.
fn error(code: u16, description: &str) -> (u16, Value) {
    (
        code,
        json!({"ok": false, "error_code": code, "description": description}),
    )
}

/// The Bot API's answer to a call.
fn bot_api(path: &str, body: &Value, next_id: &AtomicI64) -> (u16, Value) {
    // `/bot<token>/<method>`: Telegram answers 404 to a path it cannot
    // read as one and 401 to a token it does not know.
    let Some((token, method)) = path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return error(404, "Not Found");
    };
    if token != BOT_TOKEN {
        return if token.split_once(':').is_some() {
            error(401, "Unauthorized")
        } else {
            error(404, "Not Found")
        };
    }
    if !matches!(
        method,
        "sendMessage" | "sendPhoto" | "sendDocument" | "sendLocation" | "sendVenue"
    ) {
        return error(404, "Not Found: method not found");
    }
    match body["chat_id"].as_i64() {
        Some(ACCEPTED) => {
            let message_id = next_id.fetch_add(1, Ordering::SeqCst);
            let mut result = json!({
                "message_id": message_id,
                "from": {"id": 7_000_000_001_i64, "is_bot": true, "first_name": "Kahvila Shop",
                    "username": "kahvila_shop_bot"},
                "chat": {"id": ACCEPTED, "first_name": "Aino", "type": "private"},
                "date": 1_795_464_000,
            });
            if let Some(text) = body.get("text") {
                result["text"] = text.clone();
            }
            (200, json!({"ok": true, "result": result}))
        }
        Some(BLOCKED) => error(403, "Forbidden: bot was blocked by the user"),
        Some(FLOODED) => (
            429,
            json!({"ok": false, "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7}}),
        ),
        Some(BROKEN) => error(502, "Bad Gateway"),
        Some(UNKNOWN_CHAT) | None => error(400, "Bad Request: chat not found"),
        Some(_) => error(400, "Bad Request: chat not found"),
    }
}

// === the plugin ===

async fn start_with(api: &FakeProvider, bot_token: &str) -> PluginUnderTest {
    Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("webhook-secret-token", SECRET_TOKEN)
        .secret("bot-token", bot_token)
        .config("api_url", &api.url())
        .start()
        .await
}

async fn start(api: &FakeProvider) -> PluginUnderTest {
    start_with(api, BOT_TOKEN).await
}

/// A customer's text message in their private chat, as Telegram posts it.
fn update(chat: i64, message_id: i64) -> String {
    json!({"update_id": 836_120_000 + message_id, "message": {
        "message_id": message_id,
        "from": {"id": chat, "is_bot": false, "first_name": "Aino", "last_name": "Virtanen"},
        "chat": {"id": chat, "first_name": "Aino", "type": "private"},
        "date": 1_795_463_900,
        "text": "Hei! Missä tilaukseni on?"}})
    .to_string()
}

/// The customer writes; returns the inbound provider message id.
async fn customer_writes(plugin: &PluginUnderTest, chat: i64, message_id: i64) -> String {
    let body = update(chat, message_id);
    let out = plugin
        .normalize_http(
            body.as_bytes(),
            &[("x-telegram-bot-api-secret-token", SECRET_TOKEN)],
        )
        .await
        .expect("an update with the right secret token normalizes");
    let [Normalized::Interaction(message)] = out.as_slice() else {
        panic!("one interaction, got {out:?}");
    };
    message
        .interaction
        .idempotency_key
        .provider_message_id()
        .to_owned()
}

fn reply(chat: i64, replied: &str, parts: Vec<Part>) -> OutboundMessage {
    OutboundMessage {
        channel_account: silta_plugin_test::TEST_CHANNEL_ACCOUNT.into(),
        interaction_id: InteractionId::new(),
        recipient: Identity::new(
            IdentityKind::Telegram,
            &chat.to_string(),
            IdentityScope::Global,
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        sender: None,
        subject: None,
        parts,
        thread_keys: vec![ThreadKey::ProviderThread(chat.to_string())],
        reply_to_provider_message_id: Some(replied.to_owned()),
        reply_to_email: None,
        reply_token: "rt".into(),
    }
}

fn text() -> Vec<Part> {
    vec![Part::Text("Tilauksesi on matkalla.".into())]
}

/// Renders `message`, has the host fill the token in, sends it to the
/// fake Bot API and interprets the answer.
async fn deliver(
    plugin: &PluginUnderTest,
    message: &OutboundMessage,
) -> silta_runtime::Result<DeliveryOutcome> {
    fake_provider::deliver(plugin, message, |request| {
        assert!(
            !request.url.contains(BOT_TOKEN) && request.url.contains("/bot{{silta-secret:"),
            "the plugin never sees the token, only its placeholder: {}",
            request.url
        );
        // What the host's sender sends, and what it logs instead.
        let outbound = plugin
            .plugin()
            .outbound_request(request)
            .expect("the loopback origin is granted");
        let redacted = outbound.redacted_url.as_deref().unwrap_or_default();
        assert!(
            redacted.contains("/bot{{secret:bot-token}}/") && !redacted.contains(BOT_TOKEN),
            "logs show the URL without the token: {redacted:?}"
        );
    })
    .await
}

// === the tests ===

#[tokio::test]
async fn a_reply_threads_on_the_customers_message_and_answers_map() {
    let api = start_bot_api().await;
    let plugin = start(&api).await;

    let inbound = customer_writes(&plugin, ACCEPTED, 41).await;
    assert_eq!(inbound, format!("{ACCEPTED}:41"));
    let sent = deliver(&plugin, &reply(ACCEPTED, &inbound, text()))
        .await
        .expect("sent");
    assert_eq!(sent.state, DeliveryState::Sent);
    assert_eq!(sent.provider_message_id, Some(format!("{ACCEPTED}:100")));

    let blocked = deliver(&plugin, &reply(BLOCKED, &format!("{BLOCKED}:5"), text()))
        .await
        .expect("an outcome");
    assert_eq!(blocked.state, DeliveryState::Failed);
    assert_eq!(blocked.provider_code.as_deref(), Some("403"));
    assert_eq!(
        blocked.detail.as_deref(),
        Some("Forbidden: bot was blocked by the user")
    );

    let unknown = deliver(
        &plugin,
        &reply(UNKNOWN_CHAT, &format!("{UNKNOWN_CHAT}:5"), text()),
    )
    .await
    .expect("an outcome");
    assert_eq!(unknown.state, DeliveryState::Failed);
    assert_eq!(unknown.provider_code.as_deref(), Some("400"));
    assert_eq!(
        unknown.detail.as_deref(),
        Some("Bad Request: chat not found")
    );

    match deliver(&plugin, &reply(FLOODED, &format!("{FLOODED}:5"), text())).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { retry_after, .. },
            ..
        }) => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("429 must be retryable after 7 s, got {other:?}"),
    }
    match deliver(&plugin, &reply(BROKEN, &format!("{BROKEN}:5"), text())).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { message, .. },
            ..
        }) => assert!(message.contains("502"), "{message}"),
        other => panic!("502 must be retryable, got {other:?}"),
    }

    // Every request reached `/bot<token>/sendMessage` (the server answers
    // only there) with the reply's parameters.
    let seen = api.received();
    assert_eq!(seen.len(), 5);
    for request in &seen {
        assert_eq!(request.path, format!("/bot{BOT_TOKEN}/sendMessage"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.json()["text"], "Tilauksesi on matkalla.");
    }
    assert_eq!(
        seen[0].json(),
        json!({"chat_id": ACCEPTED, "text": "Tilauksesi on matkalla.",
            "reply_parameters": {"message_id": 41, "allow_sending_without_reply": true}})
    );
}

#[tokio::test]
async fn attachments_and_locations_use_their_methods() {
    let api = start_bot_api().await;
    let plugin = start(&api).await;
    let replied = format!("{ACCEPTED}:41");
    let photo = Attachment {
        filename: None,
        media_type: "image/png".into(),
        size_bytes: None,
        content_hash: None,
        url: Some("https://cdn.example.com/parcel.png".into()),
        content_id: None,
        inline: false,
    };
    let document = Attachment {
        filename: Some("kuitti.pdf".into()),
        media_type: "application/pdf".into(),
        url: Some("tg-file:BQACAgQAAxkBAAIBL2VhZ2FfAAH3kuitti".into()),
        ..photo.clone()
    };
    let location = Location {
        latitude: 60.167_468,
        longitude: 24.952_436,
        name: None,
        address: None,
    };
    for parts in [
        vec![
            Part::Text("Pakettisi".into()),
            Part::Attachment(photo.clone()),
        ],
        vec![Part::Attachment(document)],
        vec![Part::Location(location)],
    ] {
        let sent = deliver(&plugin, &reply(ACCEPTED, &replied, parts))
            .await
            .expect("sent");
        assert_eq!(sent.state, DeliveryState::Sent);
    }
    let seen = api.received();
    let paths: Vec<&str> = seen
        .iter()
        .map(|s| s.path.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(paths, ["sendPhoto", "sendDocument", "sendLocation"]);
    let bodies: Vec<Value> = seen.iter().map(Received::json).collect();
    assert_eq!(bodies[0]["photo"], "https://cdn.example.com/parcel.png");
    assert_eq!(bodies[0]["caption"], "Pakettisi");
    assert_eq!(bodies[1]["document"], "BQACAgQAAxkBAAIBL2VhZ2FfAAH3kuitti");
    assert_eq!(bodies[2]["latitude"], 60.167_468);
    for body in &bodies {
        assert_eq!(body["reply_parameters"]["message_id"], 41);
    }
}

#[tokio::test]
async fn a_wrong_bot_token_is_unauthorized() {
    let api = start_bot_api().await;
    let plugin = start_with(&api, "7000000001:revoked-token").await;
    match deliver(&plugin, &reply(ACCEPTED, &format!("{ACCEPTED}:41"), text())).await {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(reason),
            ..
        }) => assert!(reason.contains("bot-token"), "{reason}"),
        other => panic!("401 must be unauthorized, got {other:?}"),
    }
    let seen = api.received();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/bot7000000001:revoked-token/sendMessage");
}

#[tokio::test]
async fn updates_without_the_right_secret_token_are_unauthorized() {
    let api = start_bot_api().await;
    let plugin = start(&api).await;
    let body = update(ACCEPTED, 41);
    for headers in [
        vec![],
        vec![(
            "x-telegram-bot-api-secret-token",
            "loopback-Secret_token-43",
        )],
        vec![("x-telegram-bot-api-secret-token", "loopback-Secret_token-4")],
        vec![("x-telegram-bot-api-secret-token", "not a token")],
    ] {
        match plugin.normalize_http(body.as_bytes(), &headers).await {
            Err(Error::Plugin {
                error: PluginError::Unauthorized(reason),
                ..
            }) => assert!(
                reason.contains("x-telegram-bot-api-secret-token"),
                "{reason}"
            ),
            other => panic!("{headers:?}: expected unauthorized, got {other:?}"),
        }
    }
    // A redelivered update is the same message.
    let first = customer_writes(&plugin, ACCEPTED, 41).await;
    let again = customer_writes(&plugin, ACCEPTED, 41).await;
    assert_eq!(first, again);
    assert!(api.received().is_empty(), "nothing was sent");
}
