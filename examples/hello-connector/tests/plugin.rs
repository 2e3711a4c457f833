//! Plugin `hello` as the host runs it: the crate built to a component
//! (once per test run), loaded into the real runtime with the real limits
//! and the capabilities its manifest requests, with a test signing key and
//! endpoint.
//!
//! The plugin makes no HTTP requests of its own, so its recordings file is
//! empty: a request it made would fail the test and show the request. (A
//! plugin that calls an API records real exchanges with `SILTA_RECORD=1`.)

use std::path::PathBuf;

use hello_connector::{Hello, ID, SIGNING_KEY};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use silta_compliance::{ChannelSpec, Delivery, check_channel};
use silta_plugin_test::contract::{Normalized, OutboundMessage, TransportRequest};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::manifest::{Capability, Manifest, World};
use silta_runtime::{Error, PluginError};
use silta_sdk::Plugin;
use silta_sdk::model::{Assurance, Identity, IdentityKind, IdentityScope, InteractionId, Part};

const KEY: &[u8] = b"hello-test-signing-key";
const ENDPOINT: &str = "https://hello.example.test/replies";
const GREETING: &[u8] = include_bytes!("fixtures/valid/greeting.json");

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn start() -> PluginUnderTest {
    Harness::for_crate(crate_dir())
        .secret(SIGNING_KEY, KEY)
        .config("endpoint", ENDPOINT)
        .recordings("tests/fixtures/recordings.json")
        .start()
        .await
}

/// The hex HMAC-SHA256 of `body` under [`KEY`], as the sending system
/// computes it.
fn sign(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(KEY).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn reply(channel_account: String) -> OutboundMessage {
    OutboundMessage {
        channel_account,
        interaction_id: InteractionId::new(),
        recipient: Identity::new(
            IdentityKind::Email,
            "aino@example.fi",
            IdentityScope::Global,
            Assurance::HmacVerified,
            &Default::default(),
        )
        .expect("a valid identity"),
        sender: None,
        subject: None,
        parts: vec![Part::Text("Hello Aino, your order ships today.".into())],
        thread_keys: Vec::new(),
        reply_to_provider_message_id: Some("hello-1".into()),
        reply_to_email: None,
        reply_token: "rt-1".into(),
    }
}

#[test]
fn the_manifest_matches_describe_and_the_code() {
    // The host's own parser: a field it would refuse fails here first.
    let manifest =
        Manifest::load(&crate_dir().join("plugin.toml")).unwrap_or_else(|error| panic!("{error}"));
    let info = Hello::describe();
    assert_eq!((manifest.id.as_str(), info.id.as_str()), (ID, ID));
    assert_eq!(manifest.version, info.version);
    assert_eq!(
        manifest.worlds.into_iter().collect::<Vec<_>>(),
        [World::Channel]
    );
    assert_eq!(
        manifest.capabilities.into_iter().collect::<Vec<_>>(),
        [Capability::Log, Capability::Secrets, Capability::Config]
    );
    assert_eq!(
        manifest.secrets.into_iter().collect::<Vec<_>>(),
        [SIGNING_KEY]
    );
}

#[tokio::test]
async fn a_signed_greeting_becomes_an_interaction() {
    let plugin = start().await;
    let signature = sign(GREETING);
    let out = plugin
        .normalize_http(GREETING, &[("x-hello-signature", &signature)])
        .await
        .expect("a signed greeting normalizes");
    let [Normalized::Interaction(normalized)] = out.as_slice() else {
        panic!("expected one interaction, got {out:?}");
    };
    assert_eq!(normalized.interaction.text(), "Hello there!");
    assert_eq!(normalized.sender.value(), "aino@example.fi");
    assert_eq!(normalized.sender.assurance, Assurance::HmacVerified);
    let key = normalized.interaction.idempotency_key.to_string();
    assert!(key.ends_with("hello-1"), "{key}");
}

#[tokio::test]
async fn a_wrong_signature_is_refused_as_unauthorized() {
    let plugin = start().await;
    let forged = sign(b"some other body");
    let refused = plugin
        .normalize_http(GREETING, &[("x-hello-signature", &forged)])
        .await;
    match refused {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(reason),
            ..
        }) => assert!(reason.contains("x-hello-signature"), "{reason}"),
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn render_posts_a_signed_reply_to_the_endpoint() {
    let plugin = start().await;
    let message = reply(plugin.channel_account().to_string());
    let rendered = plugin.render(&message).await.expect("renders");
    let TransportRequest::Http(request) = rendered else {
        panic!("expected an HTTP request, got {rendered:?}");
    };
    assert_eq!(
        (request.method.as_str(), request.url.as_str()),
        ("POST", ENDPOINT)
    );
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("a JSON body");
    assert_eq!(body["to"], "aino@example.fi");
    assert_eq!(body["text"], "Hello Aino, your order ships today.");
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.clone())
    };
    // The host computed the MAC with a key the plugin never saw.
    assert_eq!(header("x-hello-signature"), Some(sign(&request.body)));
    assert_eq!(
        header("idempotency-key"),
        Some(message.interaction_id.to_string())
    );
}

/// The connector compliance suite every channel plugin must pass:
/// golden fixtures through the host (`NAME.normalized.json`; `BLESS=1`
/// rewrites them), stable idempotency keys, refused signatures, bad input
/// for every malformed payload, and a well-formed rendered request.
#[tokio::test]
async fn hello_passes_the_compliance_suite() {
    let plugin = start().await;
    let spec = ChannelSpec {
        outbound: reply(plugin.channel_account().to_string()),
        plugin,
        fixtures: crate_dir().join("tests/fixtures"),
        delivery: Delivery::Webhook {
            sign: |body| vec![("x-hello-signature".to_owned(), sign(body))],
        },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 4, "only {checked} fixtures checked");
}
