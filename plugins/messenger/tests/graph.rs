//! The component in the real runtime against the Send API played on
//! loopback: the test kit's `FakeProvider` on 127.0.0.1 answers
//! `POST /v21.0/{page_id}/messages` with the Messenger Platform's
//! documented success and error bodies. The plugin renders replies (its
//! windows opened by signed webhooks, Messenger and Instagram), the host
//! fills the access token in (`Plugin::prepare_http_request`, as the
//! sender does), the request goes to the server, and `interpret-response`
//! reads the answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use silta_model::{
    Assurance, DeliveryState, Identity, IdentityKind, IdentityScope, InteractionId, Part,
};
use silta_plugin_test::contract::{DeliveryOutcome, OutboundMessage, TransportRequest};
use silta_plugin_test::fake_provider::{self, Answer, FakeProvider, Received};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};

const APP_SECRET: &[u8] = b"graph-test-app-secret";
const ACCESS_TOKEN: &str = "EAAGtestPAGEtoken0123456789";
const PAGE_ID: &str = "104501234567890";
const IG_ACCOUNT_ID: &str = "17841400000000001";

/// Customers (PSIDs), each answered differently by the fake Send API.
const ACCEPTED: &str = "6830112345678901";
const UNAVAILABLE: &str = "6830112345678902";
const THROTTLED: &str = "6830112345678903";
const BROKEN: &str = "6830112345678904";
const NO_SUCH_USER: &str = "6830112345678905";
/// An Instagram customer (IGSID).
const INSTAGRAM: &str = "1789012345678901";
/// Wrote two days ago: only a human agent may answer.
const TWO_DAYS: &str = "6830112345678906";
/// Wrote eight days ago: nothing may go.
const EIGHT_DAYS: &str = "6830112345678907";
/// Never wrote.
const STRANGER: &str = "6830112345678908";

// === the fake Graph API ===

/// A Graph API error body as Meta documents it.
fn error(code: u32, subcode: Option<u32>, message: &str) -> Value {
    let mut body = json!({"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123456"
    }});
    if let Some(subcode) = subcode {
        body["error"]["error_subcode"] = subcode.into();
    }
    body
}

/// The Send API's answer to a send.
fn graph(request: &Received) -> Answer {
    if request.path != format!("/v21.0/{PAGE_ID}/messages") {
        return Answer::json(400, &error(100, Some(33), "Unsupported post request."));
    }
    if request.header("authorization") != Some(format!("Bearer {ACCESS_TOKEN}").as_str()) {
        return Answer::json(
            401,
            &error(
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token",
            ),
        );
    }
    let body = request.json();
    let to = body["recipient"]["id"].as_str().unwrap_or_default();
    match to {
        ACCEPTED | INSTAGRAM | TWO_DAYS => Answer::json(
            200,
            &json!({"recipient_id": to, "message_id": format!("m_OUT-{to}")}),
        ),
        UNAVAILABLE => Answer::json(
            400,
            &error(
                551,
                Some(1_545_041),
                "(#551) This person isn't available right now.",
            ),
        ),
        THROTTLED => Answer::json(
            400,
            &error(
                613,
                None,
                "(#613) Calls to this api have exceeded the rate limit.",
            ),
        )
        .header("retry-after", "7"),
        BROKEN => Answer::json(
            500,
            &error(
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            ),
        ),
        _ => Answer::json(
            400,
            &error(100, Some(2_018_001), "(#100) No matching user found"),
        ),
    }
}

// === the plugin ===

async fn start_with(graph: &FakeProvider, token: &str, human_agent: bool) -> PluginUnderTest {
    Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret("app-secret", APP_SECRET)
        .secret("access-token", token)
        .config("page_id", PAGE_ID)
        .config("graph_url", &graph.url())
        .config("api_version", "v21.0")
        .config("human_agent", if human_agent { "true" } else { "false" })
        .start()
        .await
}

async fn start(graph: &FakeProvider) -> PluginUnderTest {
    start_with(graph, ACCESS_TOKEN, false).await
}

