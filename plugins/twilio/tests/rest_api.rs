//! The component in the real runtime against Twilio's REST API played on
//! loopback: a small hyper server on 127.0.0.1 answers `POST
//! /2010-04-01/Accounts/{sid}/Messages.json` with Twilio's documented
//! success and error bodies, and only for the right HTTP Basic
//! credentials (`AccountSid:AuthToken`). The plugin normalizes a signed
//! webhook (`X-Twilio-Signature` checked by the host, HMAC-SHA1), renders
//! the reply, the host fills the Basic credentials in
//! (`Plugin::prepare_http_request`, as the sender does), the request goes
//! to the server, and `interpret-response` reads the answer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use silta_model::{
    Assurance, Attachment, DeliveryState, Identity, IdentityKind, IdentityScope, InteractionId,
    Part, ThreadKey,
};
use silta_plugin_test::contract::{
    DeliveryOutcome, HttpRequest, HttpResponse, InboundEvent, Normalized, OutboundMessage,
    TransportMeta, TransportRequest, TransportResponse,
};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};
use tokio::net::{TcpListener, TcpStream};

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "f3c9a1b27d4e4f6a8b0c1d2e3f4a5b6c";
const OUR_NUMBER: &str = "+14158675309";
const PUBLIC_URL: &str = "https://silta.example.test";
const STATUS_CALLBACK: &str = "https://silta.example.test/v1/ingest/sms";

/// Recipients, each answered differently by the fake API (the `+1500555…`
/// ones are Twilio's own test numbers for these errors).
const ACCEPTED: &str = "+358401234567";
const INVALID: &str = "+15005550001";
const UNSUBSCRIBED: &str = "+15005550004";
const THROTTLED: &str = "+358401234568";
const BROKEN: &str = "+358401234569";

// === the fake REST API ===

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    content_type: Option<String>,
    form: Vec<(String, String)>,
}

