//! IMAP in: one blocking worker per mailbox that fetches new mail, hands
//! each message to a [`MailSink`] and acknowledges it on the server only
//! after the sink has made it durable.
//!
//! Per mailbox the worker loops: connect and log in, `SELECT`, compare
//! UIDVALIDITY with the sink's checkpoint (a change means the old UIDs are
//! meaningless: start over from UID 1 and let the pipeline's Message-ID
//! dedup drop what it already has), `UID SEARCH UID last+1:*`, fetch in
//! batches, deliver in UID order, then mark `\Seen` or move; then IDLE (or
//! sleep for the poll interval) and go again. Any connection error is
//! logged and followed by a reconnect with exponential backoff and jitter.
//!
//! The `imap` crate is blocking, so each worker runs on tokio's blocking
//! pool and reaches the async sink through [`Handle::block_on`]. An async
//! supervisor task per worker watches the shutdown signal and interrupts the
//! worker (see [`Stop`]), so shutdown takes moments even during IDLE.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rustls::ClientConfig;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{EmailError, Result, SinkError};
use crate::imap_session::{MailboxSession, RawMessage};
use crate::security::Security;
use crate::stop::Stop;
use crate::tls;
use silta_backoff::{Backoff, Failures};

/// How long one IDLE lasts before it is ended and re-issued (RFC 2177 asks
/// clients to re-issue at least every 29 minutes).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);

/// Delays between reconnect attempts.
const RECONNECT: Backoff = Backoff {
    initial: Duration::from_millis(500),
    max: Duration::from_secs(30),
};

/// Delays before retrying a message the sink refused.
const SINK_RETRY: Backoff = Backoff {
    initial: Duration::from_secs(1),
    max: Duration::from_secs(30),
};

/// Pause before restarting a worker that panicked.
const PANIC_RESTART_DELAY: Duration = Duration::from_secs(5);

/// What to do with a message on the server once the sink has accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterIngest {
    /// Set `\Seen` and leave it in the mailbox.
    MarkSeen,
    /// Move it to this folder (`UID MOVE`, or COPY + `\Deleted` + EXPUNGE
    /// when the server lacks MOVE). The folder must exist.
    MoveTo(String),
}

/// One IMAP account Silta reads mail from: a channel account's inbound side.
#[derive(Clone)]
pub struct ImapAccount {
    /// The channel account the mail belongs to; passed through to
    /// [`FetchedMessage::account`] and used as the checkpoint key.
    pub name: String,
    /// Server host name or IP address (also the TLS server name).
    pub host: String,
    /// Server port (993 for IMAPS, 143 for IMAP + STARTTLS).
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    /// Login user name.
    pub username: String,
    /// Login password.
    pub password: String,
    /// The mailboxes to read, each by its own worker and connection.
    pub mailboxes: Vec<String>,
    /// What happens to a message after the sink accepted it.
    pub after_ingest: AfterIngest,
    /// Messages per `UID FETCH` (and per acknowledgement); 0 is taken as 1.
    pub batch_size: u32,
    /// Wait for new mail with IDLE when the server offers it; otherwise
    /// (or when not offered) poll.
    pub idle: bool,
    /// Time between polls when not idling.
    pub poll_interval: Duration,
    /// PEM certificates to trust in addition to the Mozilla roots, for a
    /// server with a private CA or a self-signed certificate.
    pub extra_root_pem: Option<Vec<u8>>,
}

impl fmt::Debug for ImapAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapAccount")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("mailboxes", &self.mailboxes)
            .field("after_ingest", &self.after_ingest)
            .field("batch_size", &self.batch_size)
            .field("idle", &self.idle)
            .field("poll_interval", &self.poll_interval)
            .field(
                "extra_root_pem",
                &self.extra_root_pem.as_ref().map(Vec::len),
            )
            .finish()
    }
}

/// How far a mailbox has been read: every UID up to `last_uid` under
/// `uid_validity` has been accepted by the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The mailbox's UIDVALIDITY when `last_uid` was recorded.
    pub uid_validity: u32,
    /// The highest UID accepted.
    pub last_uid: u32,
}

/// One message fetched from a mailbox, exactly as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMessage {
    /// The channel account ([`ImapAccount::name`]).
    pub account: String,
    /// The mailbox it was read from.
    pub mailbox: String,
    /// The mailbox's UIDVALIDITY.
    pub uid_validity: u32,
    /// The message's UID.
    pub uid: u32,
    /// Its flags when fetched (`\Seen` is never among those we set; it may
    /// be there if someone else read it first).
    pub flags: Vec<String>,
    /// The raw RFC 5322 bytes (`BODY[]`).
    pub raw: Vec<u8>,
}

