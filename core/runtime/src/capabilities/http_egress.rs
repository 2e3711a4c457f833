//! Outbound HTTP through `wasi:http`, checked on every request.
//!
//! The host never follows redirects for a plugin: a `3xx` goes back to the
//! plugin, and the request it makes to the new location comes through here
//! again, so every hop is checked against the allow-list. A denied request
//! is logged with the plugin id and returned to the plugin as
//! `HTTP-request-denied`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderValue;
use http_body_util::BodyExt;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

use crate::capabilities::transport::{
    HttpTransport, OutboundHeader, OutboundRequest, TransportError,
};
use crate::state::PluginShared;

/// The `wasi:http` hooks for one store.
pub struct EgressHooks {
    shared: Arc<PluginShared>,
}

/// Counts of outbound decisions for one loaded plugin.
#[derive(Debug, Default)]
pub struct EgressCounters {
    /// Requests let through.
    pub allowed: AtomicU64,
    /// Requests refused.
    pub denied: AtomicU64,
}

impl EgressHooks {
    pub(crate) fn new(shared: Arc<PluginShared>) -> Self {
        Self { shared }
    }
}

/// Scheme, host and port of a request URI (port defaulted by scheme).
pub fn origin_of(uri: &http::Uri) -> Option<(String, String, u16)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_string();
    let port = uri.port_u16().or(match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some((scheme, host, port))
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let shared = &self.shared;
        let uri = request.uri().clone();
        let allowed =
            origin_of(&uri).is_some_and(|(s, h, p)| shared.policy.allows_origin(&s, &h, p));
        if !allowed {
            shared.egress.denied.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                plugin = %shared.id,
                method = %request.method(),
                url = %uri,
                "outbound HTTP request denied: origin not in the plugin's allowed hosts"
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        shared.egress.allowed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(plugin = %shared.id, method = %request.method(), url = %uri, "outbound HTTP request");
        for value in request.headers_mut().values_mut() {
            if let Some(filled) = shared.placeholders.fill(value.as_bytes(), &shared.policy)
                && let Ok(v) = HeaderValue::from_bytes(&filled)
            {
                let mut v = v;
                v.set_sensitive(true);
                *value = v;
            }
        }
        let mut redacted_url = None;
        if let Some(url) = shared
            .placeholders
            .fill_url(&uri.to_string(), &shared.policy)
        {
            match url.filled.parse::<http::Uri>() {
                Ok(filled) => {
                    *request.uri_mut() = filled;
                    redacted_url = Some(url.redacted);
                }
                Err(_) => {
                    tracing::warn!(plugin = %shared.id, url = %url.redacted, "outbound HTTP request denied: the URL with its secrets filled in is not a valid URI");
                    return Box::new(async {
                        Err(wasmtime_wasi_http::Error::HttpRequestUriInvalid)
                    });
                }
            }
        }
        if let Some(transport) = shared.transport.clone() {
            let plugin = shared.id.clone();
            return Box::new(
                async move { send_via(transport, plugin, request, redacted_url).await },
            );
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

async fn send_via(
    transport: Arc<dyn HttpTransport>,
    plugin: crate::manifest::PluginId,
    request: http::Request<WasiBody>,
    redacted_url: Option<String>,
) -> SendResult {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    let outbound = OutboundRequest {
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        redacted_url,
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| OutboundHeader {
                name: name.as_str().to_string(),
                value: value.as_bytes().to_vec(),
                sensitive: value.is_sensitive(),
            })
            .collect(),
        body,
    };
    let answer = transport.send(&plugin, outbound).await.map_err(|e| {
        tracing::warn!(plugin = %plugin, error = %e, "outbound HTTP transport failed");
        match e {
            TransportError::Unreachable(_) => wasmtime_wasi_http::Error::ConnectionRefused,
            TransportError::NotRecorded { .. } => {
                wasmtime_wasi_http::Error::InternalError(Some(e.to_string()))
            }
        }
    })?;
    let mut builder = http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let body = http_body_util::Full::new(bytes::Bytes::from(answer.body))
        .map_err(|never| match never {})
        .boxed_unsync();
    let response = builder
        .body(body)
        .map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))?;
    Ok((response, Box::new(async { Ok(()) })))
}