struct RestApi {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn start_rest_api() -> RestApi {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let next = Arc::new(AtomicU64::new(1));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(request, log.clone(), next.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    RestApi { addr, seen }
}

async fn answer(
    request: Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    next: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type");
    let authorization = header("authorization");
    let body = request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    let form: Vec<(String, String)> = form_urlencoded_pairs(&body);
    seen.lock().expect("lock").push(Seen {
        path: path.clone(),
        content_type,
        form: form.clone(),
    });
    let (status, headers, answer) = rest_api(&path, authorization.as_deref(), &form, &next);
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (name, value) in headers {
        response = response.header(name, value);
    }
    Ok(response
        .body(Full::new(Bytes::from(answer.to_string())))
        .expect("a response"))
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    // The test's own reading of the form, independent of the plugin's.
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let text = String::from_utf8_lossy(pair).replace('+', " ");
            let (name, value) = text.split_once('=').unwrap_or((&text, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

/// A Twilio error body as documented
/// (<https://www.twilio.com/docs/usage/twilios-response>).
fn error(status: u16, code: u32, message: &str) -> (u16, Vec<(&'static str, String)>, Value) {
    (
        status,
        Vec::new(),
        json!({"code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
    )
}

/// The REST API's answer to a call.
fn rest_api(
    path: &str,
    authorization: Option<&str>,
    form: &[(String, String)],
    next: &AtomicU64,
) -> (u16, Vec<(&'static str, String)>, Value) {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    if authorization != Some(expected.as_str()) {
        return error(401, 20003, "Authenticate");
    }
    if path != format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json") {
        return error(404, 20404, "The requested resource was not found");
    }
    let get = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if get("From") != Some(OUR_NUMBER) {
        return error(
            400,
            21606,
            "The From phone number is not a valid, SMS-capable inbound phone number or short code for your account.",
        );
    }
    match get("To") {
        Some(ACCEPTED) => {
            let sid = format!("SM{:032x}", next.fetch_add(1, Ordering::SeqCst));
            let media = form.iter().filter(|(key, _)| key == "MediaUrl").count();
            (
                201,
                Vec::new(),
                json!({
                    "account_sid": ACCOUNT_SID, "api_version": "2010-04-01",
                    "body": get("Body").unwrap_or_default(), "date_created": "Mon, 23 Nov 2026 20:00:00 +0000",
                    "date_sent": null, "date_updated": "Mon, 23 Nov 2026 20:00:00 +0000",
                    "direction": "outbound-api", "error_code": null, "error_message": null,
                    "from": OUR_NUMBER, "messaging_service_sid": null, "num_media": media.to_string(),
                    "num_segments": "1", "price": null, "price_unit": "USD", "sid": sid,
                    "status": "queued", "to": ACCEPTED,
                    "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"),
                }),
            )
        }
        Some(INVALID) => error(
            400,
            21211,
            &format!("The 'To' number {INVALID} is not a valid phone number."),
        ),
        Some(UNSUBSCRIBED) => error(400, 21610, "Attempt to send to unsubscribed recipient"),
        Some(THROTTLED) => {
            let (status, _, body) = error(429, 20429, "Too Many Requests");
            (status, vec![("retry-after", "2".to_owned())], body)
        }
        Some(BROKEN) => error(500, 20500, "An internal server error has occurred"),
        _ => error(400, 21604, "A 'To' phone number is required."),
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

async fn start_with(api: &RestApi, auth_token: &str) -> PluginUnderTest {
    Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("auth-token", auth_token)
        .config("account_sid", ACCOUNT_SID)
        .config("from", OUR_NUMBER)
        .config("public_url", PUBLIC_URL)
        .config("status_callback_url", STATUS_CALLBACK)
        .config("api_url", &format!("http://{}", api.addr))
        .start()
        .await
}

async fn start(api: &RestApi) -> PluginUnderTest {
    start_with(api, AUTH_TOKEN).await
}

/// `X-Twilio-Signature` for `body` posted to `url`, keyed with `token`.
fn sign(token: &str, url: &str, body: &[u8]) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded_pairs(body);
    pairs.sort();
    pairs.dedup();
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(token.as_bytes()).expect("any key");
    mac.update(url.as_bytes());
    for (name, value) in &pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A customer's SMS as Twilio posts it.
fn incoming(from: &str, sid_n: u64) -> String {
    let sid = format!("SM{sid_n:032x}");
    format!(
        "ToCountry=US&SmsMessageSid={sid}&NumMedia=0&SmsSid={sid}&SmsStatus=received&Body=Hei%21+Miss%C3%A4+tilaukseni+on%3F&To=%2B14158675309&NumSegments=1&MessageSid={sid}&AccountSid={ACCOUNT_SID}&From={}&ApiVersion=2010-04-01",
        from.replace('+', "%2B")
    )
}

/// The harness posts to `/v1/ingest`; `query` adds a query string.
fn event(
    plugin: &PluginUnderTest,
    body: &str,
    signature: &str,
    query: Option<&str>,
) -> InboundEvent {
    let mut event = plugin.http_event(body.as_bytes(), &[("x-twilio-signature", signature)]);
    if let TransportMeta::Http { query: q, .. } = &mut event.transport {
        *q = query.map(str::to_owned);
    }
    event
}

fn reply(to: &str, parts: Vec<Part>) -> OutboundMessage {
    OutboundMessage {
        channel_account: silta_plugin_test::TEST_CHANNEL_ACCOUNT.into(),
        interaction_id: InteractionId::new(),
        recipient: Identity::new(
            IdentityKind::Phone,
            to,
            IdentityScope::Global,
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        sender: None,
        subject: None,
        parts,
        thread_keys: vec![ThreadKey::ProviderThread(format!("{OUR_NUMBER}:{to}"))],
        reply_to_provider_message_id: None,
        reply_to_email: None,
        reply_token: "rt".into(),
    }
}

fn text() -> Vec<Part> {
    vec![Part::Text("Tilauksesi on matkalla. 📦".into())]
}

/// Renders `message`, has the host fill the credentials in, sends it to
/// the fake API and interprets the answer.
async fn deliver(
    plugin: &PluginUnderTest,
    message: &OutboundMessage,
) -> silta_runtime::Result<DeliveryOutcome> {
    let rendered = plugin.render(message).await?;
    let TransportRequest::Http(request) = &rendered else {
        panic!("an HTTP request, got {rendered:?}");
    };
    let authorization = request
        .headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    assert!(
        authorization.starts_with("{{silta-secret:") && !authorization.contains(ACCOUNT_SID),
        "the plugin never sees the token, only a placeholder: {authorization}"
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
async fn a_signed_sms_comes_in_and_the_reply_goes_out_with_basic_credentials() {
    let api = start_rest_api().await;
    let plugin = start(&api).await;

    // Inbound: signed over public_url + the path, checked by the host.
    let body = incoming(ACCEPTED, 1);
    let signature = sign(
        AUTH_TOKEN,
        &format!("{PUBLIC_URL}/v1/ingest"),
        body.as_bytes(),
    );
    let out = plugin
        .normalize(&event(&plugin, &body, &signature, None))
        .await
        .expect("a correctly signed SMS normalizes");
    let [Normalized::Interaction(message)] = out.as_slice() else {
        panic!("one interaction, got {out:?}");
    };
    assert_eq!(message.sender.value(), ACCEPTED);
    assert_eq!(
        message.interaction.parts,
        vec![Part::Text("Hei! Missä tilaukseni on?".into())]
    );

    // Outbound: 201 → sent under the created message's sid.
    let mut parts = text();
    parts.push(Part::Attachment(Attachment {
        filename: None,
        media_type: "image/jpeg".into(),
        size_bytes: None,
        content_hash: None,
        url: Some("https://cdn.example.com/parcel.jpg".into()),
        content_id: None,
        inline: false,
    }));
    let sent = deliver(&plugin, &reply(ACCEPTED, parts))
        .await
        .expect("sent");
    assert_eq!(sent.state, DeliveryState::Sent);
    assert_eq!(sent.provider_message_id, Some(format!("SM{:032x}", 1)));

    let invalid = deliver(&plugin, &reply(INVALID, text()))
        .await
        .expect("an outcome");
    assert_eq!(invalid.state, DeliveryState::Failed);
    assert_eq!(invalid.provider_code.as_deref(), Some("21211"));
    assert!(
        invalid
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("is not a valid phone number")),
        "{invalid:?}"
    );

    let stopped = deliver(&plugin, &reply(UNSUBSCRIBED, text()))
        .await
        .expect("an outcome");
    assert_eq!(stopped.state, DeliveryState::Failed);
    assert_eq!(stopped.provider_code.as_deref(), Some("21610"));

    match deliver(&plugin, &reply(THROTTLED, text())).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { retry_after, .. },
            ..
        }) => assert_eq!(retry_after, Some(Duration::from_secs(2))),
        other => panic!("429 must be retryable after 2 s, got {other:?}"),
    }
    match deliver(&plugin, &reply(BROKEN, text())).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { message, .. },
            ..
        }) => assert!(message.contains("500"), "{message}"),
        other => panic!("500 must be retryable, got {other:?}"),
    }

    // Every request reached the account's Messages resource as a form.
    let seen = api.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 5);
    for request in &seen {
        assert_eq!(
            request.path,
            format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
        );
        assert_eq!(
            request.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
    }
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        seen[0].form,
        pairs(&[
            ("To", ACCEPTED),
            ("From", OUR_NUMBER),
            ("Body", "Tilauksesi on matkalla. 📦"),
            ("MediaUrl", "https://cdn.example.com/parcel.jpg"),
            ("StatusCallback", STATUS_CALLBACK),
        ])
    );
}

#[tokio::test]
async fn a_wrong_auth_token_is_refused_by_twilio_and_unauthorized() {
    let api = start_rest_api().await;
    let plugin = start_with(&api, "0000000000000000000000000000dead").await;
    match deliver(&plugin, &reply(ACCEPTED, text())).await {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(reason),
            ..
        }) => assert!(reason.contains("auth-token"), "{reason}"),
        other => panic!("401 must be unauthorized, got {other:?}"),
    }
    assert_eq!(api.seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn the_signature_covers_the_url_and_every_parameter() {
    let api = start_rest_api().await;
    let plugin = start(&api).await;
    let body = incoming(ACCEPTED, 2);
    let url = format!("{PUBLIC_URL}/v1/ingest");
    let unauthorized = |result: silta_runtime::Result<Vec<Normalized>>, why: &str| match result {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(_),
            ..
        }) => {}
        other => panic!("{why}: expected unauthorized, got {other:?}"),
    };

