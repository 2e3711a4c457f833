//! The web chat through `silta run`: the gateway's protocol over HTTP
//! (sessions, CORS, the `POST` + SSE fallback, uploads, identity tokens),
//! then the widget itself in headless Chromium (`tests/browser/`).

mod support;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::{
    Config, KEY, Reply, Silta, TOKEN, eventually, free_port, read_sse, request, webhook,
};

/// The web chat account.
const SITE: &str = "site";
/// The HS256 secret the site signs identity tokens with.
const IDENTITY_SECRET: &str = "site-identity-secret-0123456789abcdef";
/// A customer the CRM side knows, with a verified address.
const EXISTING_EMAIL: &str = "aino.virtanen@example.fi";

fn config(page_origin: &str) -> Config {
    Config {
        signing_key: true,
        extra_toml: format!(
            r#"
[[plugins]]
id = "webchat"
capabilities = ["log", "secrets", "http"]
allowed_hosts = ["http://webchat.internal"]
secrets = {{ identity-secret = {{ env = "SILTA_TEST_IDENTITY_SECRET" }} }}

[[channel_accounts]]
name = "{SITE}"
plugin = "webchat"
webchat = {{ allowed_origins = ["{page_origin}"], max_upload_bytes = 65536 }}
"#
        ),
        env: vec![
            ("SILTA_TEST_IDENTITY_SECRET".into(), IDENTITY_SECRET.into()),
            ("SILTA_WEBHOOK_SIGNING_KEY".into(), KEY.into()),
        ],
        ..Config::default()
    }
}

/// An HS256 JWT for `claims`, signed with `secret`.
fn identity_token(claims: &Value, secret: &str) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key size");
    mac.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A party holding [`EXISTING_EMAIL`] as a verified identity, made through
/// the webhook channel (as a shop's own system would).
async fn existing_party(silta: &Silta) -> String {
    let sender = json!({ "kind": "email", "value": EXISTING_EMAIL, "name": "Aino Virtanen", "verified": true });
    let reply = silta
        .ingest(webhook("shop-1", sender, "Tilaus 1234?"), KEY)
        .await
        .expect("ingest");
    assert_eq!(reply.status, 202, "{}", reply.text());
    silta.linked_interaction("shop-1").await["party_id"]
        .as_str()
        .expect("party")
        .to_owned()
}

/// A visitor's browser-like call: from the page's origin, with its session.
#[derive(Clone)]
struct Visitor {
    port: u16,
    origin: String,
    token: String,
    id: String,
}

