//! The component in the real runtime against the Graph API played on
//! loopback: the test kit's `FakeProvider` on 127.0.0.1 answers
//! `POST /v21.0/{phone_number_id}/messages` with the Cloud API's
//! documented success and error bodies. The plugin renders replies (its
//! window opened by signed webhooks), the host fills the access token in
//! (`Plugin::prepare_http_request`, as the sender does), the request goes
//! to the server, and `interpret-response` reads the answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use silta_model::{
    Assurance, DeliveryState, Identity, IdentityKind, IdentityScope, InteractionId, LanguageTag,
    Part, Template,
};
use silta_plugin_test::contract::{DeliveryOutcome, OutboundMessage};
use silta_plugin_test::fake_provider::{self, Answer, FakeProvider, Received};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};

const APP_SECRET: &[u8] = b"graph-test-app-secret";
const ACCESS_TOKEN: &str = "EAAGtestTOKEN0123456789";
const PHONE_NUMBER_ID: &str = "106540352242922";

/// Customers, each answered differently by the fake Graph API.
const ACCEPTED: &str = "358401234567";
const RE_ENGAGEMENT: &str = "358401234568";
const THROTTLED: &str = "358401234569";
const BROKEN: &str = "358401234560";
const UNDELIVERABLE: &str = "358401234561";
/// Wrote more than 24 hours ago.
const STALE: &str = "358501234567";
/// Never wrote.
const STRANGER: &str = "358501234568";

// === the fake Graph API ===

/// A Graph API error body as Meta documents it.
fn error(code: u32, message: &str, details: &str) -> Value {
    json!({"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AbCdEf123456"
    }})
}

/// The Cloud API's answer to a send.
fn graph(request: &Received) -> Answer {
    if request.path != format!("/v21.0/{PHONE_NUMBER_ID}/messages") {
        return Answer::json(
            400,
            &error(100, "Unsupported post request.", "Object does not exist"),
        );
    }
    if request.header("authorization") != Some(format!("Bearer {ACCESS_TOKEN}").as_str()) {
        return Answer::json(
            401,
            &error(
                190,
                "Invalid OAuth access token - Cannot parse access token",
                "",
            ),
        );
    }
    let body = request.json();
    let to = body["to"].as_str().unwrap_or_default();
    match to {
        ACCEPTED | STRANGER => Answer::json(
            200,
            &json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": format!("wamid.OUT-{to}"), "message_status": "accepted"}]
            }),
        ),
        RE_ENGAGEMENT => Answer::json(
            400,
            &error(
                131_047,
                "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
            ),
        ),
        THROTTLED => Answer::json(
            429,
            &error(
                130_429,
                "(#130429) Rate limit hit",
                "Cloud API message throughput has been reached.",
            ),
        )
        .header("retry-after", "7"),
        BROKEN => Answer::json(
            500,
            &error(131_000, "Something went wrong", "Something went wrong."),
        ),
        _ => Answer::json(
            400,
            &error(131_026, "Message undeliverable", "Message Undeliverable."),
        ),
    }
}

// === the plugin ===

async fn start(graph: &FakeProvider) -> PluginUnderTest {
    Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("app-secret", APP_SECRET)
        .secret("access-token", ACCESS_TOKEN)
        .config("phone_number_id", PHONE_NUMBER_ID)
        .config("graph_url", &graph.url())
        .config("api_version", "v21.0")
        .start()
        .await
}

