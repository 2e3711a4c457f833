//! Identity resolution and case linking with a million identities in the
//! store: the per-interaction latency of what the inbound pipeline does in
//! its transaction once a message is normalized (resolve the sender to a
//! party, find or open the conversation and the case, store the
//! interaction), beside two references measured in the same run: the same
//! work on a store of a thousand identities (does size matter?), and one
//! indexed identity lookup by key on the big store (the floor).
//!
//! Writes its section of `benches/RESULTS.md`.
//!
//! Run: `cargo bench -p silta-pipeline --bench linking`
//! (`SILTA_BENCH_IDENTITIES=100000` for a quicker, smaller run.)

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hdrhistogram::Histogram;
use silta_model::{
    Assurance, ChannelAccountId, Identity, IdentityKey, IdentityKind, IdentityScope,
    NormalizeOptions, Party, ThreadKey, Timestamp,
};
use silta_pipeline::linking::{
    LinkChannel, LinkOptions, Linked, Sender as LinkSender, link_interaction, resolve_parties,
};
use silta_store::sqlite::{SqliteOptions, SqliteStore};
use silta_store::{Store, transact};
use silta_test_harness::bench_results::{machine_and_date, write_section};
use support::{aborted, message};

/// The channel plugin every message comes from.
const PLUGIN: &str = "webhook";
/// Messages from senders the store knows (each opens a conversation).
const KNOWN: usize = 4_000;
/// Replies in those conversations.
const FOLLOW_UPS: usize = 4_000;
/// Messages from senders the store does not know (each a new party).
const NEW: usize = 2_000;
/// Parties (each with one email identity) seeded per transaction.
const SEED_BATCH: usize = 20_000;

fn main() -> anyhow::Result<()> {
    let identities: usize = std::env::var("SILTA_BENCH_IDENTITIES")
        .ok()
        .map(|v| v.parse())
        .transpose()
        .context("SILTA_BENCH_IDENTITIES")?
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(identities))
}

async fn run(identities: usize) -> anyhow::Result<()> {
    let small = Workload::prepare(1_000).await?;
    let small_result = small.measure().await?;
    drop(small);

    let big = Workload::prepare(identities).await?;
    let floor = big.lookup_floor(10_000).await?;
    let big_result = big.measure().await?;

    // The goal is about resolution and linking; each message's own commit
    // (shared by many messages in the running pipeline's group commit) is
    // shown beside it.
    let p99_ms = big_result.work.value_at_quantile(0.99) as f64 / 1e6;
    let verdict = if p99_ms < 1.0 {
        "**met**"
    } else {
        "**NOT met**"
    };
    let mut md = format!(
        "## Identity resolution and case linking with {identities} identities\n\n\
         `cargo bench -p silta-pipeline --bench linking` — {machine}.\n\
         SQLite store (WAL, `synchronous = NORMAL`: the process-crash-safe setting; with FULL every \
         commit adds an fsync, which the pipeline's group commit shares between messages). \
         Seeded with {identities} parties, one email identity each, in {seed:.0} s. \
         Per message, in one transaction as `silta run` does: resolve the sender \
         (`resolve_parties`), then `link_interaction` (idempotency check, conversation by thread \
         key, open case of the party or a new one, store the interaction and its events). \
         {KNOWN} messages from known senders (rule `known-identity`, each a new conversation), \
         {FOLLOW_UPS} replies in those conversations (thread key), {NEW} from unknown senders \
         (rule `new-party`); one at a time.\n\n\
         Per message: the transaction as the caller sees it (queue to the writer, the work, \
         the commit); p99 per kind of message in the last column.\n\n\
         | store | messages/s | p50 | p99 | p99.9 | max | p99 known / reply / new |\n\
         |---|---|---|---|---|---|---|\n",
        machine = machine_and_date(),
        seed = big.seeded_in.as_secs_f64(),
    );
    md.push_str(&big_result.row(&format!("{identities} identities")));
    md.push_str(&small_result.row("1,000 identities (reference)"));
    md.push_str(&format!(
        "\nFloor: one identity lookup by (kind, scope, value) in a transaction on the big store: \
         p50 {} µs, p99 {} µs.\n\nIdentity resolution and case linking alone (the work inside \
         the transaction, without queueing for the writer or the commit): p99 {:.3} ms with \
         {identities} identities, {:.3} ms with 1,000.\n\n\
         Goal: identity resolution and case linking under 1 ms per interaction at p99 with a \
         million identities — {verdict} (p99 {p99_ms:.3} ms). With its own commit each \
         message's transaction is slower at the tail (table); in `silta run` one commit serves \
         every message linked in the same group (see the ingest section).\n",
        us(floor.value_at_quantile(0.5)),
        us(floor.value_at_quantile(0.99)),
        big_result.work.value_at_quantile(0.99) as f64 / 1e6,
        small_result.work.value_at_quantile(0.99) as f64 / 1e6,
    ));
    println!("{md}");
    write_section("linking", &md);
    Ok(())
}

/// A store seeded with `size` parties, each holding one email identity.
struct Workload {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    account: ChannelAccountId,
    size: usize,
    seeded_in: Duration,
}

/// Latencies in nanoseconds.
struct Measured {
    /// Each message's transaction, commit included.
    all: Histogram<u64>,
    /// The work inside the transaction.
    work: Histogram<u64>,
    known: Histogram<u64>,
    replies: Histogram<u64>,
    new: Histogram<u64>,
    rate: f64,
}

