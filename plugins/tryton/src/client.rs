//! The host side of [`Rpc`]: JSON-RPC over `wasi:http`, authenticated with
//! HTTP Basic from the secret `credentials`.
//!
//! The plugin never sees the credentials: it puts the secret's placeholder
//! into the `Authorization` header and the host fills it in as the request
//! leaves, towards an allowed origin only.

use std::time::Duration;

use serde_json::Value;
use silta_sdk::http::Request;
use silta_sdk::secrets::Secret;
use silta_sdk::types::PluginError;

use crate::rpc::{self, Rpc};
use crate::settings::Settings;

/// The secret: base64 of `user:password`, what follows `Basic `.
pub const CREDENTIALS: &str = "credentials";

/// Connecting, the first byte and each pause; a Basic request costs Tryton a
/// password hash (about 0.3 s), so this leaves room for a busy server.
const TIMEOUT: Duration = Duration::from_secs(4);

/// Tryton's JSON-RPC endpoint with the operator's credentials.
pub struct HttpRpc<'a> {
    settings: &'a Settings,
    authorization: String,
    next_id: u64,
}

// === impl HttpRpc ===

impl<'a> HttpRpc<'a> {
    /// Opens the secret; fails as `permanent` when it is not granted or
    /// not configured.
    pub fn open(settings: &'a Settings) -> Result<Self, PluginError> {
        let credentials = Secret::open(CREDENTIALS)?;
        Ok(Self {
            settings,
            authorization: format!("Basic {}", credentials.header_placeholder()),
            next_id: 1,
        })
    }
}

impl Rpc for HttpRpc<'_> {
    fn call(&mut self, method: &str, params: Value) -> Result<Value, PluginError> {
        // Ids count from 1 per lookup, so the same lookup sends the same bytes.
        let body = rpc::request(self.next_id, method, params);
        self.next_id += 1;
        let response = Request::post(self.settings.rpc_url())
            .header("authorization", self.authorization.as_str())
            .json(&body)
            .timeout(TIMEOUT)
            .send()?;
        let retry_after = response
            .header("retry-after")
            .and_then(|seconds| seconds.trim().parse().ok())
            .map(Duration::from_secs);
        rpc::interpret(
            self.settings,
            method,
            response.status,
            retry_after,
            &response.body,
        )
    }
}
