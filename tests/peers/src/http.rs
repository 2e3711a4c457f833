//! The one HTTP client of the Tryton and CRM helpers: [`ureq`], plain HTTP to
//! 127.0.0.1, a fresh connection per exchange.
//!
//! Every status is an answer, not an error: the helpers put the server's body
//! into their own errors. No proxy from the environment is ever used.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::Value;
use ureq::Agent;
use ureq::http::{Request, header};

/// How long a connect to a loopback port may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A request to `http://127.0.0.1:port`.
pub(crate) struct Call<'a> {
    pub port: u16,
    pub method: &'a str,
    /// From the root: `/silta/rpc/`, `/api/contacts/`.
    pub path: &'a str,
    /// The `Host` header, when not `127.0.0.1:port` (the CRM accepts only its
    /// instance's own name, Django's `ALLOWED_HOSTS`).
    pub host: Option<&'a str>,
    pub authorization: Option<&'a str>,
    /// Sent as `application/json`; none means no body.
    pub json: Option<&'a Value>,
    /// For the whole exchange, the answer's body included.
    pub timeout: Duration,
}

/// What the server answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

// === impl Call ===

impl Call<'_> {
    /// Sends the request and reads the whole answer.
    pub(crate) fn send(&self) -> Result<Answer> {
        let url = format!("http://127.0.0.1:{}{}", self.port, self.path);
        let mut request = Request::builder()
            .method(self.method)
            .uri(&url)
            .header(header::ACCEPT, "application/json");
        if let Some(host) = self.host {
            request = request.header(header::HOST, host);
        }
        if let Some(authorization) = self.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let agent = self.agent();
        let response = match self.json {
            Some(json) => agent.run(
                request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(serde_json::to_vec(json)?)?,
            ),
            None => agent.run(request.body(())?),
        };
        let what = || format!("{} {url}", self.method);
        let mut response = response.with_context(what)?;
        let body = response
            .body_mut()
            .read_to_string()
            .with_context(|| format!("reading the answer to {}", what()))?;
        Ok(Answer {
            status: response.status().as_u16(),
            body,
        })
    }

    /// A client of its own: nothing pooled between exchanges, so a server
    /// stopped and started again never sees a stale connection.
    fn agent(&self) -> Agent {
        Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(self.timeout))
            .build()
            .into()
    }
}
