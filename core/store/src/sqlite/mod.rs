//! The embedded store: SQLite in WAL mode.
//!
//! One file under the data directory. Reads use a small pool of
//! connections; every write goes through the [writer](writer) task, which
//! commits concurrent units of work together with `synchronous = FULL`,
//! so a unit is on disk (fsync'd) when [`Store::run_tx`] returns.

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

use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{Result, StoreError};
use crate::store::TxFn;
use writer::WriterStats;

/// Units of work that may wait for the writer before callers are slowed.
const WRITE_QUEUE: usize = 8192;

/// How long a connection waits for another process holding the write lock
/// (`silta dlq replay` beside a running server).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded SQLite store.
pub struct SqliteStore {
    reads: SqlitePool,
    writes: mpsc::Sender<writer::WriteRequest>,
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
        let mut writer_conn = connect
            .connect()
            .await
            .map_err(StoreError::db("open database for writing"))?;
        sqlx::migrate!("./migrations")
            .run(&mut writer_conn)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.display().to_string(),
                source,
            })?;
        let reads = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
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
        tokio::spawn(writer::run_writer(
            writer_conn,
            requests,
            events_tx,
            Arc::clone(&stats),
        ));
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

    async fn submit(&self, work: TxFn) -> Result<()> {
        let (done, answer) = oneshot::channel();
        self.writes
            .send(writer::WriteRequest { work, done })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}
