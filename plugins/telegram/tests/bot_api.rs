//! The component in the real runtime against the Bot API played on
//! loopback: a small hyper server on 127.0.0.1 answers `POST
//! /bot<token>/<method>` with the Bot API's documented success and error
//! bodies, and only for the right token. The plugin normalizes a webhook
//! `Update` (its secret-token header checked by the host), renders the
//! reply, the host fills the bot token into the URL path
//! (`Plugin::prepare_http_request`, as the sender does), the request goes
//! to the server, and `interpret-response` reads the answer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use silta_model::{
    Assurance, Attachment, DeliveryState, Identity, IdentityKind, IdentityScope, InteractionId,
    Location, Part, ThreadKey,
};
use silta_plugin_test::contract::{
    DeliveryOutcome, HttpRequest, HttpResponse, Normalized, OutboundMessage, TransportRequest,
    TransportResponse,
};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};
use tokio::net::{TcpListener, TcpStream};

const BOT_TOKEN: &str = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const SECRET_TOKEN: &str = "loopback-Secret_token-42";

/// Chats, each answered differently by the fake Bot API.
const ACCEPTED: i64 = 123_456_789;
const BLOCKED: i64 = 223_456_789;
const FLOODED: i64 = 323_456_789;
const BROKEN: i64 = 423_456_789;
const UNKNOWN_CHAT: i64 = 523_456_789;

// === the fake Bot API ===

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    content_type: Option<String>,
    body: Value,
}

struct BotApi {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn start_bot_api() -> BotApi {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let next_id = Arc::new(AtomicI64::new(100));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            let next_id = next_id.clone();
            tokio::spawn(async move {
                let service =
                    service_fn(move |request| answer(request, log.clone(), next_id.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    BotApi { addr, seen }
}

async fn answer(
    request: Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    next_id: Arc<AtomicI64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock().expect("lock").push(Seen {
        path: path.clone(),
        content_type,
        body: body.clone(),
    });
    let (status, answer) = bot_api(&path, &body, &next_id);
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .expect("a response"))
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

/// Sends a request to the server as the host's transport would.
async fn send(request: &HttpRequest) -> HttpResponse {
    let uri: hyper::Uri = request.url.parse().expect("a URL");
    let authority = uri.authority().expect("an authority").to_string();
    let stream = TcpStream::connect(authority.as_str())
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut builder = Request::builder()
        .method(request.method.as_str())
        .uri(
            uri.path_and_query()
                .map(ToString::to_string)
                .unwrap_or_default(),
        )
        .header("host", authority);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let response = sender
        .send_request(
            builder
                .body(Full::new(Bytes::from(request.body.clone())))
                .expect("request"),
        )
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    HttpResponse {
        status,
        headers,
        body,
    }
}

// === the plugin ===

async fn start_with(api: &BotApi, bot_token: &str) -> PluginUnderTest {
    Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("webhook-secret-token", SECRET_TOKEN)
        .secret("bot-token", bot_token)
        .config("api_url", &format!("http://{}", api.addr))
        .start()
        .await
}

async fn start(api: &BotApi) -> PluginUnderTest {
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
    let rendered = plugin.render(message).await?;
    let TransportRequest::Http(request) = &rendered else {
        panic!("an HTTP request, got {rendered:?}");
    };
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
    let mut filled = request.clone();
    assert!(
        plugin.plugin().prepare_http_request(&mut filled),
        "the loopback origin is granted"
    );
    let response = send(&filled).await;
    plugin
        .interpret_response(&rendered, &TransportResponse::Http(response))
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
    let seen = api.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 5);
    for request in &seen {
        assert_eq!(request.path, format!("/bot{BOT_TOKEN}/sendMessage"));
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        assert_eq!(request.body["text"], "Tilauksesi on matkalla.");
    }
    assert_eq!(
        seen[0].body,
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
    let seen = api.seen.lock().expect("lock").clone();
    let paths: Vec<&str> = seen
        .iter()
        .map(|s| s.path.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(paths, ["sendPhoto", "sendDocument", "sendLocation"]);
    assert_eq!(seen[0].body["photo"], "https://cdn.example.com/parcel.png");
    assert_eq!(seen[0].body["caption"], "Pakettisi");
    assert_eq!(
        seen[1].body["document"],
        "BQACAgQAAxkBAAIBL2VhZ2FfAAH3kuitti"
    );
    assert_eq!(seen[2].body["latitude"], 60.167_468);
    for request in &seen {
        assert_eq!(request.body["reply_parameters"]["message_id"], 41);
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
    let seen = api.seen.lock().expect("lock").clone();
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
    assert!(
        api.seen.lock().expect("lock").is_empty(),
        "nothing was sent"
    );
}
