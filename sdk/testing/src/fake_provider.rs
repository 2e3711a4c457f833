//! A SaaS provider's API played on loopback, for the tests that send a
//! plugin's rendered request all the way to an HTTP server.
//!
//! Recordings replay exchanges the plugin made through the harness; this is
//! for the other half of a delivery: the host prepares the plugin's
//! rendered request (fills the secrets in), sends it, and the plugin
//! interprets what came back. The provider cannot run here, so a small
//! hyper server on `127.0.0.1:0` stands in for it, answering from the
//! vendor's documented bodies through a function the test writes. It
//! records every request, so the test can check what reached the provider
//! as well as what the plugin made of the answer.
//!
//! ```no_run
//! # async fn demo(rendered: &silta_plugin_test::contract::HttpRequest) {
//! use serde_json::json;
//! use silta_plugin_test::fake_provider::{Answer, FakeProvider, send};
//! let api = FakeProvider::start(|request| {
//!     if request.header("authorization") == Some("Bearer token") {
//!         Answer::json(200, &json!({"id": "m-1"}))
//!     } else {
//!         Answer::json(401, &json!({"error": "unauthorized"}))
//!     }
//! })
//! .await;
//! // Start the plugin with `api.url()` as its API endpoint, render, prepare…
//! let response = send(rendered).await;
//! assert_eq!(api.received().len(), 1);
//! # }
//! ```
//!
//! [`deliver`] does the whole delivery for one outbound message, as the
//! host's sender would.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::PluginUnderTest;
use crate::contract::{
    DeliveryOutcome, HttpRequest, HttpResponse, OutboundMessage, TransportRequest,
    TransportResponse,
};

// === impl Received ===

/// What the fake provider saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// `POST`, `GET`, …
    pub method: String,
    /// The path with its query string, if any (`/v21.0/123/messages`).
    pub path: String,
    /// The headers in the order they came, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (any case), if sent.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body read as JSON, or `Value::Null` when it is not JSON: a
    /// provider answers a malformed body with an error, so the answer
    /// function sees `Null` rather than the test panicking in the server.
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

// === impl Answer ===

/// The fake provider's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    /// `body` as `application/json` with `status`.
    #[must_use]
    pub fn json(status: u16, body: &Value) -> Self {
        Self::raw(status, "application/json", body.to_string())
    }

    /// `body` as it is, with `status` and `content_type`, for the answers a
    /// provider does not give in JSON (an HTML error page from a proxy).
    #[must_use]
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    /// Adds header `name` (`retry-after` on a 429).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

// === impl FakeProvider ===

type AnswerFn = dyn Fn(&Received) -> Answer + Send + Sync;

/// A provider API on a free loopback port; it stops when dropped.
#[derive(Debug)]
pub struct FakeProvider {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    server: JoinHandle<()>,
}

impl FakeProvider {
    /// Starts the server on `127.0.0.1:0`; `answer` decides every response
    /// (keep its state, such as a counter of created ids, in the closure).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(answer: impl Fn(&Received) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let answer: Arc<AnswerFn> = Arc::new(answer);
        let log = received.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = log.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| respond(request, log.clone(), answer.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            received,
            server,
        }
    }

    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its origin, `http://127.0.0.1:<port>`, to configure as the plugin's
    /// API URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in the order they came.
    ///
    /// # Panics
    ///
    /// When an answer function panicked while the log was held.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn respond(
    request: Request<Incoming>,
    log: Arc<Mutex<Vec<Received>>>,
    answer: Arc<AnswerFn>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes().to_vec())
        .unwrap_or_default();
    let received = Received {
        method,
        path,
        headers,
        body,
    };
    let Answer {
        status,
        headers,
        body,
    } = answer(&received);
    log.lock().expect("lock").push(received);
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(name, value);
    }
    Ok(response
        .body(Full::new(Bytes::from(body)))
        .expect("a response"))
}

// === deliver ===

/// Delivers `message` as the host's sender does: the plugin renders it,
/// `inspect` sees the rendered request (the plugin's view, secrets still
/// placeholders: check here that the plugin never sees them), the host
/// prepares it (`Plugin::prepare_http_request` fills the secrets in), it
/// goes to its URL with [`send`], and the plugin interprets the answer.
///
/// # Errors
///
/// What `render` or `interpret-response` returned.
///
/// # Panics
///
/// When the plugin renders something other than an HTTP request, or the
/// host does not grant the request's origin.
pub async fn deliver(
    plugin: &PluginUnderTest,
    message: &OutboundMessage,
    inspect: impl FnOnce(&HttpRequest),
) -> silta_runtime::Result<DeliveryOutcome> {
    let rendered = plugin.render(message).await?;
    let TransportRequest::Http(request) = &rendered else {
        panic!("an HTTP request, got {rendered:?}");
    };
    inspect(request);
    let mut filled = request.clone();
    assert!(
        plugin.plugin().prepare_http_request(&mut filled),
        "the loopback origin is granted"
    );
    let response = send(&filled).await;
    plugin
        .interpret_response(&rendered, &TransportResponse::Http(response))
        .await
}

/// The first value of header `name` (any case) of a rendered request.
#[must_use]
pub fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

// === send ===

/// Sends `request` (rendered by the plugin, prepared by the host) as the
/// host's transport would, over plain HTTP/1.1: the fake provider listens
/// on loopback without TLS.
///
/// # Panics
///
/// When the URL has no authority or the server does not answer.
pub async fn send(request: &HttpRequest) -> HttpResponse {
    let uri: hyper::Uri = request.url.parse().expect("a URL");
    let authority = uri.authority().expect("an authority").to_string();
    let stream = TcpStream::connect(authority.as_str())
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut builder = Request::builder()
        .method(request.method.as_str())
        .uri(
            uri.path_and_query()
                .map(ToString::to_string)
                .unwrap_or_default(),
        )
        .header("host", authority);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let response = sender
        .send_request(
            builder
                .body(Full::new(Bytes::from(request.body.clone())))
                .expect("request"),
        )
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    HttpResponse {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn records_the_request_and_sends_the_answer_back() {
        let api = FakeProvider::start(|request| {
            Answer::json(201, &json!({"to": request.json()["to"]})).header("retry-after", "7")
        })
        .await;
        let response = send(&HttpRequest {
            method: "POST".into(),
            url: format!("{}/v1/messages?dry=1", api.url()),
            headers: vec![("Authorization".into(), "Bearer t".into())],
            body: br#"{"to":"358401234567"}"#.to_vec(),
        })
        .await;
        assert_eq!(response.status, 201);
        assert!(
            response
                .headers
                .contains(&("retry-after".into(), "7".into()))
        );
        assert_eq!(response.body, br#"{"to":"358401234567"}"#);

        let [received] = api.received().try_into().expect("one request");
        assert_eq!(received.method, "POST");
        assert_eq!(received.path, "/v1/messages?dry=1");
        assert_eq!(received.header("authorization"), Some("Bearer t"));
        assert_eq!(received.json(), json!({"to": "358401234567"}));
    }
}