    // With a query string, Twilio signs it too.
    let with_query = sign(AUTH_TOKEN, &format!("{url}?tenant=fi"), body.as_bytes());
    plugin
        .normalize(&event(&plugin, &body, &with_query, Some("tenant=fi")))
        .await
        .expect("signed over the URL with its query");
    unauthorized(
        plugin
            .normalize(&event(&plugin, &body, &with_query, None))
            .await,
        "the query is part of the URL",
    );

    // Another token, another host, or a changed parameter.
    unauthorized(
        plugin
            .normalize(&event(
                &plugin,
                &body,
                &sign("another-token", &url, body.as_bytes()),
                None,
            ))
            .await,
        "another token",
    );
    unauthorized(
        plugin
            .normalize(&event(
                &plugin,
                &body,
                &sign(
                    AUTH_TOKEN,
                    "https://evil.example.test/v1/ingest",
                    body.as_bytes(),
                ),
                None,
            ))
            .await,
        "another URL",
    );
    let signature = sign(AUTH_TOKEN, &url, body.as_bytes());
    let forged = body.replace("Body=Hei", "Body=Moi");
    unauthorized(
        plugin
            .normalize(&event(&plugin, &forged, &signature, None))
            .await,
        "a changed parameter",
    );
    unauthorized(
        plugin
            .normalize(&plugin.http_event(body.as_bytes(), &[]))
            .await,
        "no signature",
    );
}

#[tokio::test]
async fn without_public_url_every_event_is_permanent_naming_the_setting() {
    let plugin = Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("auth-token", AUTH_TOKEN)
        .config("account_sid", ACCOUNT_SID)
        .config("from", OUR_NUMBER)
        .start()
        .await;
    let body = incoming(ACCEPTED, 3);
    let signature = sign(
        AUTH_TOKEN,
        &format!("{PUBLIC_URL}/v1/ingest"),
        body.as_bytes(),
    );
    match plugin
        .normalize(&event(&plugin, &body, &signature, None))
        .await
    {
        Err(Error::Plugin {
            error: PluginError::Permanent(reason),
            ..
        }) => assert!(reason.contains("public_url"), "{reason}"),
        other => panic!("expected permanent, got {other:?}"),
    }
}
