//! One HTTP/1.1 exchange with the CRM's dev server, `Connection: close`.
//!
//! Django's dev server (wsgiref) never answers chunked, so the body is
//! whatever follows the head until the server closes.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A request to `127.0.0.1:port`.
pub(crate) struct Call<'a> {
    pub port: u16,
    /// The `Host` header: the instance's own name, which only its server
    /// accepts (Django's `ALLOWED_HOSTS`).
    pub host: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub authorization: Option<&'a str>,
    pub json_body: Option<&'a str>,
    pub timeout: Duration,
}

/// What the server answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

impl Call<'_> {
    pub(crate) fn send(&self) -> Result<Answer> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        let body = self.json_body.unwrap_or_default();
        let mut request = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n",
            self.method, self.path, self.host
        );
        if let Some(value) = self.authorization {
            let _ = write!(request, "Authorization: {value}\r\n");
        }
        if self.json_body.is_some() {
            let _ = write!(
                request,
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            );
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .with_context(|| format!("reading the answer to {} {}", self.method, self.path))?;
        let raw = String::from_utf8_lossy(&raw);
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .with_context(|| format!("not an HTTP answer: {raw:?}"))?;
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            bail!("chunked answers are not read here: {head:?}");
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("no status in {head:?}"))?;
        Ok(Answer {
            status,
            body: body.to_owned(),
        })
    }
}