fn sign(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(APP_SECRET).expect("any key size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn unix_millis_now() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

/// A signed webhook (`object` page or instagram): one text message from
/// each of `customers`, sent `age` ago.
async fn customers_write(
    plugin: &PluginUnderTest,
    object: &str,
    customers: &[&str],
    age: Duration,
) {
    let timestamp = unix_millis_now() - u64::try_from(age.as_millis()).unwrap_or(0);
    let account = if object == "instagram" {
        IG_ACCOUNT_ID
    } else {
        PAGE_ID
    };
    let messaging: Vec<Value> = customers
        .iter()
        .enumerate()
        .map(|(n, user)| {
            json!({"sender": {"id": user}, "recipient": {"id": account}, "timestamp": timestamp,
                "message": {"mid": format!("m_IN-{user}-{timestamp}-{n}"), "text": "Hei"}})
        })
        .collect();
    let body = json!({"object": object, "entry": [{"id": account, "time": timestamp,
        "messaging": messaging}]})
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

fn message(kind: IdentityKind, to: &str, parts: Vec<Part>) -> OutboundMessage {
    OutboundMessage {
        channel_account: silta_plugin_test::TEST_CHANNEL_ACCOUNT.into(),
        interaction_id: InteractionId::new(),
        recipient: Identity::new(
            kind,
            to,
            IdentityScope::ChannelAccount(silta_plugin_test::TEST_CHANNEL_ACCOUNT.into()),
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        sender: None,
        subject: None,
        parts,
        thread_keys: Vec::new(),
        reply_to_provider_message_id: None,
        reply_to_email: None,
        reply_token: "rt".into(),
    }
}

fn text(to: &str) -> OutboundMessage {
    message(
        IdentityKind::Messenger,
        to,
        vec![Part::Text("Tilauksesi on matkalla.".into())],
    )
}

/// Renders `message`, has the host fill the token in, sends it to the
/// fake Send API and interprets the answer.
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

fn refused(result: silta_runtime::Result<TransportRequest>) -> String {
    match result {
        Err(Error::Plugin {
            error: PluginError::Permanent(reason),
            ..
        }) => reason,
        other => panic!("the window must refuse the message, got {other:?}"),
    }
}

// === the tests ===

#[tokio::test]
async fn replies_inside_24_hours_map_the_send_api_answers() {
    let graph = FakeProvider::start(graph).await;
    let plugin = start(&graph).await;
    customers_write(
        &plugin,
        "page",
        &[ACCEPTED, UNAVAILABLE, THROTTLED, BROKEN, NO_SUCH_USER],
        Duration::from_secs(60),
    )
    .await;

    let sent = deliver(&plugin, &text(ACCEPTED)).await.expect("sent");
    assert_eq!(sent.state, DeliveryState::Sent);
    assert_eq!(sent.provider_message_id, Some(format!("m_OUT-{ACCEPTED}")));

    let unavailable = deliver(&plugin, &text(UNAVAILABLE))
        .await
        .expect("an outcome");
    assert_eq!(unavailable.state, DeliveryState::Failed);
    assert_eq!(unavailable.provider_code.as_deref(), Some("551"));
    assert!(
        unavailable
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("isn't available") && d.contains("AbCdEf123456")),
        "{unavailable:?}"
    );

    let unknown = deliver(&plugin, &text(NO_SUCH_USER))
        .await
        .expect("an outcome");
    assert_eq!(unknown.state, DeliveryState::Failed);
    assert_eq!(unknown.provider_code.as_deref(), Some("100"));

    match deliver(&plugin, &text(THROTTLED)).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { retry_after, .. },
            ..
        }) => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("613 must be retryable after 7 s, got {other:?}"),
    }
    match deliver(&plugin, &text(BROKEN)).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { message, .. },
            ..
        }) => assert!(message.contains("500"), "{message}"),
        other => panic!("500 must be retryable, got {other:?}"),
    }

    // Every request carried the token as the host filled it in, and the
    // Send API's body.
    let seen = graph.received();
    assert_eq!(seen.len(), 5);
    for request in &seen {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ACCESS_TOKEN}").as_str())
        );
        let body = request.json();
        assert_eq!(body["messaging_type"], "RESPONSE");
        assert_eq!(body.get("tag"), None);
        assert_eq!(body["message"], json!({"text": "Tilauksesi on matkalla."}));
    }
}

#[tokio::test]
async fn instagram_replies_go_through_the_page() {
    let graph = FakeProvider::start(graph).await;
    let plugin = start(&graph).await;
    customers_write(&plugin, "instagram", &[INSTAGRAM], Duration::from_secs(60)).await;
    // The window is Instagram's: the same id as a Messenger customer has none.
    refused(plugin.render(&text(INSTAGRAM)).await);
    let reply = message(
        IdentityKind::Instagram,
        INSTAGRAM,
        vec![Part::Text("Kyllä, koko M on varastossa.".into())],
    );
    let sent = deliver(&plugin, &reply).await.expect("sent");
    assert_eq!(sent.provider_message_id, Some(format!("m_OUT-{INSTAGRAM}")));
    let seen = graph.received();
    assert_eq!(seen.len(), 1);
    let body = seen[0].json();
    assert_eq!(body["recipient"]["id"], INSTAGRAM);
    assert_eq!(body["messaging_type"], "RESPONSE");
}

#[tokio::test]
async fn after_24_hours_a_human_agent_may_answer_for_7_days_when_enabled() {
    let graph = FakeProvider::start(graph).await;
    let day = Duration::from_secs(24 * 60 * 60);

    // Without the Human Agent permission, nothing after 24 hours.
    let plain = start(&graph).await;
    customers_write(&plain, "page", &[TWO_DAYS], day * 2).await;
    let reason = refused(plain.render(&text(TWO_DAYS)).await);
    assert!(
        reason.contains("HUMAN_AGENT") && reason.contains("human_agent"),
        "{reason}"
    );

    let agent = start_with(&graph, ACCESS_TOKEN, true).await;
    customers_write(&agent, "page", &[TWO_DAYS], day * 2).await;
    customers_write(&agent, "page", &[EIGHT_DAYS], day * 8).await;
    let sent = deliver(&agent, &text(TWO_DAYS)).await.expect("sent");
    assert_eq!(sent.provider_message_id, Some(format!("m_OUT-{TWO_DAYS}")));
    for customer in [EIGHT_DAYS, STRANGER] {
        let reason = refused(agent.render(&text(customer)).await);
        assert!(
            reason.contains("window") && reason.contains("closed"),
            "{reason}"
        );
    }
    // A replayed older webhook does not move the mark back: TWO_DAYS
    // wrote again eight days ago, and may still be answered.
    customers_write(&agent, "page", &[TWO_DAYS], day * 8).await;
    deliver(&agent, &text(TWO_DAYS)).await.expect("still sent");

    let seen = graph.received();
    assert_eq!(seen.len(), 2, "only the human agent's replies went");
    for request in &seen {
        let body = request.json();
        assert_eq!(body["messaging_type"], "MESSAGE_TAG");
        assert_eq!(body["tag"], "HUMAN_AGENT");
    }
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let graph = FakeProvider::start(graph).await;
    let plugin = start_with(&graph, "EAAGexpired", false).await;
    customers_write(&plugin, "page", &[ACCEPTED], Duration::from_secs(60)).await;
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
    let body = br#"{"object":"page","entry":[]}"#;
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
