//! Every channel plugin passes the compliance suite.

use std::path::PathBuf;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use silta_compliance::{ChannelSpec, Delivery, check_channel};
use silta_model::{
    Assurance, Identity, IdentityKind, IdentityScope, InteractionId, LanguageTag, Part, Template,
    ThreadKey,
};
use silta_plugin_test::Harness;
use silta_plugin_test::contract::OutboundMessage;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn outbound(channel_account: String) -> OutboundMessage {
    OutboundMessage {
        channel_account,
        interaction_id: InteractionId::new(),
        recipient: Identity::new(
            IdentityKind::Email,
            "aino.virtanen@example.fi",
            IdentityScope::Global,
            Assurance::ChannelAsserted,
            &Default::default(),
        )
        .expect("identity"),
        sender: None,
        subject: Some("Tilauksesi".into()),
        parts: vec![Part::Text("Hei Aino, tilauksesi on matkalla.".into())],
        thread_keys: vec![ThreadKey::ProviderThread("t-1".into())],
        reply_to_provider_message_id: Some("m-1".into()),
        reply_to_email: None,
        reply_token: "rt-1".into(),
    }
}

const WEBHOOK_KEY: &[u8] = b"compliance-signing-key";

fn sign_webhook(body: &[u8]) -> Vec<(String, String)> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(WEBHOOK_KEY).expect("any key size");
    mac.update(body);
    vec![(
        "x-silta-signature".into(),
        format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
    )]
}

#[tokio::test]
async fn webhook_plugin_is_compliant() {
    let plugin = Harness::for_crate(repo().join("plugins/webhook"))
        .secret("signing-key", WEBHOOK_KEY)
        .config("endpoint", "https://hooks.example.test/silta")
        .start()
        .await;
    let spec = ChannelSpec {
        outbound: outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/webhook/tests/fixtures"),
        delivery: Delivery::Webhook { sign: sign_webhook },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 12, "only {checked} fixtures checked");
}

/// Meta signs WhatsApp, Messenger and Instagram webhooks alike
/// (`X-Hub-Signature-256`, keyed with the app secret).
const META_APP_SECRET: &[u8] = b"compliance-app-secret";

fn sign_meta(body: &[u8]) -> Vec<(String, String)> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(META_APP_SECRET).expect("any key size");
    mac.update(body);
    vec![(
        "x-hub-signature-256".into(),
        format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
    )]
}

