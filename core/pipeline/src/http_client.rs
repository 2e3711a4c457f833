//! The one outbound HTTP client the pipeline shares: outbox sends, plugin
//! egress and webhook deliveries.
//!
//! One pooled HTTP/1.1 client (hyper-util's legacy `Client`) over a rustls
//! connector with the Mozilla roots compiled in (`webpki-roots`), so TLS
//! works the same in a scratch container as on a desktop and needs no
//! system certificate store. Keeping one client keeps connections to a
//! provider alive across sends.
//!
//! Every request has one deadline covering connect, TLS, sending and
//! reading the whole response, and the response body is capped
//! ([`DEFAULT_MAX_RESPONSE_BYTES`]), so a slow or chatty peer cannot hold
//! a sender or fill memory. Header values marked `sensitive` (filled-in
//! secrets) are never logged, and URLs are logged without their query
//! string or user info, where API keys tend to hide.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use silta_runtime::capabilities::transport::{
    HttpTransport, OutboundRequest, OutboundResponse, TransportError,
};
use silta_runtime::manifest::PluginId;
use tracing::Instrument;

/// The largest response body [`HttpClient::send`] reads unless told
/// otherwise (1 MiB): plenty for provider API answers, small enough that
/// many concurrent sends stay cheap.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle connections kept per host.
const POOL_MAX_IDLE_PER_HOST: usize = 32;

/// The pooled client, over TLS when the TLS configuration could be built.
#[derive(Clone)]
enum Inner {
    Tls(Client<HttpsConnector<HttpConnector>, Full<Bytes>>),
    /// TLS could not be set up: plain `http://` only.
    Plain(Client<HttpConnector, Full<Bytes>>),
}

/// A shared, pooled HTTP/1.1 client with a per-request deadline.
///
/// Cheap to share behind an `Arc`; all clones of the pool share
/// connections.
#[derive(Clone)]
pub struct HttpClient {
    inner: Inner,
    timeout: Duration,
    max_response_bytes: usize,
}

// === impl HttpClient ===

impl HttpClient {
    /// A client whose requests each get `timeout` from connect to the
    /// last byte of the response.
    ///
    /// Never fails: if the TLS configuration cannot be built (no usable
    /// crypto provider), the client logs an error and speaks plain HTTP
    /// only; `https://` requests then fail with
    /// [`TransportError::Unreachable`].
    #[must_use]
    pub fn new(timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);

        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST);

        // `with_webpki_roots` picks rustls' crypto provider from its crate
        // features and panics when it cannot (for instance when two
        // providers are compiled in and none was installed). Catch that
        // rather than take the process down: plain HTTP still works.
        let tls = std::panic::catch_unwind(|| HttpsConnectorBuilder::new().with_webpki_roots());
        let inner = match tls {
            Ok(tls) => {
                let connector = tls.https_or_http().enable_http1().wrap_connector(http);
                Inner::Tls(builder.build(connector))
            }
            Err(_) => {
                tracing::error!(
                    "could not set up TLS for outbound HTTP (no usable rustls crypto provider); \
                     only http:// URLs will work"
                );
                http.enforce_http(true);
                Inner::Plain(builder.build(http))
            }
        };
        Self {
            inner,
            timeout,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The same client (sharing its pool) with a different response body
    /// cap.
    #[must_use]
    pub fn with_max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// The per-request deadline.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send `request` and read the whole response.
    ///
    /// Any status is a response (a 500 is `Ok`); `Err` means no complete
    /// response arrived: bad URL or header, connection or TLS failure,
    /// deadline passed (`"timed out after …"`), or a body larger than the
    /// cap.
    pub async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, TransportError> {
        let span = tracing::debug_span!(
            "http_send",
            method = %request.method,
            url = %loggable_url(request.display_url()),
        );
        self.send_inner(request).instrument(span).await
    }

    async fn send_inner(
        &self,
        request: OutboundRequest,
    ) -> Result<OutboundResponse, TransportError> {
        let request = build_request(request)?;
        let exchange = async {
            let response = match &self.inner {
                Inner::Tls(client) => client.request(request).await,
                Inner::Plain(client) => client.request(request).await,
            }
            .map_err(|err| TransportError::Unreachable(error_chain(&err)))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect();
            let body = Limited::new(response.into_body(), self.max_response_bytes)
                .collect()
                .await
                .map_err(|err| {
                    if err.is::<http_body_util::LengthLimitError>() {
                        TransportError::Unreachable(format!(
                            "response body larger than {} bytes",
                            self.max_response_bytes
                        ))
                    } else {
                        TransportError::Unreachable(format!(
                            "reading the response body: {}",
                            error_chain(&*err)
                        ))
                    }
                })?
                .to_bytes()
                .to_vec();
            Ok(OutboundResponse {
                status,
                headers,
                body,
            })
        };
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Unreachable(format!(
                "timed out after {} ms",
                self.timeout.as_millis()
            ))),
        };
        match &result {
            Ok(response) => tracing::debug!(status = response.status, "http response"),
            Err(err) => tracing::debug!(error = %err, "http request failed"),
        }
        result
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field(
                "tls",
                &match self.inner {
                    Inner::Tls(_) => true,
                    Inner::Plain(_) => false,
                },
            )
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