impl Measured {
    fn row(&self, store: &str) -> String {
        let ms =
            |h: &Histogram<u64>, q: f64| format!("{:.3} ms", h.value_at_quantile(q) as f64 / 1e6);
        format!(
            "| {store} | {:.0} | {} | {} | {} | {:.3} ms | {} / {} / {} |\n",
            self.rate,
            ms(&self.all, 0.5),
            ms(&self.all, 0.99),
            ms(&self.all, 0.999),
            self.all.max() as f64 / 1e6,
            ms(&self.known, 0.99),
            ms(&self.replies, 0.99),
            ms(&self.new, 0.99),
        )
    }
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1_000, 60_000_000_000, 3)?)
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e3)
}

fn email(i: usize) -> anyhow::Result<IdentityKey> {
    Ok(IdentityKey::new(
        IdentityKind::Email,
        &format!("customer-{i}@example.fi"),
        IdentityScope::Global,
        &NormalizeOptions::default(),
    )?)
}

impl Workload {
    async fn prepare(size: usize) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let options = SqliteOptions {
            fsync: false,
            ..SqliteOptions::default()
        };
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("silta.db"), &options).await?);
        let started = Instant::now();
        let mut next = 0;
        while next < size {
            let end = (next + SEED_BATCH).min(size);
            let batch = (next..end)
                .map(|i| {
                    let mut identity = Identity::from_key(email(i)?, Assurance::ChannelAsserted);
                    identity.source = Some(PLUGIN.to_owned());
                    Ok(identity)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            transact(&*store, move |tx| {
                Box::pin(async move {
                    let now = Timestamp::now();
                    for mut identity in batch {
                        let party = Party::new(now);
                        tx.insert_party(&party).await?;
                        identity.party_id = Some(party.id);
                        tx.insert_identity(&identity).await?;
                    }
                    Ok(())
                })
            })
            .await?;
            next = end;
            if next % 200_000 == 0 {
                eprintln!("seeded {next} of {size}");
            }
        }
        Ok(Self {
            _dir: dir,
            store,
            account: ChannelAccountId::new(),
            size,
            seeded_in: started.elapsed(),
        })
    }

    /// One indexed identity lookup per transaction, for random keys.
    async fn lookup_floor(&self, n: usize) -> anyhow::Result<Histogram<u64>> {
        let mut floor = histogram()?;
        for i in 0..n {
            let key = email(spread(i, self.size))?;
            let started = Instant::now();
            let found = transact(&*self.store, move |tx| {
                Box::pin(async move { tx.identity_by_key(&key).await })
            })
            .await?;
            floor.record(elapsed_ns(started))?;
            anyhow::ensure!(found.is_some(), "seeded identity {i} not found");
        }
        Ok(floor)
    }

    async fn measure(&self) -> anyhow::Result<Measured> {
        let mut measured = Measured {
            all: histogram()?,
            work: histogram()?,
            known: histogram()?,
            replies: histogram()?,
            new: histogram()?,
            rate: 0.0,
        };
        let started = Instant::now();
        for i in 0..KNOWN {
            let sender = spread(i, self.size);
            let (all, work) = self
                .receive(sender, &format!("first-{i}"), &format!("thread-{i}"))
                .await?;
            measured.known.record(all)?;
            measured.all.record(all)?;
            measured.work.record(work)?;
        }
        for i in 0..FOLLOW_UPS {
            let sender = spread(i % KNOWN, self.size);
            let (all, work) = self
                .receive(
                    sender,
                    &format!("reply-{i}"),
                    &format!("thread-{}", i % KNOWN),
                )
                .await?;
            measured.replies.record(all)?;
            measured.all.record(all)?;
            measured.work.record(work)?;
        }
        for i in 0..NEW {
            let (all, work) = self
                .receive(
                    self.size + i,
                    &format!("new-{i}"),
                    &format!("new-thread-{i}"),
                )
                .await?;
            measured.new.record(all)?;
            measured.all.record(all)?;
            measured.work.record(work)?;
        }
        measured.rate = (KNOWN + FOLLOW_UPS + NEW) as f64 / started.elapsed().as_secs_f64();
        Ok(measured)
    }

    /// One message from customer `sender` in `thread`, linked in its own
    /// transaction; (the transaction, the work inside it) in nanoseconds.
    async fn receive(&self, sender: usize, id: &str, thread: &str) -> anyhow::Result<(u64, u64)> {
        let identity = Identity::from_key(email(sender)?, Assurance::ChannelAsserted);
        let mut interaction = message(self.account, PLUGIN, id, &identity, Timestamp::now())?;
        interaction.thread_keys = vec![ThreadKey::ProviderThread(thread.to_owned())];
        let senders = vec![LinkSender {
            identity: identity.clone(),
            plugin: PLUGIN.to_owned(),
            channel_account: self.account,
        }];
        let key = (identity.key(), self.account);
        let account = self.account;
        let options = LinkOptions::default();
        let started = Instant::now();
        let (linked, work) = transact(&*self.store, move |tx| {
            Box::pin(async move {
                let work = Instant::now();
                let resolved = resolve_parties(tx, &senders).await.map_err(aborted)?;
                let linked = link_interaction(
                    tx,
                    interaction,
                    &resolved[&key],
                    &LinkChannel {
                        id: account,
                        name: "bench",
                        per_contact: false,
                    },
                    None,
                    &options,
                )
                .await
                .map_err(aborted)?;
                Ok((linked, elapsed_ns(work)))
            })
        })
        .await?;
        let all = elapsed_ns(started);
        anyhow::ensure!(
            matches!(linked, Linked::Created { .. }),
            "message {id} was not linked as new: {linked:?}"
        );
        Ok((all, work))
    }
}

/// The `i`th of a fixed pseudo-random walk over `0..size` (a multiplicative
/// hash), so the senders are spread over the whole index.
fn spread(i: usize, size: usize) -> usize {
    (i.wrapping_mul(2_654_435_761) ^ (i >> 3)) % size
}

fn elapsed_ns(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
