//! The component in the real runtime against Twilio's REST API played on
//! loopback: the test kit's `FakeProvider` on 127.0.0.1 answers `POST
//! /2010-04-01/Accounts/{sid}/Messages.json` with Twilio's documented
//! success and error bodies, and only for the right HTTP Basic
//! credentials (`AccountSid:AuthToken`). The plugin normalizes a signed
//! webhook (`X-Twilio-Signature` checked by the host, HMAC-SHA1), renders
//! the reply, the host fills the Basic credentials in
//! (`Plugin::prepare_http_request`, as the sender does), the request goes
//! to the server, and `interpret-response` reads the answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::json;
use silta_model::{
    Assurance, Attachment, DeliveryState, Identity, IdentityKind, IdentityScope, InteractionId,
    Part, ThreadKey,
};
use silta_plugin_test::contract::{
    DeliveryOutcome, InboundEvent, Normalized, OutboundMessage, TransportMeta,
};
use silta_plugin_test::fake_provider::{self, Answer, FakeProvider, Received};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};

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

/// The REST API, numbering the messages it creates from 1 on.
async fn start_rest_api() -> FakeProvider {
    let next = AtomicU64::new(1);
    FakeProvider::start(move |request| {
        rest_api(
            &request.path,
            request.header("authorization"),
            &form(request),
            &next,
        )
    })
    .await
}

/// The test's own reading of a form body, independent of the plugin's.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The form a request posted.
fn form(request: &Received) -> Vec<(String, String)> {
    form_pairs(&request.body)
}

/// A Twilio error body as documented
/// (<https://www.twilio.com/docs/usage/twilios-response>).
fn error(status: u16, code: u32, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
    )
}

/// The REST API's answer to a call.
fn rest_api(
    path: &str,
    authorization: Option<&str>,
    form: &[(String, String)],
    next: &AtomicU64,
) -> Answer {
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
            Answer::json(
                201,
                &json!({
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
        Some(THROTTLED) => error(429, 20429, "Too Many Requests").header("retry-after", "2"),
        Some(BROKEN) => error(500, 20500, "An internal server error has occurred"),
        _ => error(400, 21604, "A 'To' phone number is required."),
    }
}

// === the plugin ===

async fn start_with(api: &FakeProvider, auth_token: &str) -> PluginUnderTest {
    Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("auth-token", auth_token)
        .config("account_sid", ACCOUNT_SID)
        .config("from", OUR_NUMBER)
        .config("public_url", PUBLIC_URL)
        .config("status_callback_url", STATUS_CALLBACK)
        .config("api_url", &api.url())
        .start()
        .await
}

async fn start(api: &FakeProvider) -> PluginUnderTest {
    start_with(api, AUTH_TOKEN).await
}

/// `X-Twilio-Signature` for `body` posted to `url`, keyed with `token`.
fn sign(token: &str, url: &str, body: &[u8]) -> String {
    let mut pairs: Vec<(String, String)> = form_pairs(body);
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
    fake_provider::deliver(plugin, message, |request| {
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
    })
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
    let seen = api.received();
    assert_eq!(seen.len(), 5);
    for request in &seen {
        assert_eq!(
            request.path,
            format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
    }
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        form(&seen[0]),
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
    assert_eq!(api.received().len(), 1);
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
