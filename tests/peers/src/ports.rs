//! Free loopback ports and waiting for them to open or close.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Every listener of one instance, all on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ports {
    pub imap: u16,
    pub imaps: u16,
    pub smtp: u16,
    pub submission: u16,
    pub smtps: u16,
}

impl Ports {
    /// Asks the kernel for five distinct free ports (bind 127.0.0.1:0, all held at
    /// once, then released). Another process may take one before the server binds
    /// it; the caller retries the whole start on that.
    pub(crate) fn allocate() -> Result<Ports> {
        let listeners = (0..5)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
            .collect::<std::io::Result<Vec<_>>>()
            .context("binding 127.0.0.1:0 to find free ports")?;
        let port = |i: usize| -> Result<u16> { Ok(listeners[i].local_addr()?.port()) };
        Ok(Ports {
            imap: port(0)?,
            imaps: port(1)?,
            smtp: port(2)?,
            submission: port(3)?,
            smtps: port(4)?,
        })
    }
}

/// A port nobody listens on right now (bind 127.0.0.1:0, then release it), for
/// a server of one port. Another process may take it before the server binds
/// it; the caller retries the start on that.
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("binding 127.0.0.1:0 to find a free port")?;
    Ok(listener.local_addr()?.port())
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
pub(crate) fn is_open(port: u16) -> bool {
    TcpStream::connect_timeout(&addr(port), Duration::from_millis(500)).is_ok()
}

/// Connects and reads the first line the server sends (its greeting).
pub(crate) fn read_greeting(port: u16) -> Result<String> {
    let stream = TcpStream::connect_timeout(&addr(port), Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}

/// Polls `check` every 50 ms until it returns `Ok(true)`, fails, or `timeout` passes.
pub(crate) fn poll(timeout: Duration, mut check: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if check()? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?}");
        }
        sleep(Duration::from_millis(50));
    }
}

/// Waits until every port refuses connections. Checked with a connect attempt, not
/// with `kill -0`: a dead server can linger as a zombie with its pid still valid.
pub(crate) fn wait_closed(ports: &[u16], timeout: Duration) -> Result<()> {
    poll(timeout, || Ok(ports.iter().all(|&p| !is_open(p))))
        .with_context(|| format!("ports {ports:?} still accept connections"))
}