/// Where fetched mail goes: in Silta, the pipeline's journal.
///
/// The worker acknowledges a message on the server (flag or move) only
/// after [`MailSink::deliver`] returned `Ok`, and reads the checkpoint back
/// from the sink, so the sink alone decides what counts as accepted.
#[async_trait]
pub trait MailSink: Send + Sync + 'static {
    /// Durably accept one message AND record the mailbox checkpoint
    /// `(message.uid_validity, message.uid)` for `(message.account,
    /// message.mailbox)` in the same durable write; return only once it is
    /// durable. An error leaves the message on the server to be retried.
    async fn deliver(&self, message: FetchedMessage) -> Result<(), SinkError>;

    /// The last checkpoint recorded for `(account, mailbox)`, if any.
    async fn checkpoint(
        &self,
        account: &str,
        mailbox: &str,
    ) -> Result<Option<Checkpoint>, SinkError>;
}

/// Starts one worker per mailbox of `account`, delivering into `sink` until
/// `shutdown` becomes `true` (or its sender is dropped).
///
/// Must be called from within a tokio runtime (the workers use its blocking
/// pool). Each handle completes once its worker has stopped; after shutdown
/// that takes moments, even mid-IDLE. The workers never give up: connection
/// failures are logged and retried with backoff. If the TLS configuration
/// cannot be built (an invalid `extra_root_pem`), the error is logged and no
/// worker is started.
pub fn spawn_imap(
    account: ImapAccount,
    sink: Arc<dyn MailSink>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let tls = match tls::client_config(account.extra_root_pem.as_deref()) {
        Ok(tls) => tls,
        Err(error) => {
            tracing::error!(account = %account.name, %error, "IMAP account not started");
            return Vec::new();
        }
    };
    let account = Arc::new(account);
    account
        .mailboxes
        .iter()
        .map(|mailbox| {
            let worker = Worker {
                account: Arc::clone(&account),
                mailbox: mailbox.clone(),
                sink: Arc::clone(&sink),
                tls: Arc::clone(&tls),
                runtime: Handle::current(),
                stop: Arc::new(Stop::default()),
            };
            tokio::spawn(supervise(worker, shutdown.clone()))
        })
        .collect()
}

