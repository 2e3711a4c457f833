//! Driving a real `silta run` process over HTTP: configuration, start and
//! kill, a small HTTP/1.1 client (hyper), a Server-Sent Events reader and a
//! loopback receiver for replies.

#![allow(dead_code)]

pub mod mail;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sha2::Sha256;

/// The API token every test configuration accepts.
pub const TOKEN: &str = "test-token";
/// The webhook plugin's signing key.
pub const KEY: &str = "test-signing-key";
/// The channel account every test configuration has.
pub const ACCOUNT: &str = "shop";

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `sha256=<hex HMAC-SHA256(body, key)>`.
pub fn sign(body: &[u8], key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A webhook message from customer `customer`.
pub fn message(id: &str, customer: usize, text: &str) -> Vec<u8> {
    json!({
        "id": id,
        "thread_id": format!("t-{customer}"),
        "sender": {
            "kind": "email",
            "value": format!("customer-{customer}@example.fi"),
            "name": format!("Customer {customer}"),
        },
        "text": text,
    })
    .to_string()
    .into_bytes()
}

/// A webhook message from `sender` (a webhook `sender` object), in no
/// thread.
pub fn webhook(id: &str, sender: Value, text: &str) -> Vec<u8> {
    json!({ "id": id, "sender": sender, "text": text })
        .to_string()
        .into_bytes()
}

// === impl Config ===

/// What goes into a test's `silta.toml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Grant the plugin its `signing-key` secret.
    pub signing_key: bool,
    /// The origin replies may go to and the endpoint they go to.
    pub receiver: Option<u16>,
    /// More configuration, appended as is (plugins, channel accounts).
    pub extra_toml: String,
    /// Environment variables for the process (secrets the extra TOML names).
    pub env: Vec<(String, String)>,
    /// Outbound attempts before dead-lettering (default 3).
    pub max_attempts: Option<u32>,
    /// More keys for the `shop` channel account (`rate_limits = {...}`).
    pub account_toml: String,
}

impl Config {
    fn toml(&self, data_dir: &Path, port: u16) -> String {
        let mut out = format!(
            r#"config_version = 1
data_dir = {data:?}

[api]
listen = "127.0.0.1:{port}"
tokens = ["{TOKEN}"]
max_body_bytes = 65536

[pipeline]
retry_initial_ms = 50
retry_max_seconds = 1
max_attempts = {attempts}

[[plugins]]
id = "webhook"
capabilities = ["log", "secrets", "config"]
"#,
            data = data_dir.display().to_string(),
            attempts = self.max_attempts.unwrap_or(3),
        );
        if let Some(receiver) = self.receiver {
            out.push_str(&format!(
                "allowed_hosts = [\"http://127.0.0.1:{receiver}\"]\nconfig = {{ endpoint = \"http://127.0.0.1:{receiver}/replies\" }}\n"
            ));
        }
        if self.signing_key {
            out.push_str("secrets = { signing-key = { env = \"SILTA_WEBHOOK_SIGNING_KEY\" } }\n");
        }
        out.push_str(&format!(
            "\n[[channel_accounts]]\nname = \"{ACCOUNT}\"\nplugin = \"webhook\"\n{}\n",
            self.account_toml
        ));
        out.push_str(&self.extra_toml);
        out
    }
}

// === impl Silta ===

/// One node: its own directory, port and configuration, and the process
/// while it runs (killed when dropped).
pub struct Silta {
    dir: tempfile::TempDir,
    api: Client,
    child: Option<Child>,
    log: PathBuf,
    starts: usize,
    env: Vec<(String, String)>,
}