/// A template: WhatsApp sends one whether or not the customer wrote
/// within 24 hours, so the check does not depend on the clock.
fn whatsapp_outbound(channel_account: String) -> OutboundMessage {
    OutboundMessage {
        recipient: Identity::new(
            IdentityKind::Whatsapp,
            "358401234567",
            IdentityScope::Global,
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        subject: None,
        parts: vec![Part::Template(Template {
            name: "order_shipped".into(),
            language: LanguageTag::parse("language", "fi").expect("language"),
            parameters: vec!["Aino".into(), "1234".into()],
        })],
        thread_keys: vec![ThreadKey::ProviderThread(
            "106540352242922:358401234567".into(),
        )],
        reply_to_provider_message_id: None,
        ..outbound(channel_account)
    }
}

#[tokio::test]
async fn whatsapp_plugin_is_compliant() {
    let plugin = Harness::for_crate(repo().join("plugins/whatsapp"))
        .secret("app-secret", META_APP_SECRET)
        .secret("access-token", "compliance-access-token")
        .config("phone_number_id", "106540352242922")
        .start()
        .await;
    let spec = ChannelSpec {
        outbound: whatsapp_outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/whatsapp/tests/fixtures"),
        delivery: Delivery::Webhook { sign: sign_meta },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 40, "only {checked} fixtures checked");
}

const TELEGRAM_SECRET_TOKEN: &str = "compliance-secret_token-0123";

/// Telegram does not sign the body: it sends the webhook's `secret_token`
/// back in a header, which the plugin compares with its secret (through
/// the host). The suite's tampering changes the token's last character.
fn sign_telegram(_body: &[u8]) -> Vec<(String, String)> {
    vec![(
        "x-telegram-bot-api-secret-token".into(),
        TELEGRAM_SECRET_TOKEN.into(),
    )]
}

/// A reply in the customer's private chat (chat id = user id).
fn telegram_outbound(channel_account: String) -> OutboundMessage {
    OutboundMessage {
        recipient: Identity::new(
            IdentityKind::Telegram,
            "123456789",
            IdentityScope::Global,
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        subject: None,
        thread_keys: vec![ThreadKey::ProviderThread("123456789".into())],
        reply_to_provider_message_id: Some("123456789:41".into()),
        ..outbound(channel_account)
    }
}

#[tokio::test]
async fn telegram_plugin_is_compliant() {
    let plugin = Harness::for_crate(repo().join("plugins/telegram"))
        .secret("webhook-secret-token", TELEGRAM_SECRET_TOKEN)
        .secret("bot-token", "123456:compliance-bot-token")
        .start()
        .await;
    let spec = ChannelSpec {
        outbound: telegram_outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/telegram/tests/fixtures"),
        delivery: Delivery::Webhook {
            sign: sign_telegram,
        },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 45, "only {checked} fixtures checked");
}

/// The Messenger customer of the compliance check (a PSID).
const MESSENGER_PSID: &str = "6830112345678901";

/// A text reply to a Messenger customer. Meta allows it only within 24
/// hours of the customer's last message, so the check first has the
/// customer write now (a signed webhook), not when the fixtures were
/// recorded.
fn messenger_outbound(channel_account: String) -> OutboundMessage {
    OutboundMessage {
        recipient: Identity::new(
            IdentityKind::Messenger,
            MESSENGER_PSID,
            IdentityScope::ChannelAccount(channel_account.clone()),
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        subject: None,
        thread_keys: vec![ThreadKey::ProviderThread(format!(
            "104501234567890:{MESSENGER_PSID}"
        ))],
        reply_to_provider_message_id: None,
        ..outbound(channel_account)
    }
}

#[tokio::test]
async fn messenger_plugin_is_compliant() {
    let plugin = Harness::for_crate(repo().join("plugins/messenger"))
        .secret("app-secret", META_APP_SECRET)
        .secret("access-token", "compliance-access-token")
        .secret("verify-token", "compliance-verify-token")
        .config("page_id", "104501234567890")
        .start()
        .await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default();
    let body = serde_json::json!({"object": "page", "entry": [{"id": "104501234567890",
        "time": now_ms, "messaging": [{"sender": {"id": MESSENGER_PSID},
        "recipient": {"id": "104501234567890"}, "timestamp": now_ms,
        "message": {"mid": format!("m_compliance-{now_ms}"), "text": "Hei"}}]}]})
    .to_string();
    let headers = sign_meta(body.as_bytes());
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    plugin
        .normalize_http(body.as_bytes(), &headers)
        .await
        .expect("the customer writes");
    let spec = ChannelSpec {
        outbound: messenger_outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/messenger/tests/fixtures"),
        delivery: Delivery::Webhook { sign: sign_meta },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 50, "only {checked} fixtures checked");
}

const TWILIO_AUTH_TOKEN: &str = "compliance0twilio0auth0token0001";
const TWILIO_PUBLIC_URL: &str = "https://silta.example.test";

/// Twilio signs the URL it called and the sorted form parameters
/// (`X-Twilio-Signature`, base64 HMAC-SHA1 keyed with the auth token).
/// The suite posts every fixture to the harness's fixed path, so the URL
/// is the plugin's configured `public_url` + `/v1/ingest`. The suite's
/// tampering changes the base64's last character.
fn sign_twilio(body: &[u8]) -> Vec<(String, String)> {
    use base64::Engine as _;
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    pairs.sort();
    pairs.dedup();
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(TWILIO_AUTH_TOKEN.as_bytes())
        .expect("any key size");
    mac.update(format!("{TWILIO_PUBLIC_URL}/v1/ingest").as_bytes());
    for (name, value) in &pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    vec![(
        "x-twilio-signature".into(),
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
    )]
}

/// A reply by SMS to the customer's number, in the conversation an
/// inbound message opened (`<our number>:<theirs>`).
fn twilio_outbound(channel_account: String) -> OutboundMessage {
    OutboundMessage {
        recipient: Identity::new(
            IdentityKind::Phone,
            "+358401234567",
            IdentityScope::Global,
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        subject: None,
        thread_keys: vec![ThreadKey::ProviderThread(
            "+14158675309:+358401234567".into(),
        )],
        reply_to_provider_message_id: None,
        ..outbound(channel_account)
    }
}

#[tokio::test]
async fn twilio_plugin_is_compliant() {
    let plugin = Harness::for_crate(repo().join("plugins/twilio"))
        .secret("auth-token", TWILIO_AUTH_TOKEN)
        .config("account_sid", "AC0123456789abcdef0123456789abcdef")
        .config("from", "+14158675309")
        .config("public_url", TWILIO_PUBLIC_URL)
        .start()
        .await;
    let spec = ChannelSpec {
        outbound: twilio_outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/twilio/tests/fixtures"),
        delivery: Delivery::Webhook { sign: sign_twilio },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 45, "only {checked} fixtures checked");
}

/// What Silta's web chat gateway says about each event: it came through
/// the gateway, from this visitor.
const WEBCHAT_GATEWAY: &[(&str, &str)] = &[
    ("gateway", "webchat"),
    ("visitor", "v-0123456789abcdef0123456789abcdef"),
];

fn webchat_outbound(channel_account: String) -> OutboundMessage {
    OutboundMessage {
        recipient: Identity::new(
            IdentityKind::WebchatVisitor,
            "v-0123456789abcdef0123456789abcdef",
            IdentityScope::ChannelAccount(channel_account.clone()),
            Assurance::ChannelAttested,
            &Default::default(),
        )
        .expect("identity"),
        subject: None,
        thread_keys: vec![ThreadKey::ProviderThread(
            "visitor:v-0123456789abcdef0123456789abcdef".into(),
        )],
        reply_to_provider_message_id: None,
        ..outbound(channel_account)
    }
}

#[tokio::test]
async fn webchat_plugin_is_compliant() {
    let plugin = Harness::for_crate(repo().join("plugins/webchat"))
        .secret("identity-secret", "compliance-identity-secret")
        .start()
        .await;
    let spec = ChannelSpec {
        outbound: webchat_outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/webchat/tests/fixtures"),
        delivery: Delivery::Gateway {
            meta: WEBCHAT_GATEWAY,
        },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 18, "only {checked} fixtures checked");
}

async fn start_email() -> silta_plugin_test::PluginUnderTest {
    Harness::for_crate(repo().join("plugins/email"))
        .config("address", "support@example.test")
        .start()
        .await
}

fn unreadable_email(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("unreadable-"))
}

#[tokio::test]
async fn email_plugin_is_compliant() {
    let plugin = start_email().await;
    let spec = ChannelSpec {
        outbound: outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/email/tests/fixtures"),
        delivery: Delivery::Mailbox {
            unreadable: unreadable_email,
        },
    };
    let checked = check_channel(&spec).await;
    assert!(checked >= 40, "only {checked} fixtures checked");
}

/// A 25 MB message (an 18 MB attachment, base64) normalizes inside the
/// plugin's memory and output limits, its attachment bytes with it.
#[tokio::test]
async fn email_plugin_normalizes_a_25_mb_message_within_its_limits() {
    let plugin = start_email().await;
    let raw = silta_plugin_test::samples::large_email();
    let event = plugin.imap_event(raw);
    let out = plugin
        .normalize(&event)
        .await
        .expect("normalizes within the limits");
    let [silta_plugin_test::contract::Normalized::Interaction(message)] = out.as_slice() else {
        panic!("one interaction, got {out:?}");
    };
    let [(hash, bytes)] = message.blobs.as_slice() else {
        panic!("the attachment's bytes travel for the blob store");
    };
    assert!(bytes.len() > 18 * 1024 * 1024, "{} bytes", bytes.len());
    assert!(message.interaction.parts.iter().any(|part| matches!(
        part,
        Part::Attachment(a) if a.content_hash.as_ref() == Some(hash)
            && a.size_bytes == u64::try_from(bytes.len()).ok()
    )));
}