/// Runs `worker` on the blocking pool until shutdown; restarts it if it
/// panicked.
async fn supervise(worker: Worker, mut shutdown: watch::Receiver<bool>) {
    let worker = Arc::new(worker);
    loop {
        let mut task = tokio::task::spawn_blocking({
            let worker = Arc::clone(&worker);
            move || worker.run()
        });
        let finished = tokio::select! {
            result = &mut task => Some(result),
            _ = shutdown.wait_for(|stop| *stop) => None,
        };
        match finished {
            Some(Ok(())) => return,
            Some(Err(error)) => {
                tracing::error!(
                    account = %worker.account.name, mailbox = %worker.mailbox, %error,
                    "IMAP worker panicked; restarting"
                );
                tokio::select! {
                    () = tokio::time::sleep(PANIC_RESTART_DELAY) => continue,
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
            None => {
                worker.stop.trigger();
                let _ = task.await;
                return;
            }
        }
    }
}

/// One mailbox's blocking loop.
struct Worker {
    account: Arc<ImapAccount>,
    mailbox: String,
    sink: Arc<dyn MailSink>,
    tls: Arc<ClientConfig>,
    runtime: Handle,
    stop: Arc<Stop>,
}

/// Why a sync pass ended early.
enum SyncError {
    /// The sink refused; stay connected and retry after a pause.
    Sink(SinkError),
    /// The connection failed; reconnect.
    Connection(EmailError),
}

impl From<EmailError> for SyncError {
    fn from(error: EmailError) -> Self {
        Self::Connection(error)
    }
}

// === impl Worker ===

impl Worker {
    /// Connect, serve, reconnect with backoff, until stopped.
    fn run(&self) {
        let mut reconnect = Failures::new(RECONNECT);
        while !self.stop.is_stopped() {
            let error =
                match MailboxSession::open(&self.account, &self.mailbox, &self.tls, &self.stop) {
                    Ok(mut session) => {
                        tracing::info!(
                            account = %self.account.name, mailbox = %self.mailbox,
                            uid_validity = session.uid_validity, idle = session.can_idle,
                            "IMAP mailbox selected"
                        );
                        match self.serve(&mut session, &mut reconnect) {
                            Ok(()) => {
                                session.logout();
                                break;
                            }
                            Err(error) => error,
                        }
                    }
                    Err(error) => error,
                };
            if self.stop.is_stopped() {
                break;
            }
            let delay = reconnect.next_delay();
            tracing::warn!(
                account = %self.account.name, mailbox = %self.mailbox, %error, ?delay,
                "IMAP connection failed; reconnecting"
            );
            if self.stop.sleep(delay) {
                break;
            }
        }
        tracing::debug!(account = %self.account.name, mailbox = %self.mailbox, "IMAP worker stopped");
    }

    /// Sync, wait, sync... on one connection. `Ok` means stopped.
    fn serve(&self, session: &mut MailboxSession, reconnect: &mut Failures) -> Result<()> {
        self.finish_acknowledgements(session)?;
        let mut sink_retry = Failures::new(SINK_RETRY);
        let use_idle = self.account.idle && session.can_idle;
        loop {
            if self.stop.is_stopped() {
                return Ok(());
            }
            match self.sync(session) {
                Ok(()) => {
                    sink_retry.reset();
                    reconnect.reset();
                }
                Err(SyncError::Connection(error)) => return Err(error),
                Err(SyncError::Sink(error)) => {
                    let delay = sink_retry.next_delay();
                    tracing::warn!(
                        account = %self.account.name, mailbox = %self.mailbox, %error, ?delay,
                        "mail sink failed; message stays on the server and is retried"
                    );
                    if self.stop.sleep(delay) {
                        return Ok(());
                    }
                    continue;
                }
            }
            if self.stop.is_stopped() {
                return Ok(());
            }
            if use_idle {
                if !session.announced_new_mail() {
                    session.idle(IDLE_RENEW)?;
                }
            } else {
                if self.stop.sleep(self.account.poll_interval) {
                    return Ok(());
                }
                // Lets the server report new messages before the search.
                session.noop()?;
            }
        }
    }

    /// Acknowledge what the sink accepted but the server never heard
    /// about: the connection (or Silta) died between the durable write
    /// and the flag or move. Only the last batch can be in that state,
    /// since the next batch is fetched after the acknowledgement, so with
    /// `\Seen` the last `batch_size` messages at or below the checkpoint
    /// are flagged again (harmless when they already are). With a move,
    /// everything at or below the checkpoint still in the mailbox was
    /// accepted and is moved.
    fn finish_acknowledgements(&self, session: &mut MailboxSession) -> Result<()> {
        let checkpoint = match self
            .runtime
            .block_on(self.sink.checkpoint(&self.account.name, &self.mailbox))
        {
            Ok(Some(cp)) if cp.uid_validity == session.uid_validity => cp,
            // No checkpoint, another UIDVALIDITY, or the sink cannot say:
            // nothing is known to be accepted, so nothing is acknowledged.
            Ok(_) | Err(_) => return Ok(()),
        };
        let mut uids = session.uids_up_to(checkpoint.last_uid)?;
        if matches!(self.account.after_ingest, AfterIngest::MarkSeen) {
            let batch = usize::try_from(self.account.batch_size.max(1)).unwrap_or(usize::MAX);
            uids = uids.split_off(uids.len().saturating_sub(batch));
        }
        if uids.is_empty() {
            return Ok(());
        }
        self.acknowledge(session, &uids)?;
        tracing::debug!(
            account = %self.account.name, mailbox = %self.mailbox,
            count = uids.len(), last_uid = checkpoint.last_uid,
            "acknowledged messages accepted before the last disconnect"
        );
        Ok(())
    }

    /// One pass: everything above the checkpoint, delivered and
    /// acknowledged batch by batch.
    fn sync(&self, session: &mut MailboxSession) -> Result<(), SyncError> {
        let checkpoint = self
            .runtime
            .block_on(self.sink.checkpoint(&self.account.name, &self.mailbox))
            .map_err(SyncError::Sink)?;
        let last_uid = match checkpoint {
            None => 0,
            Some(cp) if cp.uid_validity == session.uid_validity => cp.last_uid,
            Some(cp) => {
                tracing::warn!(
                    account = %self.account.name, mailbox = %self.mailbox,
                    old = cp.uid_validity, new = session.uid_validity,
                    "UIDVALIDITY changed; reading the mailbox again from UID 1"
                );
                0
            }
        };
        let uids = session.uids_after(last_uid)?;
        let batch = usize::try_from(self.account.batch_size.max(1)).unwrap_or(usize::MAX);
        for chunk in uids.chunks(batch) {
            if self.stop.is_stopped() {
                return Ok(());
            }
            let messages = session.fetch(chunk)?;
            let mut accepted = Vec::with_capacity(messages.len());
            let mut refused = None;
            for message in messages {
                let uid = message.uid;
                match self
                    .runtime
                    .block_on(self.sink.deliver(self.fetched(session, message)))
                {
                    Ok(()) => accepted.push(uid),
                    Err(error) => {
                        refused = Some(error);
                        break;
                    }
                }
            }
            if !accepted.is_empty() {
                self.acknowledge(session, &accepted)?;
                tracing::debug!(
                    account = %self.account.name, mailbox = %self.mailbox,
                    count = accepted.len(), "IMAP messages ingested"
                );
            }
            if let Some(error) = refused {
                return Err(SyncError::Sink(error));
            }
        }
        Ok(())
    }

    fn fetched(&self, session: &MailboxSession, message: RawMessage) -> FetchedMessage {
        FetchedMessage {
            account: self.account.name.clone(),
            mailbox: self.mailbox.clone(),
            uid_validity: session.uid_validity,
            uid: message.uid,
            flags: message.flags,
            raw: message.raw,
        }
    }

    /// Flags or moves messages the sink accepted.
    fn acknowledge(&self, session: &mut MailboxSession, uids: &[u32]) -> Result<()> {
        match &self.account.after_ingest {
            AfterIngest::MarkSeen => session.mark_seen(uids),
            AfterIngest::MoveTo(folder) => session.move_to(uids, folder),
        }
    }
}
