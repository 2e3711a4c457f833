//! Recorded HTTP exchanges, and the transport that replays or records them.
//!
//! The file is JSON, one exchange per entry, written so a person can read
//! and edit it:
//!
//! ```json
//! { "exchanges": [ {
//!     "request":  { "method": "POST", "url": "https://api.example.com/v1/messages",
//!                   "headers": { "content-type": "application/json" }, "body": "{\"text\":\"hi\"}" },
//!     "response": { "status": 200, "headers": { "content-type": "application/json" },
//!                   "body": "{\"id\":\"m-1\"}" } } ] }
//! ```
//!
//! Requests match on method and URL, and on the body when the recording has
//! one; exchanges are used in order, so the same request can be answered
//! differently the second time. Headers holding secrets are never written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use silta_runtime::capabilities::transport::{
    HttpTransport, OutboundRequest, OutboundResponse, TransportError,
};
use silta_runtime::manifest::PluginId;

use crate::error::{Error, Result};

/// A recordings file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recordings {
    /// The exchanges, in order.
    pub exchanges: Vec<Exchange>,
}

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// The request.
    pub request: RecordedRequest,
    /// The response.
    pub response: RecordedResponse,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// Non-secret headers (informational; not matched).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Body as text; when present, it must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Body as text.
    #[serde(default)]
    pub body: String,
}

impl Recordings {
    /// Read a recordings file; a missing file is an empty set.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::File {
                path: path.to_path_buf(),
                reason: format!("not a recordings file: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        }
    }

    /// Write the file (pretty JSON).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, text + "\n").map_err(|e| Error::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }
}

/// Whether the transport replays or records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answer from the recordings; unrecorded requests fail.
    Replay,
    /// Send to the live endpoint and record the exchange.
    Record,
}

/// A request the plugin made that had no recording.
#[derive(Debug, Clone)]
pub struct Unrecorded(pub OutboundRequest);

impl std::fmt::Display for Unrecorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.0;
        writeln!(f, "{} {}", r.method, r.display_url())?;
        for h in &r.headers {
            let value = if h.sensitive {
                "<secret>".into()
            } else {
                String::from_utf8_lossy(&h.value).into_owned()
            };
            writeln!(f, "{}: {value}", h.name)?;
        }
        if !r.body.is_empty() {
            writeln!(f)?;
            write!(f, "{}", String::from_utf8_lossy(&r.body))?;
        }
        Ok(())
    }
}

/// The replaying (or recording) transport.
pub struct RecordingTransport {
    mode: Mode,
    path: Option<PathBuf>,
    state: Mutex<State>,
}

struct State {
    recordings: Recordings,
    used: Vec<bool>,
    unrecorded: Vec<Unrecorded>,
}

impl RecordingTransport {
    /// Replay (or record, in [`Mode::Record`]) against `path`.
    pub fn new(mode: Mode, path: Option<PathBuf>) -> Result<Self> {
        let recordings = match (&path, mode) {
            (Some(p), Mode::Replay) => Recordings::load(p)?,
            _ => Recordings::default(),
        };
        let used = vec![false; recordings.exchanges.len()];
        Ok(Self {
            mode,
            path,
            state: Mutex::new(State {
                recordings,
                used,
                unrecorded: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests that had no recording, drained.
    pub fn take_unrecorded(&self) -> Vec<Unrecorded> {
        std::mem::take(&mut self.lock().unrecorded)
    }

    /// In record mode, write what was recorded.
    pub fn save(&self) -> Result<()> {
        if let (Mode::Record, Some(path)) = (self.mode, &self.path) {
            self.lock().recordings.save(path)?;
        }
        Ok(())
    }

    fn replay(&self, request: &OutboundRequest) -> Option<OutboundResponse> {
        let mut state = self.lock();
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let found = state
            .recordings
            .exchanges
            .iter()
            .enumerate()
            .position(|(i, ex)| {
                !state.used[i]
                    && ex.request.method.eq_ignore_ascii_case(&request.method)
                    && ex.request.url == request.display_url()
                    && ex.request.body.as_ref().is_none_or(|b| *b == body)
            })?;
        state.used[found] = true;
        let response = &state.recordings.exchanges[found].response;
        Some(OutboundResponse {
            status: response.status,
            headers: response
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
                .collect(),
            body: response.body.as_bytes().to_vec(),
        })
    }

    async fn record(&self, request: &OutboundRequest) -> Result<OutboundResponse, TransportError> {
        let response = send_live(request).await?;
        let exchange = Exchange {
            request: RecordedRequest {
                method: request.method.clone(),
                url: request.display_url().to_owned(),
                headers: request
                    .headers
                    .iter()
                    .filter(|h| !h.sensitive)
                    .map(|h| {
                        (
                            h.name.clone(),
                            String::from_utf8_lossy(&h.value).into_owned(),
                        )
                    })
                    .collect(),
                body: (!request.body.is_empty())
                    .then(|| String::from_utf8_lossy(&request.body).into_owned()),
            },
            response: RecordedResponse {
                status: response.status,
                headers: response
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
                    .collect(),
                body: String::from_utf8_lossy(&response.body).into_owned(),
            },
        };
        self.lock().recordings.exchanges.push(exchange);
        Ok(response)
    }
}

#[async_trait::async_trait]
impl HttpTransport for RecordingTransport {
    async fn send(
        &self,
        _plugin: &PluginId,
        request: OutboundRequest,
    ) -> Result<OutboundResponse, TransportError> {
        match self.mode {
            Mode::Record => self.record(&request).await,
            Mode::Replay => match self.replay(&request) {
                Some(response) => Ok(response),
                None => {
                    let err = TransportError::NotRecorded {
                        method: request.method.clone(),
                        url: request.display_url().to_owned(),
                    };
                    self.lock().unrecorded.push(Unrecorded(request));
                    Err(err)
                }
            },
        }
    }
}

async fn send_live(request: &OutboundRequest) -> Result<OutboundResponse, TransportError> {
    let unreachable = |e: String| TransportError::Unreachable(e);
    let mut builder = http::Request::builder()
        .method(request.method.as_str())
        .uri(request.url.as_str());
    for h in &request.headers {
        builder = builder.header(h.name.as_str(), h.value.as_slice());
    }
    let body = Full::new(Bytes::from(request.body.clone())).map_err(|never| match never {});
    let req = builder.body(body).map_err(|e| unreachable(e.to_string()))?;
    let (response, io) = wasmtime_wasi_http::default_send_request(req, None)
        .await
        .map_err(|e| unreachable(format!("{e:?}")))?;
    let io = tokio::spawn(io);
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| unreachable(format!("{e:?}")))?
        .to_bytes()
        .to_vec();
    io.abort();
    Ok(OutboundResponse {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
        body,
    })
}