impl Silta {
    /// A node in a fresh temporary directory, not started yet.
    pub fn new(config: &Config) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let silta = Self {
            api: Client { port: free_port() },
            log: dir.path().join("silta.log"),
            dir,
            child: None,
            starts: 0,
            env: Vec::new(),
        };
        let mut silta = silta;
        silta.configure(config);
        silta
    }

    /// Rewrite the configuration (takes effect on the next start).
    pub fn configure(&mut self, config: &Config) {
        self.env.clone_from(&config.env);
        std::fs::write(
            self.config_path(),
            config.toml(&self.dir.path().join("data"), self.api.port),
        )
        .expect("write config");
    }

    /// The configuration file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("silta.toml")
    }

    /// `silta <args> --config <file>`, with the signing key in the
    /// environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_silta"));
        cmd.args(args)
            .arg("--config")
            .arg(self.config_path())
            .env("SILTA_WEBHOOK_SIGNING_KEY", KEY)
            .env_remove("SILTA_API_TOKEN")
            // The binary reads `SILTA_LOG`; info is what failure messages show.
            .env("SILTA_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Start `silta run` and wait until `/readyz` answers 200.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = self
            .command(&["run"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn silta");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Ok(reply) = get(self.api.port, "/readyz").await
                && reply.status == 200
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!("silta exited with {status}:\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "silta did not become ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill");
            child.wait().expect("wait");
        }
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = child.try_wait().expect("try_wait") {
                break exit;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("silta did not stop on SIGTERM:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(exit.success(), "silta exited with {exit}:\n{}", self.log());
    }

    /// What the process wrote to stderr so far (every start).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl std::ops::Deref for Silta {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.api
    }
}

impl Drop for Silta {
    fn drop(&mut self) {
        self.kill();
    }
}

// === impl Client ===

/// Requests to one node's API (cheap to copy into tasks).
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// The API port.
    pub port: u16,
}

impl Client {
    /// `POST /v1/ingest/shop` with a signature made with `key`.
    pub async fn ingest(&self, body: Vec<u8>, key: &str) -> anyhow::Result<Reply> {
        let signature = sign(&body, key);
        request(
            self.port,
            "POST",
            &format!("/v1/ingest/{ACCOUNT}"),
            &[
                ("authorization", &format!("Bearer {TOKEN}")),
                ("content-type", "application/json"),
                ("x-silta-signature", &signature),
            ],
            body,
        )
        .await
    }

    /// An authorized GET answered 200, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let reply = self.get_reply(path).await;
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
        reply.json()
    }

    /// An authorized GET, whatever its answer.
    pub async fn get_reply(&self, path: &str) -> Reply {
        request(
            self.port,
            "GET",
            path,
            &[("authorization", &format!("Bearer {TOKEN}"))],
            Vec::new(),
        )
        .await
        .unwrap_or_else(|err| panic!("GET {path}: {err:#}"))
    }

    /// An authorized request with a body of `content_type`.
    pub async fn call(&self, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        request(
            self.port,
            method,
            path,
            &[
                ("authorization", &format!("Bearer {TOKEN}")),
                ("content-type", content_type),
            ],
            body,
        )
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err:#}"))
    }

    /// The interaction with this provider message id, once it is linked to
    /// a party (waits up to 60 s).
    pub async fn linked_interaction(&self, provider_message_id: &str) -> Value {
        let what = format!("message {provider_message_id} linked to a party");
        eventually(Duration::from_secs(60), &what, || async {
            self.all_interactions().await.into_iter().find(|i| {
                i["provenance"]["provider_message_id"] == provider_message_id
                    && i["party_id"].is_string()
            })
        })
        .await
    }

    /// An authorized `POST` of a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.call(
            "POST",
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
    }

    /// `POST /v1/messages`: a new message with `text` to `party` on
    /// `channel_account`.
    pub async fn send_new(&self, party: &str, channel_account: &str, text: &str) -> Reply {
        self.post_json(
            "/v1/messages",
            &json!({ "party_id": party, "channel_account": channel_account, "text": text }),
        )
        .await
    }

    /// `POST /v1/conversations/{id}/messages` with `text`; returns the
    /// new interaction's id (panics unless the answer is 202).
    pub async fn reply(&self, conversation: &str, text: &str) -> String {
        let path = format!("/v1/conversations/{conversation}/messages");
        let reply = request(
            self.port,
            "POST",
            &path,
            &[
                ("authorization", &format!("Bearer {TOKEN}")),
                ("content-type", "application/json"),
            ],
            json!({ "text": text }).to_string().into_bytes(),
        )
        .await
        .unwrap_or_else(|err| panic!("POST {path}: {err:#}"));
        assert_eq!(reply.status, 202, "POST {path}: {}", reply.text());
        reply.json()["interaction_id"]
            .as_str()
            .expect("interaction id")
            .to_owned()
    }

    /// Every interaction in the store, through the parties list and each
    /// party's timeline.
    pub async fn all_interactions(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for party in self.all_pages("/v1/parties").await {
            let id = party["id"].as_str().expect("party id").to_owned();
            out.extend(self.all_pages(&format!("/v1/parties/{id}/timeline")).await);
        }
        out
    }

    /// Every item of a paged list.
    pub async fn all_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                None => self.get_json(&format!("{path}?limit=500")).await,
                Some(c) => self.get_json(&format!("{path}?limit=500&cursor={c}")).await,
            };
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// A gauge or counter from `/metrics` (the sum over its label sets
    /// that contain `labels`).
    pub async fn metric(&self, name: &str, labels: &str) -> Option<f64> {
        let reply = get(self.port, "/metrics").await.ok()?;
        let mut found = None;
        for line in reply.text().lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let metric = key.split('{').next().unwrap_or(key);
            if metric == name && key.contains(labels) {
                *found.get_or_insert(0.0) += value.parse::<f64>().ok()?;
            }
        }
        found
    }

    /// Server-Sent Events from `/v1/events?after=<after>` until none came
    /// for `idle`.
    pub async fn events(&self, after: i64, idle: Duration) -> Vec<SseEvent> {
        read_sse(self.port, &format!("/v1/events?after={after}"), &[], idle)
            .await
            .expect("event stream")
    }

    /// Server-Sent Events resumed with `Last-Event-ID: <last>`, until none
    /// came for `idle`.
    pub async fn events_resumed(&self, last: i64, idle: Duration) -> Vec<SseEvent> {
        let last = last.to_string();
        read_sse(self.port, "/v1/events", &[("last-event-id", &last)], idle)
            .await
            .expect("event stream")
    }
}

