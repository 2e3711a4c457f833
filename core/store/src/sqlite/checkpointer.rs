//! The checkpointer: copies committed pages from the write-ahead log into
//! the database file on a thread of its own, so that no commit waits for it.
//!
//! SQLite's automatic checkpoint runs inside the commit that takes the log
//! past 1000 pages, and that commit then also writes and syncs the database
//! file: those were the slowest commits, about one in a hundred. The writer
//! connection has it turned off (`wal_autocheckpoint = 0`); this thread
//! runs a `PASSIVE` checkpoint, which waits for no reader or writer,
//! whenever something was committed since its last one. A log that still
//! grows past [`WAL_RESTART_BYTES`] (readers holding old snapshots under
//! constant writes) gets a `RESTART` checkpoint, which makes the writer
//! wait once so the log can start over.
//!
//! After two seconds without a commit it also tells the writer to hand
//! its page cache back, and does the same with its own.
//!
//! A checkpoint interrupted by a crash is harmless: the log is still there
//! and SQLite replays it on the next open.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Result, StoreError};
use tokio::sync::mpsc::WeakSender;

use crate::sqlite::writer::{WriterMessage, WriterStats, release_cache};

/// How often the checkpointer looks for new commits.
const INTERVAL: Duration = Duration::from_millis(50);

/// After this many intervals without a commit (2 s), the checkpointer and
/// the writer hand their page caches back to the allocator. A message
/// after that reads its pages from the operating system's cache again.
const IDLE_INTERVALS: u32 = 40;

/// A log larger than this is restarted even if the writer has to wait.
pub(crate) const WAL_RESTART_BYTES: u64 = 256 * 1024 * 1024;

/// Start the checkpointer for the database at `path`; it stops once the
/// store (the owner of `stats`) is gone.
pub(crate) fn spawn_checkpointer(
    path: &Path,
    busy_timeout: Duration,
    stats: Weak<WriterStats>,
    writer: WeakSender<WriterMessage>,
) -> Result<std::thread::JoinHandle<()>> {
    let conn = Connection::open(path).map_err(StoreError::db("open database for checkpoints"))?;
    conn.busy_timeout(busy_timeout)
        .map_err(StoreError::db("set the checkpointer's busy timeout"))?;
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    std::thread::Builder::new()
        .name("silta-store-checkpointer".into())
        .spawn(move || run(&conn, &wal, &stats, &writer))
        .map_err(|err| StoreError::Aborted(format!("starting the checkpointer thread: {err}")))
}

fn run(
    conn: &Connection,
    wal: &Path,
    stats: &Weak<WriterStats>,
    writer: &WeakSender<WriterMessage>,
) {
    let mut checkpointed_at = 0;
    // Intervals without a commit; at IDLE_INTERVALS the page caches are
    // released, once per quiet spell.
    let mut quiet = 0u32;
    loop {
        std::thread::sleep(INTERVAL);
        let Some(stats) = stats.upgrade() else {
            break;
        };
        let commits = stats.groups.load(Ordering::Relaxed);
        drop(stats);
        if commits == checkpointed_at {
            quiet = quiet.saturating_add(1);
            if quiet == IDLE_INTERVALS {
                release_cache(conn, "checkpointer");
                if let Some(writer) = writer.upgrade() {
                    let _ = writer.try_send(WriterMessage::Idle);
                }
            }
            continue;
        }
        quiet = 0;
        let oversized = std::fs::metadata(wal).is_ok_and(|m| m.len() > WAL_RESTART_BYTES);
        let mode = if oversized { "RESTART" } else { "PASSIVE" };
        match checkpoint(conn, mode) {
            Ok(()) => checkpointed_at = commits,
            Err(err) => tracing::warn!(error = %err, mode, "WAL checkpoint failed; retried"),
        }
    }
    tracing::debug!("store checkpointer stopped");
}

/// `PRAGMA wal_checkpoint(<mode>)`.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<()> {
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    tracing::trace!(mode, busy, log, done, "WAL checkpoint");
    Ok(())
}