#[async_trait::async_trait]
impl HttpTransport for HttpClient {
    async fn send(
        &self,
        plugin: &PluginId,
        request: OutboundRequest,
    ) -> Result<OutboundResponse, TransportError> {
        let span = tracing::debug_span!(
            "plugin_http_send",
            plugin = %plugin,
            method = %request.method,
            url = %loggable_url(request.display_url()),
        );
        self.send_inner(request).instrument(span).await
    }
}

// === helpers ===

/// The hyper request for `request`; logs header names, and values unless
/// they are sensitive.
fn build_request(request: OutboundRequest) -> Result<http::Request<Full<Bytes>>, TransportError> {
    let invalid = |what: String| TransportError::Unreachable(format!("invalid request: {what}"));
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| invalid(format!("method `{}`", request.method)))?;
    let uri: http::Uri = request.url.parse().map_err(|err| {
        invalid(format!(
            "URL `{}`: {err}",
            loggable_url(request.display_url())
        ))
    })?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => {}
        _ => {
            return Err(invalid(format!(
                "URL `{}` is not an absolute http:// or https:// URL",
                loggable_url(request.display_url())
            )));
        }
    }
    let mut builder = http::Request::builder().method(method).uri(uri);
    for header in &request.headers {
        let name = http::HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| invalid(format!("header name `{}`", header.name)))?;
        let mut value = http::HeaderValue::from_bytes(&header.value)
            // Never echo the value: it may be a secret.
            .map_err(|_| invalid(format!("value of header `{}`", header.name)))?;
        if header.sensitive {
            value.set_sensitive(true);
            tracing::trace!(header = %header.name, value = "<redacted>", "request header");
        } else {
            tracing::trace!(
                header = %header.name,
                value = %String::from_utf8_lossy(&header.value),
                "request header"
            );
        }
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::from(request.body)))
        .map_err(|err| invalid(err.to_string()))
}