impl Visitor {
    async fn start(port: u16, origin: &str) -> Visitor {
        let reply = request(
            port,
            "POST",
            &format!("/v1/webchat/{SITE}/sessions"),
            &[("origin", origin), ("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await
        .expect("session");
        assert_eq!(reply.status, 200, "{}", reply.text());
        let session = reply.json();
        Visitor {
            port,
            origin: origin.to_owned(),
            token: session["visitor_token"].as_str().expect("token").to_owned(),
            id: session["visitor_id"].as_str().expect("id").to_owned(),
        }
    }

    async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let auth = format!("Visitor {}", self.token);
        request(
            self.port,
            "POST",
            &format!("/v1/webchat/{SITE}/{path}"),
            &[
                ("origin", &self.origin),
                ("authorization", &auth),
                ("content-type", content_type),
            ],
            body,
        )
        .await
        .expect("post")
    }

    async fn receipt(&self, ids: &[&str], state: &str) -> Reply {
        let frame = json!({ "type": "receipt", "ids": ids, "state": state });
        self.post(
            "receipts",
            "application/json",
            frame.to_string().into_bytes(),
        )
        .await
    }

    async fn send(&self, frame: &Value) -> Reply {
        self.post(
            "messages",
            "application/json",
            frame.to_string().into_bytes(),
        )
        .await
    }

    /// The frames the SSE fallback sends until it is idle for `idle`.
    async fn frames(&self, idle: Duration) -> Vec<Value> {
        let path = format!("/v1/webchat/{SITE}/events?visitor_token={}", self.token);
        read_sse(self.port, &path, &[("origin", &self.origin)], idle)
            .await
            .expect("events")
            .into_iter()
            .map(|event| serde_json::from_str(&event.data).expect("frame JSON"))
            .collect()
    }
}

/// Every interaction whose provider message id is `id`.
async fn interactions_with(silta: &Silta, id: &str) -> Vec<Value> {
    silta
        .all_interactions()
        .await
        .into_iter()
        .filter(|i| i["provenance"]["provider_message_id"] == id)
        .collect()
}

#[tokio::test]
async fn a_visitor_chats_over_the_fallback_transport() {
    let page_origin = format!("http://127.0.0.1:{}", free_port());
    let mut silta = Silta::new(&config(&page_origin));
    silta.start().await;
    let port = silta.port;
    let existing = existing_party(&silta).await;

    // The widget script is public; the API is not open to other sites.
    let script = request(
        port,
        "GET",
        &format!("/v1/webchat/{SITE}/widget.js"),
        &[],
        vec![],
    )
    .await
    .expect("widget");
    assert_eq!(script.status, 200);
    assert!(script.text().contains("SiltaChat"));
    let foreign = request(
        port,
        "POST",
        &format!("/v1/webchat/{SITE}/sessions"),
        &[("origin", "http://evil.example")],
        b"{}".to_vec(),
    )
    .await
    .expect("foreign");
    assert_eq!(foreign.status, 403, "{}", foreign.text());
    assert!(foreign.text().contains("allowed_origins"));

    let visitor = Visitor::start(port, &page_origin).await;
    let preflight = request(
        port,
        "OPTIONS",
        &format!("/v1/webchat/{SITE}/messages"),
        &[
            ("origin", &page_origin),
            ("access-control-request-method", "POST"),
        ],
        vec![],
    )
    .await
    .expect("preflight");
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight
            .headers
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(page_origin.as_bytes())
    );

    // A message, sent twice (a resend after a lost answer): recorded once.
    let frame =
        json!({ "type": "message", "client_id": "c-1", "text": "Hei, missä tilaukseni on?" });
    for _ in 0..2 {
        let accepted = visitor.send(&frame).await;
        assert_eq!(accepted.status, 202, "{}", accepted.text());
        assert_eq!(accepted.json()["client_id"], "c-1");
    }
    let provider_id = format!("{}:c-1", visitor.id);
    let first = silta.linked_interaction(&provider_id).await;
    assert_eq!(interactions_with(&silta, &provider_id).await.len(), 1);
    assert_eq!(first["attributes"]["webchat.visitor"], visitor.id.as_str());
    let conversation = first["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();

    // Without a session, with a forged one, or through the ingest API:
    // refused, nothing written.
    let mut forged = Visitor::start(port, &page_origin).await;
    forged.token.push('x');
    assert_eq!(forged.send(&frame).await.status, 401);
    let posted = silta
        .call(
            "POST",
            &format!("/v1/ingest/{SITE}"),
            "application/json",
            frame.to_string().into_bytes(),
        )
        .await;
    assert_eq!(posted.status, 401, "{}", posted.text());
    assert!(posted.text().contains("gateway"), "{}", posted.text());
    let empty = visitor
        .send(&json!({ "type": "message", "client_id": "c-2", "text": " " }))
        .await;
    assert_eq!(empty.status, 400, "{}", empty.text());
    assert!(empty.text().contains("empty"), "{}", empty.text());

    // The agent replies; the open stream gets it, then its read receipt
    // lands in the delivery history.
    let reader = {
        let visitor = visitor.clone();
        tokio::spawn(async move { visitor.frames(Duration::from_secs(4)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reply_id = silta.reply(&conversation, "Tilauksesi lähti tänään.").await;
    let frames = reader.await.expect("reader");
    assert_eq!(frames[0]["type"], "history", "{frames:?}");
    assert_eq!(frames[0]["messages"][0]["client_id"], "c-1");
    let pushed = frames
        .iter()
        .find(|f| f["type"] == "message" && f["message"]["id"] == reply_id.as_str())
        .unwrap_or_else(|| panic!("the reply was not pushed: {frames:?}"));
    assert_eq!(pushed["message"]["from"], "agent");
    assert_eq!(pushed["message"]["state"], "sent");
    let receipt = visitor.receipt(&[&reply_id], "read").await;
    assert_eq!(receipt.status, 202, "{}", receipt.text());
    eventually(Duration::from_secs(20), "the read receipt", || async {
        let reply = silta
            .get_json(&format!("/v1/interactions/{reply_id}"))
            .await;
        reply["delivery"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|s| s["state"] == "read"))
            .then_some(())
    })
    .await;
    // Another visitor cannot mark it.
    let stranger = Visitor::start(port, &page_origin).await;
    let _ = stranger.receipt(&[&reply_id], "delivered").await;

    // A new message to the visitor's party on the web chat (not a reply):
    // it continues the visitor's conversation, the only one the widget
    // shows, and reaches the open widget.
    let party = first["party_id"].as_str().expect("party").to_owned();
    let reader = {
        let visitor = visitor.clone();
        tokio::spawn(async move { visitor.frames(Duration::from_secs(4)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (proactive_id, proactive_conversation) =
        send_new(&silta, &party, "Hei! Pakettisi on noudettavissa.").await;
    assert_eq!(proactive_conversation, conversation);
    let frames = reader.await.expect("reader");
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "message" && f["message"]["id"] == proactive_id.as_str()),
        "the new message was not pushed: {frames:?}"
    );
    delivered(&silta, &proactive_id).await;

    // A file: uploaded, then named by the message.
    let upload = visitor
        .post("uploads", "text/plain", b"kuitti 1234".to_vec())
        .await;
    assert_eq!(upload.status, 201, "{}", upload.text());
    let blob = upload.json()["blob"].as_str().expect("blob").to_owned();
    assert_eq!(
        visitor
            .post("uploads", "text/html", b"<p>".to_vec())
            .await
            .status,
        415
    );
    assert_eq!(
        visitor
            .post("uploads", "text/plain", vec![b'a'; 70_000])
            .await
            .status,
        413
    );
    let with_file = visitor
        .send(&json!({ "type": "message", "client_id": "c-3", "text": "",
            "attachments": [{ "blob": blob, "name": "kuitti.txt", "media_type": "text/plain", "size": 11 }] }))
        .await;
    assert_eq!(with_file.status, 202, "{}", with_file.text());
    let recorded = silta
        .linked_interaction(&format!("{}:c-3", visitor.id))
        .await;
    assert_eq!(
        recorded["parts"][0]["attachment"]["filename"], "kuitti.txt",
        "{recorded}"
    );

    // A signed-in visitor is the party the shop already knows; a token
    // signed with another secret is refused and writes nothing.
    let signed_in = Visitor::start(port, &page_origin).await;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 600;
    let claims =
        json!({ "sub": "user-42", "email": EXISTING_EMAIL, "name": "Aino Virtanen", "exp": exp });
    let forged_token = identity_token(&claims, "not-the-secret");
    let refused = signed_in
        .send(&json!({ "type": "message", "client_id": "c-9", "text": "Hei", "identity_token": forged_token }))
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert!(refused.text().contains("signature"), "{}", refused.text());
    let accepted = signed_in
        .send(
            &json!({ "type": "message", "client_id": "c-10", "text": "Hei taas",
            "identity_token": identity_token(&claims, IDENTITY_SECRET) }),
        )
        .await;
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let linked = silta
        .linked_interaction(&format!("{}:c-10", signed_in.id))
        .await;
    assert_eq!(linked["party_id"], existing.as_str(), "{linked}");
    assert!(
        interactions_with(&silta, &format!("{}:c-9", signed_in.id))
            .await
            .is_empty()
    );
    // The signed-in visitor is reached by their email address: a new
    // message on the web chat goes to the conversation they wrote in
    // there, not to their webhook channel's conversation, nor a new one.
    let (to_signed_in, its_conversation) = send_new(&silta, &existing, "Kiitos viestistä!").await;
    assert_eq!(
        its_conversation,
        linked["conversation_id"].as_str().expect("conversation")
    );
    delivered(&silta, &to_signed_in).await;
    silta.terminate().await;
}

/// `POST /v1/messages` to `party` on the web chat; (interaction id,
/// conversation id).
async fn send_new(silta: &Silta, party: &str, text: &str) -> (String, String) {
    let queued = silta.send_new(party, SITE, text).await;
    assert_eq!(queued.status, 202, "{}", queued.text());
    let queued = queued.json();
    (
        queued["interaction_id"].as_str().expect("id").to_owned(),
        queued["conversation_id"]
            .as_str()
            .expect("conversation")
            .to_owned(),
    )
}

/// Waits until outbound interaction `id` is recorded as sent.
async fn delivered(silta: &Silta, id: &str) {
    eventually(Duration::from_secs(20), "the message sent", || async {
        let sent = silta.get_json(&format!("/v1/interactions/{id}")).await;
        sent["delivery"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|s| s["state"] == "sent"))
            .then_some(())
    })
    .await;
}

/// An open event stream, held by a raw connection: the response head is
/// read, the connection kept.
async fn open_stream(port: u16, path: &str, headers: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n{headers}\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut byte = [0u8; 256];
        let n = stream.read(&mut byte).await.expect("response");
        assert!(n > 0, "the stream closed before its head");
        head.extend_from_slice(&byte[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

#[tokio::test]
async fn open_event_streams_do_not_hold_up_shutdown() {
    use tokio::io::AsyncReadExt;
    let page_origin = format!("http://127.0.0.1:{}", free_port());
    let mut silta = Silta::new(&config(&page_origin));
    silta.start().await;
    let port = silta.port;
    let visitor = Visitor::start(port, &page_origin).await;
    let widget = open_stream(
        port,
        &format!("/v1/webchat/{SITE}/events?visitor_token={}", visitor.token),
        &format!("origin: {page_origin}\r\n"),
    )
    .await;
    let api = open_stream(
        port,
        "/v1/events",
        &format!("authorization: Bearer {TOKEN}\r\n"),
    )
    .await;
    // Panics when the process does not exit (it waited for the streams).
    silta.terminate().await;
    for mut stream in [widget, api] {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
            .await
            .expect("the server ended the stream")
            .expect("read");
    }
}

#[tokio::test]
async fn the_widget_works_in_a_real_browser() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser_dir = root.join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and playwright-core: run tests/browser/install.sh (scripts/test does)"
    );
    let page_port = free_port();
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let mut silta = Silta::new(&config(&page_origin));
    silta.start().await;
    let existing = existing_party(&silta).await;
    let artifacts = root.join("target/test-artifacts/webchat");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let mut node = std::process::Command::new("node");
    node.arg("webchat.e2e.mjs")
        .current_dir(&browser_dir)
        .env("SILTA_URL", format!("http://127.0.0.1:{}", silta.port))
        .env("SILTA_TOKEN", TOKEN)
        .env("WEBCHAT_ACCOUNT", SITE)
        .env("PAGE_PORT", page_port.to_string())
        .env("IDENTITY_SECRET", IDENTITY_SECRET)
        .env("EXISTING_PARTY_ID", &existing)
        .env("EXISTING_EMAIL", EXISTING_EMAIL)
        .env("ARTIFACTS_DIR", &artifacts);
    // The script bounds every wait itself and exits on its first failure.
    let output = tokio::task::spawn_blocking(move || node.output())
        .await
        .expect("join")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}\nsilta's log:\n{}",
        silta.log()
    );
    let shots = std::fs::read_dir(&artifacts)
        .expect("artifacts")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .count();
    assert!(
        shots >= 5,
        "only {shots} screenshots in {}",
        artifacts.display()
    );
    silta.terminate().await;
}