fn sign(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(APP_SECRET).expect("any key size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// A signed webhook: one text message from each of `customers`, sent
/// `age` ago.
async fn customers_write(plugin: &PluginUnderTest, customers: &[&str], age: Duration) {
    let timestamp = (unix_now() - age.as_secs()).to_string();
    let messages: Vec<Value> = customers
        .iter()
        .enumerate()
        .map(|(n, wa_id)| {
            json!({"from": wa_id, "id": format!("wamid.IN-{wa_id}-{timestamp}-{n}"),
                "timestamp": timestamp, "type": "text", "text": {"body": "Hei"}})
        })
        .collect();
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
        "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "messages": messages}}]}]})
    .to_string();
    let out = plugin
        .normalize_http(
            body.as_bytes(),
            &[("x-hub-signature-256", &sign(body.as_bytes()))],
        )
        .await
        .expect("a signed webhook normalizes");
    assert_eq!(out.len(), customers.len());
}

fn message(to: &str, parts: Vec<Part>) -> OutboundMessage {
    OutboundMessage {
        channel_account: silta_plugin_test::TEST_CHANNEL_ACCOUNT.into(),
        interaction_id: InteractionId::new(),
        recipient: Identity::new(
            IdentityKind::Whatsapp,
            to,
            IdentityScope::Global,
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        sender: None,
        subject: None,
        parts,
        thread_keys: Vec::new(),
        reply_to_provider_message_id: Some(format!("wamid.IN-{to}")),
        reply_to_email: None,
        reply_token: "rt".into(),
    }
}

fn text(to: &str) -> OutboundMessage {
    message(to, vec![Part::Text("Tilauksesi on matkalla.".into())])
}

/// Renders `message`, has the host fill the token in, sends it to the
/// fake Graph API and interprets the answer.
async fn deliver(
    plugin: &PluginUnderTest,
    message: &OutboundMessage,
) -> silta_runtime::Result<DeliveryOutcome> {
    fake_provider::deliver(plugin, message, |request| {
        let authorization = fake_provider::header(request, "authorization").unwrap_or_default();
        assert!(
            authorization.starts_with("Bearer ") && !authorization.contains(ACCESS_TOKEN),
            "the plugin never sees the token: {authorization}"
        );
    })
    .await
}

// === the tests ===

#[tokio::test]
async fn replies_inside_the_window_map_the_graph_answers() {
    let graph = FakeProvider::start(graph).await;
    let plugin = start(&graph).await;
    customers_write(
        &plugin,
        &[ACCEPTED, RE_ENGAGEMENT, THROTTLED, BROKEN, UNDELIVERABLE],
        Duration::from_secs(60),
    )
    .await;

    let sent = deliver(&plugin, &text(ACCEPTED)).await.expect("sent");
    assert_eq!(sent.state, DeliveryState::Sent);
    assert_eq!(
        sent.provider_message_id,
        Some(format!("wamid.OUT-{ACCEPTED}"))
    );

    let refused = deliver(&plugin, &text(RE_ENGAGEMENT))
        .await
        .expect("an outcome");
    assert_eq!(refused.state, DeliveryState::Failed);
    assert_eq!(refused.provider_code.as_deref(), Some("131047"));
    assert!(
        refused
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("Re-engagement")),
        "{refused:?}"
    );

    let undeliverable = deliver(&plugin, &text(UNDELIVERABLE))
        .await
        .expect("an outcome");
    assert_eq!(undeliverable.state, DeliveryState::Failed);
    assert_eq!(undeliverable.provider_code.as_deref(), Some("131026"));

    match deliver(&plugin, &text(THROTTLED)).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { retry_after, .. },
            ..
        }) => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("429 must be retryable after 7 s, got {other:?}"),
    }
    match deliver(&plugin, &text(BROKEN)).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { message, .. },
            ..
        }) => assert!(
            message.contains("500") && message.contains("131000"),
            "{message}"
        ),
        other => panic!("500 must be retryable, got {other:?}"),
    }

    // Every request carried the token as the host filled it in, and the
    // Cloud API's body.
    let seen = graph.received();
    assert_eq!(seen.len(), 5);
    for request in &seen {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ACCESS_TOKEN}").as_str())
        );
        let body = request.json();
        assert_eq!(body["messaging_product"], "whatsapp");
        assert_eq!(body["type"], "text");
        assert_eq!(body["text"]["body"], "Tilauksesi on matkalla.");
        let to = body["to"].as_str().expect("to");
        assert_eq!(body["context"]["message_id"], format!("wamid.IN-{to}"));
    }
}

#[tokio::test]
async fn outside_the_window_only_a_template_goes() {
    let graph = FakeProvider::start(graph).await;
    let plugin = start(&graph).await;
    customers_write(&plugin, &[STALE], Duration::from_secs(25 * 60 * 60)).await;

    for customer in [STALE, STRANGER] {
        match plugin.render(&text(customer)).await {
            Err(Error::Plugin {
                error: PluginError::Permanent(reason),
                ..
            }) => assert!(
                reason.contains("window is closed") && reason.contains("template"),
                "{reason}"
            ),
            other => panic!("{customer}: a closed window must refuse text, got {other:?}"),
        }
    }
    assert!(graph.received().is_empty(), "nothing was sent");

    let template = message(
        STRANGER,
        vec![Part::Template(Template {
            name: "order_update".into(),
            language: LanguageTag::parse("language", "fi").expect("a language"),
            parameters: vec!["Aino".into(), "1234".into()],
        })],
    );
    let sent = deliver(&plugin, &template).await.expect("sent");
    assert_eq!(
        sent.provider_message_id,
        Some(format!("wamid.OUT-{STRANGER}"))
    );
    let seen = graph.received();
    assert_eq!(seen.len(), 1);
    let body = seen[0].json();
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "order_update");
    assert_eq!(body["template"]["language"]["code"], "fi");
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let graph = FakeProvider::start(graph).await;
    let plugin = Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("app-secret", APP_SECRET)
        .secret("access-token", "EAAGexpired")
        .config("phone_number_id", PHONE_NUMBER_ID)
        .config("graph_url", &graph.url())
        .start()
        .await;
    customers_write(&plugin, &[ACCEPTED], Duration::from_secs(60)).await;
    match deliver(&plugin, &text(ACCEPTED)).await {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(reason),
            ..
        }) => assert!(
            reason.contains("access-token") && reason.contains("190"),
            "{reason}"
        ),
        other => panic!("401 must be unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn unsigned_and_forged_webhooks_are_unauthorized() {
    let graph = FakeProvider::start(graph).await;
    let plugin = start(&graph).await;
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let forged = sign(b"another body");
    for headers in [vec![], vec![("x-hub-signature-256", forged.as_str())]] {
        match plugin.normalize_http(body, &headers).await {
            Err(Error::Plugin {
                error: PluginError::Unauthorized(reason),
                ..
            }) => assert!(reason.contains("x-hub-signature-256"), "{reason}"),
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }
}
