//! Shared test pieces: an in-memory sink, account builders and a small
//! blocking IMAP client to put mail in and look at the server's state.

use std::collections::{BTreeSet, HashMap};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use silta_email::{
    AfterIngest, Checkpoint, FetchedMessage, ImapAccount, MailSink, Security, SinkError,
    SmtpAccount, spawn_imap,
};
use silta_test_peers::MailServers;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(15);

/// The test double of the journal: delivered messages and checkpoints in
/// memory; can be told to refuse deliveries.
#[derive(Default)]
pub struct MemorySink {
    delivered: Mutex<Vec<FetchedMessage>>,
    checkpoints: Mutex<HashMap<(String, String), Checkpoint>>,
    /// While set, every delivery fails.
    pub refuse: AtomicBool,
    /// Deliveries refused so far.
    pub refusals: AtomicUsize,
}

#[async_trait]
impl MailSink for MemorySink {
    async fn deliver(&self, message: FetchedMessage) -> Result<(), SinkError> {
        if self.refuse.load(Ordering::SeqCst) {
            self.refusals.fetch_add(1, Ordering::SeqCst);
            return Err(SinkError::new("journal unavailable (test)"));
        }
        let key = (message.account.clone(), message.mailbox.clone());
        let checkpoint = Checkpoint {
            uid_validity: message.uid_validity,
            last_uid: message.uid,
        };
        // One "durable write": both under the same locks.
        let mut delivered = self.delivered.lock().expect("lock");
        let mut checkpoints = self.checkpoints.lock().expect("lock");
        delivered.push(message);
        checkpoints.insert(key, checkpoint);
        Ok(())
    }

    async fn checkpoint(
        &self,
        account: &str,
        mailbox: &str,
    ) -> Result<Option<Checkpoint>, SinkError> {
        let checkpoints = self.checkpoints.lock().expect("lock");
        Ok(checkpoints
            .get(&(account.to_owned(), mailbox.to_owned()))
            .copied())
    }
}

impl MemorySink {
    /// Record a checkpoint as if messages up to `last_uid` had been
    /// accepted earlier (by a process that died before acknowledging).
    pub fn set_checkpoint(&self, account: &str, mailbox: &str, checkpoint: Checkpoint) {
        self.checkpoints
            .lock()
            .expect("lock")
            .insert((account.to_owned(), mailbox.to_owned()), checkpoint);
    }

    /// Everything delivered so far, in delivery order.
    pub fn delivered(&self) -> Vec<FetchedMessage> {
        self.delivered.lock().expect("lock").clone()
    }

