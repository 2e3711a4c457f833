//! Provider webhooks reach `silta run` the way providers really send them:
//! without Silta's API token, authenticated by their own signature
//! (`ingest_auth = "provider-signature"`), after the provider's subscription
//! handshake (Meta's `hub.challenge`), which the host answers from the
//! plugin's manifest. Channel accounts that keep the default still need the
//! token.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{ACCOUNT, Config, KEY, Receiver, Silta, eventually, request, sign};

/// Meta's App Secret and the verify token, as the operator configured them.
const APP_SECRET: &str = "meta-app-secret";
const VERIFY_TOKEN: &str = "meta-verify-token";

fn config() -> Config {
    Config {
        signing_key: true,
        extra_toml: r#"
[[plugins]]
id = "whatsapp"
capabilities = ["log", "kv", "secrets", "config"]
secrets = { app-secret = { env = "SILTA_TEST_APP_SECRET" }, verify-token = { env = "SILTA_TEST_VERIFY_TOKEN" } }
config = { phone_number_id = "106540352242922" }

[[channel_accounts]]
name = "wa"
plugin = "whatsapp"
ingest_auth = "provider-signature"
"#
        .into(),
        env: vec![
            ("SILTA_TEST_APP_SECRET".into(), APP_SECRET.into()),
            ("SILTA_TEST_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
            ("SILTA_WEBHOOK_SIGNING_KEY".into(), KEY.into()),
        ],
        ..Config::default()
    }
}

/// A documented Cloud API webhook: one text message.
fn whatsapp_webhook() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plugins/whatsapp/tests/fixtures/valid/text.json"
    );
    std::fs::read(path).expect("the whatsapp text fixture")
}

#[tokio::test]
async fn provider_webhooks_need_their_signature_not_the_api_token() {
    let mut silta = Silta::new(&config());
    silta.start().await;
    let port = silta.port;

    // Meta's handshake: answered with the challenge for the right token,
    // as text/plain, without the API token.
    let handshake = |token: &str, challenge: &str| {
        format!(
            "/v1/ingest/wa?hub.mode=subscribe&hub.verify_token={token}&hub.challenge={challenge}"
        )
    };
    let answered = request(
        port,
        "GET",
        &handshake(VERIFY_TOKEN, "1158201444"),
        &[],
        vec![],
    )
    .await
    .expect("handshake");
    assert_eq!(answered.status, 200, "{}", answered.text());
    assert_eq!(answered.text(), "1158201444");
    assert_eq!(
        answered.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"text/plain; charset=utf-8"[..])
    );
    let wrong = request(port, "GET", &handshake("guess", "1158201444"), &[], vec![])
        .await
        .expect("handshake");
    assert_eq!(wrong.status, 403, "{}", wrong.text());
    assert_eq!(wrong.json()["error"], "wrong_verify_token");
    let markup = request(
        port,
        "GET",
        &handshake(VERIFY_TOKEN, "%3Cscript%3E"),
        &[],
        vec![],
    )
    .await
    .expect("handshake");
    assert_eq!(markup.status, 400, "never echo markup: {}", markup.text());

    // A signed webhook without the API token is accepted and lands.
    let body = whatsapp_webhook();
    let signature = sign(&body, APP_SECRET);
    let accepted = ingest_whatsapp(port, body.clone()).await;
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let interaction = silta
        .linked_interaction("wamid.HBgMMzU4NDAxMjM0NTY3FQIAEhggQTNBRjE2MDlBMDk3MkE4RTQ1AA==")
        .await;
    assert_eq!(
        interaction["parts"][0]["text"],
        "Hei! Missä tilaukseni 1234 on?"
    );

    // Without a valid signature nothing is written: the signature is the
    // only authentication here.
    let before = interactions(&silta).await;
    for headers in [
        vec![("content-type", "application/json")],
        vec![
            ("content-type", "application/json"),
            ("x-hub-signature-256", signature.as_str()),
        ],
    ] {
        let mut forged = body.clone();
        forged.extend_from_slice(b" ");
        let refused = request(port, "POST", "/v1/ingest/wa", &headers, forged)
            .await
            .expect("ingest");
        assert_eq!(refused.status, 401, "{}", refused.text());
    }
    assert_eq!(interactions(&silta).await, before, "nothing written");

    // The default (`api-token`) still needs the token, for the event and the
    // handshake; and a plugin without a handshake says so.
    let shop_body = support::message("m-1", 1, "Hei");
    let shop_signature = sign(&shop_body, KEY);
    let unauthenticated = request(
        port,
        "POST",
        &format!("/v1/ingest/{ACCOUNT}"),
        &[
            ("content-type", "application/json"),
            ("x-silta-signature", &shop_signature),
        ],
        shop_body,
    )
    .await
    .expect("ingest");
    assert_eq!(unauthenticated.status, 401, "{}", unauthenticated.text());
    assert_eq!(unauthenticated.json()["error"], "missing_token");
    let no_handshake = silta
        .get_reply(&format!("/v1/ingest/{ACCOUNT}?hub.mode=subscribe"))
        .await;
    assert_eq!(no_handshake.status, 405, "{}", no_handshake.text());
    let unknown = request(
        port,
        "GET",
        "/v1/ingest/nope?hub.mode=subscribe",
        &[],
        vec![],
    )
    .await
    .expect("handshake");
    assert_eq!(
        unknown.status,
        401,
        "unknown accounts need the token: {}",
        unknown.text()
    );
    let unknown = silta.get_reply("/v1/ingest/nope").await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());

    // The OpenAPI document describes the handshake.
    let openapi = silta.get_json("/openapi.json").await;
    assert!(
        openapi["paths"]["/v1/ingest/{channel_account}"]["get"].is_object(),
        "{}",
        openapi["paths"]["/v1/ingest/{channel_account}"]
    );
    silta.terminate().await;
}

