//! The single writer: group commit for every unit of work.
//!
//! SQLite allows one writer at a time, so instead of many connections
//! queueing on the file lock (with its sleeping busy handler), one thread
//! owns the write connection. It takes every unit of work queued while the
//! previous commit was running, runs each inside its own savepoint (a
//! failing unit rolls back alone), and commits them together: one fsync
//! for the whole group. Callers are answered only after that commit.
//!
//! The writer calls SQLite synchronously (rusqlite, with cached prepared
//! statements) on a dedicated thread. An async driver hands every
//! statement to a worker thread and back, and with a dozen statements per
//! message those hand-offs, not SQLite, were what limited ingest.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::FutureExt;
use rusqlite::Connection;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{Result, StoreError};
use crate::sqlite::tx::SqliteTx;
use crate::store::TxFn;

/// Most units of work committed together.
const MAX_GROUP: usize = 1024;

/// One queued unit of work.
pub(crate) struct WriteRequest {
    pub(crate) work: TxFn,
    pub(crate) done: oneshot::Sender<Result<()>>,
}

/// What the writer thread receives.
pub(crate) enum WriterMessage {
    /// A unit of work to commit.
    Unit(WriteRequest),
    /// Nothing was committed for a while (the checkpointer says so): hand
    /// the page cache back ([`release_cache`]).
    Idle,
}

/// Free the memory a connection's page cache holds (`PRAGMA
/// shrink_memory`). After a burst a cache holds megabytes that an idle
/// sidecar does not need; it refills from the operating system's page
/// cache on the next burst.
pub(crate) fn release_cache(conn: &Connection, which: &str) {
    match conn.execute_batch("PRAGMA shrink_memory") {
        Ok(()) => tracing::trace!(which, "page cache released"),
        Err(error) => {
            tracing::debug!(%error, which, "could not release the connection's page cache");
        }
    }
}

/// Counts of what the writer committed.
#[derive(Debug, Default)]
pub(crate) struct WriterStats {
    /// Commits (each one fsync with `synchronous = FULL`).
    pub(crate) groups: AtomicU64,
    /// Units of work committed or rolled back.
    pub(crate) units: AtomicU64,
    /// Times the writer handed its page cache back while idle.
    pub(crate) idle_releases: AtomicU64,
}

/// Where the writer thread publishes what it did.
pub(crate) struct WriterOutputs {
    pub(crate) events: watch::Sender<i64>,
    pub(crate) stats: Arc<WriterStats>,
}

/// Start the writer thread; it runs until every sender is dropped.
///
/// Units of work are futures (the [`crate::StoreTx`] interface is async so
/// that other backends can await their driver); on this thread they are
/// driven by `runtime`'s handle and complete without waiting, because every
/// SQLite call here is synchronous.
pub(crate) fn spawn_writer(
    conn: Connection,
    requests: mpsc::Receiver<WriterMessage>,
    outputs: WriterOutputs,
    runtime: Handle,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("silta-store-writer".into())
        .spawn(move || run_writer(conn, requests, &outputs, &runtime))
}

fn run_writer(
    mut conn: Connection,
    mut requests: mpsc::Receiver<WriterMessage>,
    outputs: &WriterOutputs,
    runtime: &Handle,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = requests.blocking_recv() {
        match first {
            WriterMessage::Unit(request) => group.push(request),
            WriterMessage::Idle => {
                release_cache(&conn, "writer");
                outputs.stats.idle_releases.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        }
        while group.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(WriterMessage::Unit(request)) => group.push(request),
                // Work is queued, so the writer is not idle after all.
                Ok(WriterMessage::Idle) => {}
                Err(_) => break,
            }
        }
        let size = group.len();
        let (outcomes, last_event) = commit_group(&mut conn, runtime, group.drain(..));
        outputs.stats.groups.fetch_add(1, Ordering::Relaxed);
        outputs
            .stats
            .units
            .fetch_add(size as u64, Ordering::Relaxed);
        tracing::trace!(size, "group committed");
        if let Some(seq) = last_event {
            outputs.events.send_if_modified(|current| {
                let newer = seq > *current;
                if newer {
                    *current = seq;
                }
                newer
            });
        }
        for (done, outcome) in outcomes {
            // The caller may have gone away; its work is committed anyway.
            let _ = done.send(outcome);
        }
    }
    tracing::debug!("store writer stopped");
}

type Outcome = (oneshot::Sender<Result<()>>, Result<()>);

/// Runs one group in one transaction; returns each unit's outcome and the
/// last event seq the group published.
fn commit_group(
    conn: &mut Connection,
    runtime: &Handle,
    group: impl Iterator<Item = WriteRequest>,
) -> (Vec<Outcome>, Option<i64>) {
    let requests: Vec<WriteRequest> = group.collect();
    if let Err(err) = exec(conn, "BEGIN IMMEDIATE") {
        return (fail_all(requests, &err), None);
    }
    // A single unit needs no savepoint: its failure rolls back the whole
    // (one-unit) transaction.
    let single = requests.len() == 1;
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut last_event = None;
    for request in requests {
        if !single && let Err(err) = exec(conn, "SAVEPOINT unit") {
            outcomes.push((request.done, Err(err)));
            continue;
        }
        let (result, tx_last_event) = run_unit(conn, runtime, request.work);
        let closed = match (&result, single) {
            (_, true) => Ok(()),
            (Ok(()), false) => exec(conn, "RELEASE unit"),
            (Err(_), false) => {
                exec(conn, "ROLLBACK TO unit").and_then(|()| exec(conn, "RELEASE unit"))
            }
        };
        if let Err(err) = closed {
            // The transaction is in an unknown state: give up on the group.
            let _ = exec(conn, "ROLLBACK");
            outcomes.push((request.done, Err(err)));
            return (
                abort_all(
                    outcomes,
                    "the group's transaction failed; nothing was written",
                ),
                None,
            );
        }
        if single && result.is_err() {
            let rolled_back = exec(conn, "ROLLBACK");
            outcomes.push((request.done, result));
            if let Err(err) = rolled_back {
                tracing::error!(error = %err, "rolling back a failed unit of work");
            }
            return (outcomes, None);
        }
        if result.is_ok() && tx_last_event.is_some() {
            last_event = tx_last_event;
        }
        outcomes.push((request.done, result));
    }
    if let Err(err) = exec(conn, "COMMIT") {
        let _ = exec(conn, "ROLLBACK");
        return (abort_all(outcomes, &format!("commit failed: {err}")), None);
    }
    (outcomes, last_event)
}

/// Run one unit of work; a panic in it is its failure.
fn run_unit(conn: &mut Connection, runtime: &Handle, work: TxFn) -> (Result<()>, Option<i64>) {
    let mut tx = SqliteTx::new(conn);
    let result = runtime
        .block_on(AssertUnwindSafe(work(&mut tx)).catch_unwind())
        .unwrap_or_else(|_| Err(StoreError::Aborted("a unit of work panicked".into())));
    (result, tx.last_event())
}

fn abort_all(outcomes: Vec<Outcome>, message: &str) -> Vec<Outcome> {
    outcomes
        .into_iter()
        .map(|(done, _)| (done, Err(StoreError::Aborted(message.to_owned()))))
        .collect()
}

fn fail_all(requests: Vec<WriteRequest>, err: &StoreError) -> Vec<Outcome> {
    let message = err.to_string();
    requests
        .into_iter()
        .map(|r| (r.done, Err(StoreError::Aborted(message.clone()))))
        .collect()
}

fn exec(conn: &Connection, sql: &'static str) -> Result<()> {
    conn.execute_batch(sql).map_err(StoreError::db(sql))
}
