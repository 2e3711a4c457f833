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

const WHATSAPP_APP_SECRET: &[u8] = b"compliance-app-secret";

fn sign_whatsapp(body: &[u8]) -> Vec<(String, String)> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(WHATSAPP_APP_SECRET).expect("any key size");
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
        .secret("app-secret", WHATSAPP_APP_SECRET)
        .secret("access-token", "compliance-access-token")
        .config("phone_number_id", "106540352242922")
        .start()
        .await;
    let spec = ChannelSpec {
        outbound: whatsapp_outbound(plugin.channel_account().to_string()),
        plugin,
        fixtures: repo().join("plugins/whatsapp/tests/fixtures"),
        delivery: Delivery::Webhook {
            sign: sign_whatsapp,
        },
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