/// WhatsApp shows the customer one chat with the business number. When an
/// agent writes first there (the customer is known from another channel),
/// the customer's answer names only the chat, and joins the conversation
/// the agent's message began; a new conversation would split the exchange.
#[tokio::test]
async fn a_whatsapp_answer_to_our_first_message_joins_its_conversation() {
    let mut silta = Silta::new(&config());
    silta.start().await;

    // The customer is known from the shop's webhook channel, with their
    // WhatsApp number, and has never written on WhatsApp.
    let known = silta
        .ingest(
            support::webhook(
                "shop-1",
                json!({ "kind": "whatsapp", "value": "358401234567", "verified": true }),
                "Tilasin juuri.",
            ),
            KEY,
        )
        .await
        .expect("ingest");
    assert_eq!(known.status, 202, "{}", known.text());
    let shop = silta.linked_interaction("shop-1").await;
    let party = shop["party_id"].as_str().expect("party");

    let first = silta.send_new(party, "wa", "Tilauksesi on matkalla.").await;
    assert_eq!(first.status, 202, "{}", first.text());
    let started = first.json()["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    assert_ne!(shop["conversation_id"], started.as_str());
    // A second message before they answer goes into the same chat.
    let second = silta.send_new(party, "wa", "Seurantakoodi: JJFI123.").await;
    assert_eq!(second.status, 202, "{}", second.text());
    assert_eq!(second.json()["conversation_id"], started.as_str());
    // So does an agent's follow-up in the conversation itself.
    let follow_up = silta.reply(&started, "Paketti on perillä huomenna.").await;
    let follow_up = silta
        .get_json(&format!("/v1/interactions/{follow_up}"))
        .await;
    assert_eq!(
        follow_up["conversation_id"],
        started.as_str(),
        "{follow_up}"
    );
    assert_eq!(
        follow_up["recipients"][0]["value"], "+358401234567",
        "{follow_up}"
    );

    let answered = ingest_whatsapp(silta.port, whatsapp_webhook()).await;
    assert_eq!(answered.status, 202, "{}", answered.text());
    let answer = silta
        .linked_interaction("wamid.HBgMMzU4NDAxMjM0NTY3FQIAEhggQTNBRjE2MDlBMDk3MkE4RTQ1AA==")
        .await;
    assert_eq!(answer["party_id"], party, "{answer}");
    assert_eq!(answer["conversation_id"], started.as_str(), "{answer}");
    assert_eq!(
        answer["linking"]["conversation"]["rule"], "answer-to-new-conversation",
        "{answer}"
    );

    // The conversation now holds the chat's key: the next message finds it
    // by key.
    let next = String::from_utf8(whatsapp_webhook())
        .expect("UTF-8 fixture")
        .replace(
            "wamid.HBgMMzU4NDAxMjM0NTY3FQIAEhggQTNBRjE2MDlBMDk3MkE4RTQ1AA==",
            "wamid.NEXT",
        );
    let answered = ingest_whatsapp(silta.port, next.into_bytes()).await;
    assert_eq!(answered.status, 202, "{}", answered.text());
    let later = silta.linked_interaction("wamid.NEXT").await;
    assert_eq!(later["conversation_id"], started.as_str(), "{later}");
    assert_eq!(
        later["linking"]["conversation"]["rule"], "thread-key",
        "{later}"
    );
    silta.terminate().await;
}

/// A WhatsApp webhook `body`, signed as Meta signs it, to account `wa`.
async fn ingest_whatsapp(port: u16, body: Vec<u8>) -> support::Reply {
    let signature = sign(&body, APP_SECRET);
    request(
        port,
        "POST",
        "/v1/ingest/wa",
        &[
            ("content-type", "application/json"),
            ("x-hub-signature-256", &signature),
        ],
        body,
    )
    .await
    .expect("ingest")
}

/// Interactions in the store, seen through the API (after a moment for
/// anything accepted to be linked).
async fn interactions(silta: &Silta) -> usize {
    tokio::time::sleep(Duration::from_millis(300)).await;
    silta.all_interactions().await.len()
}

/// The bot token, which Telegram wants in the URL path.
const BOT_TOKEN: &str = "7012345678:AAHk-bot-token_for-tests";
/// The `secret_token` given to Telegram's setWebhook.
const TELEGRAM_SECRET: &str = "telegram-webhook-secret";

#[tokio::test]
async fn a_telegram_chat_round_trip_keeps_the_bot_token_out_of_sight() {
    // The Bot API on loopback: `sendMessage` answers like Telegram.
    let bot_api = Receiver::start(|_| {
        (
            200,
            r#"{"ok":true,"result":{"message_id":77,"date":1795464000,"chat":{"id":123456789,"type":"private"},"text":"ok"}}"#,
        )
    })
    .await;
    let api_url = format!("http://127.0.0.1:{}", bot_api.port);
    let mut silta = Silta::new(&Config {
        extra_toml: format!(
            r#"
[[plugins]]
id = "telegram"
capabilities = ["log", "secrets", "config", "http"]
allowed_hosts = ["{api_url}"]
secrets = {{ webhook-secret-token = {{ env = "SILTA_TEST_TELEGRAM_SECRET" }}, bot-token = {{ env = "SILTA_TEST_BOT_TOKEN" }} }}
config = {{ api_url = "{api_url}" }}

[[channel_accounts]]
name = "tg"
plugin = "telegram"
ingest_auth = "provider-signature"
"#
        ),
        env: vec![
            ("SILTA_TEST_TELEGRAM_SECRET".into(), TELEGRAM_SECRET.into()),
            ("SILTA_TEST_BOT_TOKEN".into(), BOT_TOKEN.into()),
            // Everything the host logs about requests, to look for the token.
            ("SILTA_LOG".into(), "debug,silta_pipeline=trace".into()),
        ],
        ..Config::default()
    });
    silta.start().await;

    // Telegram posts an update with its secret-token header, no API token.
    let update = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plugins/telegram/tests/fixtures/valid/text.json"
    ))
    .expect("the telegram text fixture");
    let port = silta.port;
    let post = |secret: &'static str, update: Vec<u8>| async move {
        request(
            port,
            "POST",
            "/v1/ingest/tg",
            &[
                ("content-type", "application/json"),
                ("x-telegram-bot-api-secret-token", secret),
            ],
            update,
        )
        .await
        .expect("ingest")
    };
    assert_eq!(post("wrong-secret", update.clone()).await.status, 401);
    let accepted = post(TELEGRAM_SECRET, update.clone()).await;
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let inbound = silta.linked_interaction("123456789:41").await;
    assert_eq!(inbound["sender"]["kind"], "telegram", "{inbound}");

    // An agent answers in the conversation; the host puts the token into
    // the path as the request leaves.
    let conversation = inbound["conversation_id"].as_str().expect("conversation");
    let reply = silta.reply(conversation, "Kyllä, se lähti eilen.").await;
    let sent = eventually(Duration::from_secs(60), "the reply sent", || async {
        let found = silta.get_json(&format!("/v1/interactions/{reply}")).await;
        let delivery = found["delivery"].as_array()?.clone();
        delivery
            .iter()
            .any(|step| step["state"] == "sent")
            .then_some(found)
    })
    .await;
    let received = bot_api.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].path, format!("/bot{BOT_TOKEN}/sendMessage"));
    let body: Value = serde_json::from_slice(&received[0].body).expect("JSON body");
    assert_eq!(body["chat_id"], 123_456_789, "{body}");
    assert_eq!(body["text"], "Kyllä, se lähti eilen.", "{body}");
    let sent_step = sent["delivery"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["state"] == "sent"))
        .expect("a sent step");
    assert_eq!(
        sent_step["provider_message_id"], "123456789:77",
        "the provider's id for the sent message: {sent}"
    );

    // Telegram shows the customer one chat with the bot, so a new message to
    // them (`POST /v1/messages`) continues their conversation, and their
    // next message, which names only the chat, lands beside it.
    let party = inbound["party_id"].as_str().expect("party");
    let proactive = silta
        .send_new(party, "tg", "Paketti on noudettavissa.")
        .await;
    assert_eq!(proactive.status, 202, "{}", proactive.text());
    assert_eq!(
        proactive.json()["conversation_id"],
        conversation,
        "a new message continues the chat's conversation"
    );
    let next = String::from_utf8(update.clone())
        .expect("UTF-8 fixture")
        .replace("\"message_id\": 41", "\"message_id\": 42")
        .replace("836120001", "836120002");
    assert!(next.contains("\"message_id\": 42"), "{next}");
    let answered = post(TELEGRAM_SECRET, next.into_bytes()).await;
    assert_eq!(answered.status, 202, "{}", answered.text());
    let answer = silta.linked_interaction("123456789:42").await;
    assert_eq!(answer["conversation_id"], conversation, "{answer}");

    // The token is in no answer and no log line.
    assert!(!sent.to_string().contains(BOT_TOKEN));
    silta.terminate().await;
    let log = silta.log();
    assert!(
        log.contains("{{secret:bot-token}}"),
        "the request is logged, with the token redacted: {}",
        log.lines()
            .filter(|line| line.contains("sendMessage") || line.contains("http"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        !log.contains(BOT_TOKEN),
        "the bot token leaked into the log"
    );
}