    /// Waits until at least `count` messages were delivered; returns them.
    pub async fn wait_for(&self, count: usize) -> Result<Vec<FetchedMessage>> {
        let start = Instant::now();
        loop {
            let delivered = self.delivered();
            if delivered.len() >= count {
                return Ok(delivered);
            }
            if start.elapsed() > WAIT {
                bail!(
                    "only {} of {count} messages delivered within {WAIT:?}",
                    delivered.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The UIDs of `messages`, in delivery order.
pub fn uids(messages: &[FetchedMessage]) -> Vec<u32> {
    messages.iter().map(|m| m.uid).collect()
}

/// Asserts no (uid_validity, uid) was delivered twice.
pub fn assert_no_duplicates(messages: &[FetchedMessage]) {
    let distinct: BTreeSet<(u32, u32)> = messages.iter().map(|m| (m.uid_validity, m.uid)).collect();
    assert_eq!(
        distinct.len(),
        messages.len(),
        "duplicate deliveries: {:?}",
        uids(messages)
    );
}

pub fn ca_pem(mail: &MailServers) -> Vec<u8> {
    std::fs::read(mail.ca_cert_pem()).expect("CA certificate")
}

/// `user`'s INBOX over IMAPS, IDLE on, marking seen, batches of 7.
pub fn imap_account(mail: &MailServers, user: &str) -> ImapAccount {
    ImapAccount {
        name: format!("{user}-mail"),
        host: "localhost".to_owned(),
        port: mail.imaps_port(),
        security: Security::Tls,
        username: user.to_owned(),
        password: mail.password().to_owned(),
        mailboxes: vec!["INBOX".to_owned()],
        after_ingest: AfterIngest::MarkSeen,
        batch_size: 7,
        idle: true,
        poll_interval: Duration::from_millis(300),
        extra_root_pem: Some(ca_pem(mail)),
    }
}

/// Submission (STARTTLS + AUTH) as `user`.
pub fn submission_account(mail: &MailServers, user: &str) -> SmtpAccount {
    SmtpAccount {
        host: "localhost".to_owned(),
        port: mail.submission_port(),
        security: Security::StartTls,
        username: Some(user.to_owned()),
        password: Some(mail.password().to_owned()),
        hello_name: Some("silta.test".to_owned()),
        pool_size: 2,
        timeout: Duration::from_secs(5),
        extra_root_pem: Some(ca_pem(mail)),
    }
}

/// A running IMAP source and its shutdown switch.
pub struct Source {
    shutdown: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Source {
    pub fn spawn(account: ImapAccount, sink: Arc<MemorySink>) -> Self {
        let (shutdown, rx) = watch::channel(false);
        let handles = spawn_imap(account, sink, rx);
        assert!(!handles.is_empty(), "no IMAP worker started");
        Self { shutdown, handles }
    }

    /// Signals shutdown and waits for every worker; returns how long it took.
    pub async fn stop(self) -> Duration {
        let start = Instant::now();
        self.shutdown.send_replace(true);
        for handle in self.handles {
            tokio::time::timeout(Duration::from_secs(5), handle)
                .await
                .expect("IMAP worker did not stop within 5 s")
                .expect("IMAP worker task");
        }
        start.elapsed()
    }
}

/// A test message with a unique subject; CRLF line ends as on the wire.
pub fn message(subject: &str) -> Vec<u8> {
    format!(
        "From: Customer <customer@customer.test>\r\n\
         To: Support <alice@customer.test>\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{}@customer.test>\r\n\
         Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\
         \r\n\
         Hello, this is {subject}.\r\n",
        subject.replace(' ', "-")
    )
    .into_bytes()
}

/// A blocking IMAP session on the plain IMAP port, for test setup and checks.
pub struct ImapProbe {
    session: imap::Session<TcpStream>,
}

impl ImapProbe {
    pub fn login(mail: &MailServers, user: &str) -> Result<Self> {
        let tcp = TcpStream::connect(("127.0.0.1", mail.imap_port()))?;
        let mut client = imap::Client::new(tcp);
        client.read_greeting()?;
        let session = client
            .login(user, mail.password())
            .map_err(|(e, _)| e)
            .context("probe LOGIN")?;
        Ok(Self { session })
    }

    pub fn append(&mut self, mailbox: &str, raw: &[u8]) -> Result<()> {
        self.session.append(mailbox, raw).finish()?;
        Ok(())
    }

    pub fn create(&mut self, mailbox: &str) -> Result<()> {
        self.session.create(mailbox)?;
        Ok(())
    }

    pub fn delete(&mut self, mailbox: &str) -> Result<()> {
        self.session.delete(mailbox)?;
        Ok(())
    }

    /// UIDVALIDITY and (uid, seen) of every message in `mailbox`
    /// (read-only, so nothing changes).
    pub fn state(&mut self, mailbox: &str) -> Result<(u32, Vec<(u32, bool)>)> {
        let examined = self.session.examine(mailbox)?;
        let validity = examined.uid_validity.context("no UIDVALIDITY")?;
        if examined.exists == 0 {
            return Ok((validity, Vec::new()));
        }
        let fetches = self.session.fetch("1:*", "(UID FLAGS)")?;
        let mut messages: Vec<(u32, bool)> = fetches
            .iter()
            .map(|f| {
                let seen = f.flags().contains(&imap::types::Flag::Seen);
                (f.uid.unwrap_or(0), seen)
            })
            .collect();
        messages.sort_unstable();
        Ok((validity, messages))
    }

    /// Waits until every message in `mailbox` is `\Seen` and there are
    /// `count` of them.
    pub fn wait_all_seen(&mut self, mailbox: &str, count: usize) -> Result<()> {
        let start = Instant::now();
        loop {
            let (_, messages) = self.state(mailbox)?;
            if messages.len() == count && messages.iter().all(|(_, seen)| *seen) {
                return Ok(());
            }
            if start.elapsed() > WAIT {
                bail!("{mailbox}: not all {count} seen: {messages:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A loopback TCP proxy to `127.0.0.1:upstream` that removes `MOVE` from
/// the server's CAPABILITY lines, to exercise the COPY + EXPUNGE fallback
/// against a server that does offer MOVE. Returns the proxy's port; it
/// serves until the test process ends.
pub fn imap_proxy_without_move(upstream: u16) -> Result<u16> {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (Ok(mut client_w), Ok(mut server_r)) = (client.try_clone(), server.try_clone())
            else {
                continue;
            };
            let mut client_r = client;
            let mut server_w = server;
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_r, &mut server_w);
                let _ = server_w.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&mut server_r);
                let mut line = Vec::new();
                while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                    let text = String::from_utf8_lossy(&line);
                    if text.starts_with("* CAPABILITY") || text.contains("[CAPABILITY") {
                        line = text.replace(" MOVE", "").into_bytes();
                    }
                    if client_w.write_all(&line).is_err() {
                        break;
                    }
                    line.clear();
                }
                let _ = client_w.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    Ok(port)
}
