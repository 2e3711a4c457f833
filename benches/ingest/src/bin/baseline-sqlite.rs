//! Reference server: appends each request body to SQLite and answers `200`
//! once the transaction holding it has committed.
//!
//! The ceiling for a server that answers only when a message is durable, on
//! this machine's disk: WAL journal, `synchronous=FULL` (the WAL is fsync'd
//! at every commit) and group commit. Handlers hand `(body, reply)` to one
//! writer task; the writer takes everything queued (up to `--batch-max`),
//! inserts it in one transaction with cached multi-row INSERTs, commits once
//! and then answers every handler of the batch. Under load one fsync covers
//! hundreds of messages; at low load a batch is one message and the latency
//! is one fsync.
//!
//! Checkpoints stay SQLite's default: the commit that takes the WAL past
//! 1000 pages copies it into the database before it returns, so every few
//! thousand messages one batch waits for that copy and an fsync of the
//! database file; that is most of this server's p99. A checkpoint from a
//! second connection would keep it off the commit path, but under steady
//! writes a passive checkpoint never catches up with the writer and the WAL
//! never restarts (tried: 480 MB of WAL after 12 s at 5,000/s), so the
//! simple server is the honest reference.
//!
//! Only `POST` bodies are stored; other methods get `200` without touching
//! the database, so a readiness probe (`GET /`) adds no rows.
//!
//! ```sh
//! cargo run --release -p silta-ingest-bench --bin baseline-sqlite -- \
//!     --listen 127.0.0.1:8702 --db /var/tmp/baseline.db
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// Rows per INSERT statement at most. Batches are split into power-of-two
/// chunks, so at most `log2(MAX_ROWS_PER_INSERT) + 1` distinct statements
/// exist and all stay in the connection's prepared-statement cache.
const MAX_ROWS_PER_INSERT: usize = 256;

/// Append each POST body to SQLite with group commit; answer after the commit.
#[derive(Parser)]
struct Args {
    /// Address to listen on (port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:8702")]
    listen: SocketAddr,
    /// SQLite database file (created if missing). Put it on a real disk, not
    /// tmpfs, or the fsync costs nothing.
    #[arg(long)]
    db: PathBuf,
    /// Most messages one transaction takes.
    #[arg(long, default_value_t = 1024)]
    batch_max: usize,
    /// Tokio worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    threads: Option<usize>,
}

/// One body waiting for its commit.
struct Append {
    body: Bytes,
    committed: oneshot::Sender<bool>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = silta_ingest_bench::runtime(args.threads).context("starting tokio")?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::new()
        .filename(&args.db)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5));
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", args.db.display()))?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)",
    )
    .execute(&mut connection)
    .await
    .context("creating the messages table")?;

    let batch_max = args.batch_max.max(1);
    let (queue, appends) = mpsc::channel::<Append>(batch_max * 8);
    let stats = Arc::new(Stats::default());
    let writer = tokio::spawn(writer(connection, appends, batch_max, stats.clone()));

    let listener = silta_ingest_bench::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    silta_ingest_bench::serve(listener, move |request| handle(request, queue.clone()))
        .await
        .context("serving")?;
    writer.abort();
    let commits = stats.commits.load(Ordering::Relaxed);
    let messages = stats.messages.load(Ordering::Relaxed);
    eprintln!(
        "stored {messages} messages in {commits} commits ({:.1} per commit)",
        messages as f64 / commits.max(1) as f64
    );
    Ok(())
}

/// Group commit at work: messages per commit, said on shutdown.
#[derive(Default)]
struct Stats {
    commits: AtomicU64,
    messages: AtomicU64,
}

async fn handle(
    request: Request<Incoming>,
    queue: mpsc::Sender<Append>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::POST {
        return Ok(empty(StatusCode::OK));
    }
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(empty(StatusCode::BAD_REQUEST)),
    };
    let (committed, reply) = oneshot::channel();
    if queue.send(Append { body, committed }).await.is_err() {
        return Ok(empty(StatusCode::SERVICE_UNAVAILABLE));
    }
    let status = match reply.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Ok(empty(status))
}

/// The single writer: one transaction and one fsync per batch.
async fn writer(
    mut connection: SqliteConnection,
    mut appends: mpsc::Receiver<Append>,
    batch_max: usize,
    stats: Arc<Stats>,
) {
    let statements: Vec<String> = (0..=MAX_ROWS_PER_INSERT.ilog2())
        .map(|power| insert_statement(1 << power))
        .collect();
    let mut batch = Vec::with_capacity(batch_max);
    // `recv_many` waits for one message, then takes whatever else is queued.
    while appends.recv_many(&mut batch, batch_max).await > 0 {
        let result = commit(&mut connection, &statements, &batch).await;
        match &result {
            Ok(()) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats
                    .messages
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            Err(error) => eprintln!("commit of {} messages failed: {error}", batch.len()),
        }
        for append in batch.drain(..) {
            // The handler may have gone (client disconnected); nothing to do.
            let _ = append.committed.send(result.is_ok());
        }
    }
}

async fn commit(
    connection: &mut SqliteConnection,
    statements: &[String],
    batch: &[Append],
) -> sqlx::Result<()> {
    let mut transaction = connection.begin().await?;
    let mut rest = batch;
    while !rest.is_empty() {
        // Largest power of two that fits: 1024 rows = 4 × 256, 300 = 256 + 32 + 8 + 4.
        let power = rest.len().min(MAX_ROWS_PER_INSERT).ilog2();
        let rows = 1usize << power;
        let (chunk, tail) = rest.split_at(rows);
        let mut query = sqlx::query(&statements[power as usize]);
        for append in chunk {
            query = query.bind(append.body.as_ref());
        }
        query.execute(&mut *transaction).await?;
        rest = tail;
    }
    transaction.commit().await
}

/// `INSERT INTO messages (body) VALUES (?), (?), ...` with `rows` rows.
fn insert_statement(rows: usize) -> String {
    let mut sql = String::from("INSERT INTO messages (body) VALUES (?)");
    for _ in 1..rows {
        sql.push_str(", (?)");
    }
    sql
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
