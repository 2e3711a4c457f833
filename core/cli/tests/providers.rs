//! Provider webhooks reach `silta run` the way providers really send them:
//! without Silta's API token, authenticated by their own signature
//! (`ingest_auth = "provider-signature"`), after the provider's subscription
//! handshake (Meta's `hub.challenge`), which the host answers from the
//! plugin's manifest. Channel accounts that keep the default still need the
//! token.

mod support;

use std::time::Duration;

use support::{ACCOUNT, Config, KEY, Silta, request, sign};

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
    let accepted = request(
        port,
        "POST",
        "/v1/ingest/wa",
        &[
            ("content-type", "application/json"),
            ("x-hub-signature-256", &signature),
        ],
        body.clone(),
    )
    .await
    .expect("ingest");
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

/// Interactions in the store, seen through the API (after a moment for
/// anything accepted to be linked).
async fn interactions(silta: &Silta) -> usize {
    tokio::time::sleep(Duration::from_millis(300)).await;
    silta.all_interactions().await.len()
}