/// `url` without user info, query or fragment, for logs.
pub(crate) fn loggable_url(url: &str) -> String {
    match url.parse::<http::Uri>() {
        Ok(uri) => {
            let scheme = uri.scheme_str().unwrap_or("");
            let host = uri.host().unwrap_or("");
            let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
            if scheme.is_empty() || host.is_empty() {
                "<not an absolute URL>".to_owned()
            } else {
                format!("{scheme}://{host}{port}{}", uri.path())
            }
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// An error and its sources, `outer: inner: innermost`: hyper's own
/// messages are terse (`client error (Connect)`) and the cause is below.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_logged_without_secrets() {
        assert_eq!(
            loggable_url("https://user:pw@api.example.com:8443/v1/send?key=s3cret#x"),
            "https://api.example.com:8443/v1/send"
        );
        assert_eq!(loggable_url("not a url"), "<unparsable URL>");
        assert_eq!(loggable_url("/relative"), "<not an absolute URL>");
    }

    #[test]
    fn bad_requests_are_refused_before_sending() {
        let request = |method: &str, url: &str| OutboundRequest {
            method: method.into(),
            url: url.into(),
            redacted_url: None,
            headers: Vec::new(),
            body: Vec::new(),
        };
        assert!(build_request(request("GET", "ftp://example.com/")).is_err());
        assert!(build_request(request("GET", "/relative")).is_err());
        assert!(build_request(request("BAD METHOD", "http://example.com/")).is_err());
        assert!(build_request(request("GET", "http://example.com/")).is_ok());
    }

    #[test]
    fn sensitive_headers_stay_sensitive_and_unechoed() {
        let ok = build_request(OutboundRequest {
            method: "POST".into(),
            url: "http://example.com/".into(),
            redacted_url: None,
            headers: vec![silta_runtime::capabilities::transport::OutboundHeader {
                name: "authorization".into(),
                value: b"Bearer s3cret".to_vec(),
                sensitive: true,
            }],
            body: Vec::new(),
        })
        .expect("valid request");
        assert!(ok.headers()["authorization"].is_sensitive());

        let err = build_request(OutboundRequest {
            method: "POST".into(),
            url: "http://example.com/".into(),
            redacted_url: None,
            headers: vec![silta_runtime::capabilities::transport::OutboundHeader {
                name: "authorization".into(),
                value: b"s3cret\n".to_vec(),
                sensitive: true,
            }],
            body: Vec::new(),
        })
        .expect_err("newline in a header value");
        assert!(!err.to_string().contains("s3cret"));
    }

    #[tokio::test]
    async fn connection_refused_and_timeouts_are_unreachable() {
        // A port nobody listens on: bind, note it, close it.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let client = HttpClient::new(Duration::from_secs(5));
        let err = client
            .send(OutboundRequest {
                method: "GET".into(),
                url: format!("http://127.0.0.1:{port}/"),
                redacted_url: None,
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await
            .expect_err("nobody listens");
        assert!(matches!(err, TransportError::Unreachable(_)), "{err}");

        // A listener that accepts and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let client = HttpClient::new(Duration::from_millis(200));
        let err = client
            .send(OutboundRequest {
                method: "GET".into(),
                url: format!("http://{addr}/"),
                redacted_url: None,
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await
            .expect_err("never answers");
        assert!(err.to_string().contains("timed out after 200 ms"), "{err}");
    }

    /// A one-shot server answering every connection with `response`.
    async fn canned(response: &'static [u8]) -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    // Read the request head; the tests send no body.
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = stream.write_all(response).await;
                });
            }
        });
        addr
    }

    fn get(addr: std::net::SocketAddr) -> OutboundRequest {
        OutboundRequest {
            method: "GET".into(),
            url: format!("http://{addr}/x?token=1"),
            redacted_url: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    #[tokio::test]
    async fn responses_are_read_whole_with_headers() {
        let addr = canned(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\nretry-after: 7\r\n\r\nlater",
        )
        .await;
        let client = HttpClient::new(Duration::from_secs(5));
        let response = client.send(get(addr)).await.expect("a response");
        assert_eq!(response.status, 503);
        assert_eq!(response.body, b"later");
        assert!(
            response
                .headers
                .iter()
                .any(|(name, value)| name == "retry-after" && value == b"7")
        );
    }

    #[tokio::test]
    async fn bodies_over_the_cap_are_refused() {
        let addr = canned(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n01234567890").await;
        let client = HttpClient::new(Duration::from_secs(5)).with_max_response_bytes(10);
        let err = client.send(get(addr)).await.expect_err("too large");
        assert!(err.to_string().contains("larger than 10 bytes"), "{err}");
        let client = client.with_max_response_bytes(11);
        assert_eq!(
            client.send(get(addr)).await.expect("fits").body,
            b"01234567890"
        );
    }

    #[test]
    fn tls_is_available() {
        let client = HttpClient::new(Duration::from_secs(1));
        assert!(format!("{client:?}").contains("tls: true"), "{client:?}");
    }
}