// === HTTP client ===

/// A response.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }
}

async fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<hyper::Response<hyper::body::Incoming>> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("127.0.0.1:{port}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req.body(Full::new(Bytes::from(body)))?;
    Ok(sender.send_request(req).await?)
}

/// One request on a fresh connection, with a 30 s timeout.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<Reply> {
    tokio::time::timeout(Duration::from_secs(30), async {
        let response = send(port, method, path, headers, body).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            headers,
            body,
        })
    })
    .await
    .with_context(|| format!("{method} {path} timed out"))?
}

/// An unauthenticated GET.
pub async fn get(port: u16, path: &str) -> anyhow::Result<Reply> {
    request(port, "GET", path, &[], Vec::new()).await
}

// === Server-Sent Events ===

/// One event of a stream.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// `id:`
    pub id: Option<String>,
    /// `event:`
    pub event: Option<String>,
    /// `data:` lines, joined.
    pub data: String,
}

/// Read an authorized SSE stream until nothing arrives for `idle`
/// (the server's keep-alive comments count as nothing).
pub async fn read_sse(
    port: u16,
    path: &str,
    extra_headers: &[(&str, &str)],
    idle: Duration,
) -> anyhow::Result<Vec<SseEvent>> {
    let auth = format!("Bearer {TOKEN}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("accept", "text/event-stream"),
    ];
    headers.extend_from_slice(extra_headers);
    let response = tokio::time::timeout(
        Duration::from_secs(30),
        send(port, "GET", path, &headers, Vec::new()),
    )
    .await
    .context("connecting to the event stream timed out")??;
    anyhow::ensure!(
        response.status() == 200,
        "event stream answered {}",
        response.status()
    );
    let mut body = response.into_body();
    let mut buffer = String::new();
    let mut events = Vec::new();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => break,
            Ok(None) => anyhow::bail!("the event stream ended"),
            Ok(Some(frame)) => frame?,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buffer.push_str(std::str::from_utf8(&data)?);
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = SseEvent {
                id: None,
                event: None,
                data: String::new(),
            };
            let mut any = false;
            for line in block.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => event.id = Some(value.to_owned()),
                    "event" => event.event = Some(value.to_owned()),
                    "data" => {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event.data.push_str(value);
                    }
                    _ => continue,
                }
                any = true;
            }
            if any {
                events.push(event);
            }
        }
    }
    Ok(events)
}

// === Receiver ===

/// A request the receiver got, and what it answered.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path.
    pub path: String,
    /// `x-silta-signature`, if any.
    pub signature: Option<String>,
    /// Body.
    pub body: Bytes,
    /// The status it answered.
    pub answered: u16,
    /// When it arrived.
    pub at: Instant,
}

/// A loopback HTTP server that answers the n-th request (from 0) with
/// `answer(n)` and records each.
pub struct Receiver {
    /// Its port.
    pub port: u16,
    /// What it got.
    pub received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Start one; `answer(n)` gives the status and body of request `n`.
    pub async fn start(answer: fn(usize) -> (u16, &'static str)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let log = Arc::clone(&log);
                        async move {
                            let path = req.uri().path().to_owned();
                            let signature = req
                                .headers()
                                .get("x-silta-signature")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let body = req.into_body().collect().await?.to_bytes();
                            let mut log = log.lock().expect("receiver log");
                            let (status, reply) = answer(log.len());
                            log.push(Received {
                                path,
                                signature,
                                body,
                                answered: status,
                                at: Instant::now(),
                            });
                            Ok::<_, hyper::Error>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from_static(reply.as_bytes())))
                                    .expect("response"),
                            )
                        }
                    },
                );
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            port,
            received,
            task,
        }
    }

    /// A copy of what it got so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("receiver log").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Poll `check` every 100 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
