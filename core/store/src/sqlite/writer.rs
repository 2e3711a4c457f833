//! The single writer: group commit for every unit of work.
//!
//! SQLite allows one writer at a time, so instead of many connections
//! queueing on the file lock (with its sleeping busy handler), one task
//! owns the write connection. It takes every unit of work queued while the
//! previous commit was running, runs each inside its own savepoint (a
//! failing unit rolls back alone), and commits them together: one fsync
//! for the whole group. Callers are answered only after that commit.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::FutureExt;
use sqlx::SqliteConnection;
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

/// Runs until every sender is dropped.
pub(crate) async fn run_writer(
    mut conn: SqliteConnection,
    mut requests: mpsc::Receiver<WriteRequest>,
    events: watch::Sender<i64>,
    stats: Arc<WriterStats>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = requests.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        let size = group.len();
        let (outcomes, last_event) = commit_group(&mut conn, group.drain(..)).await;
        stats.groups.fetch_add(1, Ordering::Relaxed);
        stats.units.fetch_add(size as u64, Ordering::Relaxed);
        tracing::trace!(size, "group committed");
        if let Some(seq) = last_event {
            events.send_if_modified(|current| {
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

/// Counts of what the writer committed.
#[derive(Debug, Default)]
pub(crate) struct WriterStats {
    /// Commits (each one fsync with `synchronous = FULL`).
    pub(crate) groups: AtomicU64,
    /// Units of work committed or rolled back.
    pub(crate) units: AtomicU64,
}

type Outcome = (oneshot::Sender<Result<()>>, Result<()>);

/// Runs one group in one transaction; returns each unit's outcome and the
/// last event seq the group published.
async fn commit_group(
    conn: &mut SqliteConnection,
    group: impl Iterator<Item = WriteRequest>,
) -> (Vec<Outcome>, Option<i64>) {
    let requests: Vec<WriteRequest> = group.collect();
    if let Err(err) = exec(conn, "BEGIN IMMEDIATE").await {
        return (fail_all(requests, &err), None);
    }
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut last_event = None;
    for request in requests {
        if let Err(err) = exec(conn, "SAVEPOINT unit").await {
            outcomes.push((request.done, Err(err)));
            continue;
        }
        let mut tx = SqliteTx::new(conn);
        let result = AssertUnwindSafe((request.work)(&mut tx))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StoreError::Aborted("a unit of work panicked".into())));
        let tx_last_event = tx.last_event();
        let closed = match &result {
            Ok(()) => exec(conn, "RELEASE unit").await,
            Err(_) => match exec(conn, "ROLLBACK TO unit").await {
                Ok(()) => exec(conn, "RELEASE unit").await,
                Err(err) => Err(err),
            },
        };
        if let Err(err) = closed {
            // The transaction is in an unknown state: give up on the group.
            let _ = exec(conn, "ROLLBACK").await;
            outcomes.push((request.done, Err(err)));
            let rolled_back = outcomes
                .into_iter()
                .map(|(done, _)| {
                    (
                        done,
                        Err(StoreError::Aborted(
                            "the group's transaction failed; nothing was written".into(),
                        )),
                    )
                })
                .collect();
            return (rolled_back, None);
        }
        if result.is_ok() && tx_last_event.is_some() {
            last_event = tx_last_event;
        }
        outcomes.push((request.done, result));
    }
    if let Err(err) = exec(conn, "COMMIT").await {
        let _ = exec(conn, "ROLLBACK").await;
        let message = err.to_string();
        let failed = outcomes
            .into_iter()
            .map(|(done, _)| {
                (
                    done,
                    Err(StoreError::Aborted(format!("commit failed: {message}"))),
                )
            })
            .collect();
        return (failed, None);
    }
    (outcomes, last_event)
}

fn fail_all(requests: Vec<WriteRequest>, err: &StoreError) -> Vec<Outcome> {
    let message = err.to_string();
    requests
        .into_iter()
        .map(|r| (r.done, Err(StoreError::Aborted(message.clone()))))
        .collect()
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<()> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(StoreError::db(sql))
}
