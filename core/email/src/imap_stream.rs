//! The byte stream under an IMAP session: plain TCP or rustls over TCP,
//! with IMAPS, STARTTLS and plain connects.
//!
//! The `imap` crate takes any `Read + Write` stream (`Client::new`), so TLS
//! is ours: rustls with the ring provider, no OpenSSL. STARTTLS is spoken
//! here by hand, because the crate only offers it through its own TLS
//! backends.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use crate::error::{EmailError, Result};
use crate::security::Security;

/// How long connecting (per address) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one read or write of an ordinary command may block. IDLE sets
/// its own, longer timeout while it waits.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The tag of our hand-written STARTTLS command.
const STARTTLS_TAG: &str = "S0";

/// An IMAP connection's byte stream.
#[derive(Debug)]
pub(crate) enum ImapStream {
    /// Plain TCP.
    Plain(TcpStream),
    /// rustls over TCP.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

// === impl ImapStream ===

impl ImapStream {
    /// Connects to `host:port` secured as `security` asks. For STARTTLS the
    /// greeting is consumed here; the caller must not read it again.
    ///
    /// Also returns a clone of the socket, so another thread can shut the
    /// connection down to interrupt a blocking read.
    pub(crate) fn connect(
        host: &str,
        port: u16,
        security: Security,
        tls: &Arc<ClientConfig>,
    ) -> Result<(Self, TcpStream, bool)> {
        let io_err = |context: &'static str| {
            let host = host.to_owned();
            move |source| EmailError::Io {
                context,
                host,
                port,
                source,
            }
        };
        let tcp = connect_tcp(host, port).map_err(io_err("connect to"))?;
        tcp.set_nodelay(true).map_err(io_err("configure"))?;
        tcp.set_read_timeout(Some(COMMAND_TIMEOUT))
            .map_err(io_err("configure"))?;
        tcp.set_write_timeout(Some(COMMAND_TIMEOUT))
            .map_err(io_err("configure"))?;
        let handle = tcp.try_clone().map_err(io_err("configure"))?;
        let (stream, greeting_read) = match security {
            Security::Plain => (Self::Plain(tcp), false),
            Security::Tls => (Self::tls(host, port, tcp, tls)?, false),
            Security::StartTls => {
                let mut tcp = tcp;
                starttls(host, port, &mut tcp)?;
                (Self::tls(host, port, tcp, tls)?, true)
            }
        };
        Ok((stream, handle, greeting_read))
    }

    /// Wraps `tcp` in TLS and completes the handshake, so certificate
    /// problems show up as such rather than as a failed first command.
    fn tls(host: &str, port: u16, mut tcp: TcpStream, config: &Arc<ClientConfig>) -> Result<Self> {
        let name =
            ServerName::try_from(host.to_owned()).map_err(|_| EmailError::InvalidServerName {
                host: host.to_owned(),
            })?;
        let mut conn = ClientConnection::new(Arc::clone(config), name)
            .map_err(|source| EmailError::TlsConfig { source })?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)
                .map_err(|source| EmailError::Io {
                    context: "TLS handshake with",
                    host: host.to_owned(),
                    port,
                    source,
                })?;
        }
        Ok(Self::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(tls) => tls.get_ref(),
        }
    }
}

impl Read for ImapStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf),
            Self::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for ImapStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write(buf),
            Self::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.flush(),
            Self::Tls(tls) => tls.flush(),
        }
    }
}

impl imap::extensions::idle::SetReadTimeout for ImapStream {
    /// `None` (what the `imap` crate sets after IDLE) restores the command
    /// timeout rather than blocking forever.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> imap::error::Result<()> {
        self.tcp()
            .set_read_timeout(Some(timeout.unwrap_or(COMMAND_TIMEOUT)))
            .map_err(imap::Error::Io)
    }
}

/// Shuts `socket` down both ways; any thread blocked reading it wakes up
/// with an error.
pub(crate) fn interrupt(socket: &TcpStream) {
    let _ = socket.shutdown(Shutdown::Both);
}

fn connect_tcp(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// Reads the greeting, sends STARTTLS and waits for its tagged OK, on the
/// bare socket (byte by byte, so nothing of the TLS handshake is consumed).
fn starttls(host: &str, port: u16, tcp: &mut TcpStream) -> Result<()> {
    let io_err = |source| EmailError::Io {
        context: "STARTTLS with",
        host: host.to_owned(),
        port,
        source,
    };
    let refused = |reply: String| EmailError::StartTlsRefused {
        host: host.to_owned(),
        port,
        reply,
    };
    let greeting = read_line(tcp).map_err(io_err)?;
    if !greeting.starts_with("* OK") {
        return Err(refused(greeting));
    }
    tcp.write_all(format!("{STARTTLS_TAG} STARTTLS\r\n").as_bytes())
        .map_err(io_err)?;
    loop {
        let line = read_line(tcp).map_err(io_err)?;
        if let Some(status) = line.strip_prefix(&format!("{STARTTLS_TAG} ")) {
            return if status.to_ascii_uppercase().starts_with("OK") {
                Ok(())
            } else {
                Err(refused(line))
            };
        }
    }
}

/// One CRLF-terminated line, without the line end (at most 8 KiB).
fn read_line(tcp: &mut TcpStream) -> io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if tcp.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
        if line.len() > 8192 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}
