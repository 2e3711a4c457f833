//! The embedded store: SQLite in WAL mode.
//!
//! One file under the data directory. Reads use a small pool of
//! connections; every write goes through the [writer](writer) thread, which
//! commits concurrent units of work together with `synchronous = FULL`,
//! so a unit is on disk (fsync'd) when [`Store::run_tx`] returns. The
//! [checkpointer](checkpointer) moves the log into the database file on a
//! thread of its own.

mod checkpointer;
mod codec;
mod reads;
mod rows;
mod tx;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{Result, StoreError};
use crate::store::TxFn;
use writer::WriterStats;

/// Units of work that may wait for the writer before callers are slowed.
const WRITE_QUEUE: usize = 8192;

/// How long a connection waits for another process holding the write lock
/// (`silta dlq replay` beside a running server).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A read connection unused this long is closed (sqlx checks about every
/// `idle_timeout`).
const READER_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The embedded SQLite store.
pub struct SqliteStore {
    reads: SqlitePool,
    writes: mpsc::Sender<writer::WriterMessage>,
    events: watch::Receiver<i64>,
    stats: Arc<WriterStats>,
}

/// Options for [`SqliteStore::open`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Read connections.
    pub read_connections: u32,
    /// Fsync every commit (`synchronous = FULL`). Turning it off keeps
    /// data safe from a process crash but not from a power cut.
    pub fsync: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            read_connections: 4,
            fsync: true,
        }
    }
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path`, apply migrations
    /// and start the writer.
    pub async fn open(path: &Path, options: &SqliteOptions) -> Result<Self> {
        let url = format!("sqlite://{}", path.display());
        let connect = SqliteConnectOptions::from_str(&url)
            .map_err(StoreError::db("parse database path"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if options.fsync {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("temp_store", "memory");
        // Migrations run on a connection of their own; the writer opens
        // the migrated file afterwards.
        let mut migrate_conn = connect
            .connect()
            .await
            .map_err(StoreError::db("open database for migrating"))?;
        sqlx::migrate!("./migrations")
            .run(&mut migrate_conn)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.display().to_string(),
                source,
            })?;
        migrate_conn
            .close()
            .await
            .map_err(StoreError::db("close the migrating connection"))?;
        let writer_conn = open_writer(path, options.fsync)?;
        let reads = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
            // Readers idle this long are closed, and their page caches
            // with them; the next read opens one again.
            .min_connections(0)
            .idle_timeout(READER_IDLE_TIMEOUT)
            .connect_with(
                SqliteConnectOptions::from_str(&url)
                    .map_err(StoreError::db("parse database path"))?
                    .read_only(true)
                    .busy_timeout(BUSY_TIMEOUT),
            )
            .await
            .map_err(StoreError::db("open database for reading"))?;
        let last_event: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&reads)
            .await
            .map_err(StoreError::db("read last event"))?;
        let (events_tx, events) = watch::channel(last_event);
        let (writes, requests) = mpsc::channel(WRITE_QUEUE);
        let stats = Arc::new(WriterStats::default());
        writer::spawn_writer(
            writer_conn,
            requests,
            writer::WriterOutputs {
                events: events_tx,
                stats: Arc::clone(&stats),
            },
            tokio::runtime::Handle::current(),
        )
        .map_err(|err| StoreError::Aborted(format!("starting the store writer thread: {err}")))?;
        checkpointer::spawn_checkpointer(
            path,
            BUSY_TIMEOUT,
            Arc::downgrade(&stats),
            writes.downgrade(),
        )?;
        tracing::info!(path = %path.display(), "store open (SQLite, WAL)");
        Ok(Self {
            reads,
            writes,
            events,
            stats,
        })
    }

    /// (commits, units of work) since open: with concurrent writers there
    /// are fewer commits than units (group commit).
    #[must_use]
    pub fn commit_stats(&self) -> (u64, u64) {
        (
            self.stats.groups.load(Ordering::Relaxed),
            self.stats.units.load(Ordering::Relaxed),
        )
    }

    /// Times the writer handed its page cache back after a quiet spell
    /// (two seconds without a commit).
    #[must_use]
    pub fn idle_cache_releases(&self) -> u64 {
        self.stats.idle_releases.load(Ordering::Relaxed)
    }

    async fn submit(&self, work: TxFn) -> Result<()> {
        let (done, answer) = oneshot::channel();
        self.writes
            .send(writer::WriterMessage::Unit(writer::WriteRequest {
                work,
                done,
            }))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Statements the writer keeps prepared (there are about forty).
const CACHED_STATEMENTS: usize = 128;

/// The writer's page cache, in KiB. SQLite's default (2 MiB) is too small
/// for the index pages a busy pipeline touches: under the ingest benchmark
/// the writer re-read evicted pages from the file system, and 16 MiB gave
/// about 15% more messages per second. The cache is handed back when the
/// writer goes idle (`PRAGMA shrink_memory`), so it costs nothing at rest.
const WRITER_CACHE_KIB: u32 = 16 * 1024;

/// The WAL file is truncated to this size after a checkpoint.
const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// The writer's connection: the same settings as the migrating one, but
/// it never checkpoints (the [checkpointer](checkpointer) does).
fn open_writer(path: &Path, fsync: bool) -> Result<rusqlite::Connection> {
    let conn =
        rusqlite::Connection::open(path).map_err(StoreError::db("open database for writing"))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(StoreError::db("set the busy timeout"))?;
    let synchronous = if fsync { "FULL" } else { "NORMAL" };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
         PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
         PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; PRAGMA wal_autocheckpoint = 0; \
         PRAGMA cache_size = -{WRITER_CACHE_KIB};"
    ))
    .map_err(StoreError::db("configure the writer connection"))?;
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(conn)
}
