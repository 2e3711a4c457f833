//! The inbound pipeline: accept durably, then process in order per party.
//!
//! ```text
//! accept ─ plugin normalize (verifies the signature) ─ journal (group commit) ─ 2xx
//!                                                           │
//! dispatcher: pending journal entries in seq order ─ resolve parties (one unit per batch)
//!                                                           │  hash(party)
//!                                  worker 1 … worker N: link + publish + mark done (one unit per batch)
//! ```
//!
//! The normalized result of an accept is handed to the dispatcher in
//! memory; after a restart (or when it is missing) the dispatcher runs the
//! plugin again on the journaled bytes. A journal entry is marked done in
//! the same transaction that stores what it produced, so a crash at any
//! point leaves it pending and it is processed again: redelivery of a
//! processed entry is a no-op thanks to the idempotency key.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use silta_model::{ChannelAccountId, IdentityKey, PartyId, Timestamp};
use silta_runtime::contract::{InboundEvent, Normalized, TransportMeta};
use silta_runtime::manifest::Threading;
use silta_runtime::{Error as RuntimeError, PluginError};
use silta_store::records::{
    DeadLetterSource, JournalEntry, JournalState, MailboxCheckpoint, NewDeadLetter, NewJournalEntry,
};
use silta_store::{Store, StoreTx, transact};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use crate::channels::{ChannelAccount, Channels};
use crate::error::{PipelineError, Result, into_store_error};
use crate::failure::Failure;
use crate::identity_resolution::{Claimant, Resolution, resolve_sender};
use crate::linking::{self, LinkOptions, Linked, Sender};
use crate::{events, metrics, transport_meta};

/// Tuning of inbound processing.
#[derive(Debug, Clone)]
pub struct InboundOptions {
    /// Parallel workers; a party always goes to the same one.
    pub workers: usize,
    /// Journal entries the dispatcher reads at a time.
    pub batch: u32,
    /// Jobs queued per worker before the dispatcher waits.
    pub worker_queue: usize,
    /// How often the dispatcher looks for pending entries without being
    /// woken (entries written by another process).
    pub poll_interval: Duration,
    /// How interactions are linked to cases and queued for back offices.
    pub link: LinkOptions,
}

impl Default for InboundOptions {
    fn default() -> Self {
        Self {
            workers: 4,
            batch: 512,
            worker_queue: 1024,
            poll_interval: Duration::from_millis(500),
            link: LinkOptions::default(),
        }
    }
}

/// What [`Inbound::accept`] recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The journal entry.
    pub journal_seq: i64,
    /// How many interactions and delivery reports the event held.
    pub items: usize,
    /// The plugin failed on it; it waits in the dead-letter queue (only
    /// for a [pulled](Inbound::accept_pulled) event).
    pub dead_lettered: bool,
}

/// Where a pulled event came from: the source's position after it, kept
/// with the event's journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledFrom {
    /// The mailbox (or other source) name.
    pub mailbox: String,
    /// Its checkpoint once this event is journaled.
    pub checkpoint: MailboxCheckpoint,
}

/// A normalized event waiting for the dispatcher, by journal seq.
struct Prepared {
    body: Arc<[u8]>,
    items: Vec<Normalized>,
}

/// One journal entry on its way to a worker.
#[derive(Clone)]
struct Job {
    seq: i64,
    channel: Arc<ChannelAccount>,
    items: Vec<Normalized>,
    parties: HashMap<(IdentityKey, ChannelAccountId), Resolution>,
}

/// The inbound side of the pipeline.
pub struct Inbound {
    store: Arc<dyn Store>,
    channels: Channels,
    options: InboundOptions,
    prepared: Arc<Mutex<HashMap<i64, Prepared>>>,
    wake: Notify,
    queued: AtomicUsize,
}

impl Inbound {
    /// The inbound pipeline over `store` for `channels`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, channels: Channels, options: InboundOptions) -> Arc<Self> {
        Arc::new(Self {
            store,
            channels,
            options,
            prepared: Arc::new(Mutex::new(HashMap::new())),
            wake: Notify::new(),
            queued: AtomicUsize::new(0),
        })
    }

    /// The channel accounts.
    #[must_use]
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// Verify and normalize a raw event through the channel's plugin, then
    /// journal it. Returns once the entry is durable.
    ///
    /// Bad input and refused signatures write nothing. Any other plugin
    /// failure journals the event and dead-letters it, then reports the
    /// failure, so the provider retries and nothing is lost either way.
    /// Run this in its own task: once started it should not be cancelled
    /// halfway (an HTTP client hanging up must not cancel the write).
    pub async fn accept(
        &self,
        channel_name: &str,
        transport: TransportMeta,
        body: Vec<u8>,
    ) -> Result<Accepted> {
        self.accept_from(channel_name, transport, body, None).await
    }

    /// Accept an event Silta fetched itself (a message from a mailbox).
    ///
    /// Nobody would send it again, so every event is kept: one the plugin
    /// refuses (bad input) or fails on is journaled and dead-lettered with
    /// the reason, like any other plugin failure, and the source moves on.
    /// The source's checkpoint is written in the same commit as the
    /// journal entry, so a restart neither re-ingests nor skips events.
    pub async fn accept_pulled(
        &self,
        channel_name: &str,
        transport: TransportMeta,
        body: Vec<u8>,
        from: PulledFrom,
    ) -> Result<Accepted> {
        self.accept_from(channel_name, transport, body, Some(from))
            .await
    }

    async fn accept_from(
        &self,
        channel_name: &str,
        transport: TransportMeta,
        body: Vec<u8>,
        pulled: Option<PulledFrom>,
    ) -> Result<Accepted> {
        let channel = match self.channels.get(channel_name) {
            Ok(channel) => channel,
            Err(err) => {
                metrics::ingest(channel_name, "unknown_channel");
                return Err(err);
            }
        };
        let name = channel.record.name.clone();
        let event = InboundEvent {
            channel_account: channel.record.id,
            received_at: Timestamp::now(),
            transport,
            body,
        };
        let started = Instant::now();
        let normalized = channel.plugin.normalize(&event).await;
        metrics::normalize_latency(channel.plugin.id().as_str(), started.elapsed());
        let entry = NewJournalEntry {
            channel_account: event.channel_account,
            received_at: event.received_at,
            transport: transport_meta::to_json(&event.transport),
            body: event.body,
        };
        match normalized {
            Ok(items) => {
                let count = items.len();
                let body: Arc<[u8]> = Arc::from(entry.body.as_slice());
                let prepared = Arc::clone(&self.prepared);
                let account = channel.record.id;
                let seq = transact(&*self.store, move |tx| {
                    Box::pin(async move {
                        let seq = tx.append_journal(&entry).await?;
                        if let Some(from) = pulled {
                            tx.set_mailbox_checkpoint(account, &from.mailbox, from.checkpoint)
                                .await?;
                        }
                        lock(&prepared).insert(seq, Prepared { body, items });
                        Ok(seq)
                    })
                })
                .await;
                let seq = match seq {
                    Ok(seq) => seq,
                    Err(err) => {
                        metrics::ingest(&name, "store_error");
                        return Err(err.into());
                    }
                };
                metrics::ingest(&name, "accepted");
                self.wake.notify_one();
                Ok(Accepted {
                    journal_seq: seq,
                    items: count,
                    dead_lettered: false,
                })
            }
            Err(RuntimeError::Plugin {
                error: PluginError::BadInput(reason),
                ..
            }) if pulled.is_none() => {
                metrics::ingest(&name, "bad_input");
                Err(PipelineError::BadInput(reason))
            }
            Err(RuntimeError::Plugin {
                error: PluginError::Unauthorized(reason),
                ..
            }) if pulled.is_none() => {
                metrics::ingest(&name, "unauthorized");
                Err(PipelineError::Unauthorized(reason))
            }
            Err(err) => {
                let failure = Failure::of(&err);
                let plugin = channel.plugin.id().to_string();
                tracing::warn!(channel_account = %name, %plugin, kind = %failure.kind, error = %failure.message,
                    "normalize failed; the event is journaled and dead-lettered");
                let letter = NewDeadLetter {
                    source: DeadLetterSource::Inbound,
                    journal_seq: None,
                    outbox_id: None,
                    channel_account: channel.record.id,
                    plugin: plugin.clone(),
                    stage: "normalize".into(),
                    error_kind: failure.kind.clone(),
                    message: failure.message.clone(),
                    at: Timestamp::now(),
                };
                let account = channel.record.id;
                let is_pulled = pulled.is_some();
                let stored = transact(&*self.store, move |tx| {
                    Box::pin(async move {
                        let seq = tx.append_journal(&entry).await?;
                        let letter = NewDeadLetter {
                            journal_seq: Some(seq),
                            ..letter
                        };
                        dead_letter_entry(tx, seq, &letter).await?;
                        if let Some(from) = pulled {
                            tx.set_mailbox_checkpoint(account, &from.mailbox, from.checkpoint)
                                .await?;
                        }
                        Ok(seq)
                    })
                })
                .await;
                metrics::ingest(&name, "plugin_error");
                let seq = match stored {
                    Ok(seq) => seq,
                    Err(store_err) => return Err(store_err.into()),
                };
                metrics::dead_letter("inbound", "normalize", &failure.kind);
                if is_pulled {
                    return Ok(Accepted {
                        journal_seq: seq,
                        items: 0,
                        dead_lettered: true,
                    });
                }
                Err(PipelineError::Plugin {
                    plugin,
                    stage: "normalize",
                    kind: failure.kind,
                    message: failure.message,
                    retry_after_seconds: failure.retry_after.map(|d| d.as_secs()),
                })
            }
        }
    }

    /// Start the dispatcher and workers. They run until `shutdown` turns
    /// true, then finish what they hold and return; entries not yet
    /// dispatched stay pending in the journal.
    pub fn spawn(self: &Arc<Self>, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut workers = JoinSet::new();
            let mut shards = Vec::new();
            for index in 0..this.options.workers.max(1) {
                let (tx, rx) = mpsc::channel(this.options.worker_queue.max(1));
                shards.push(tx);
                workers.spawn(Arc::clone(&this).worker(index, rx));
            }
            Arc::clone(&this).dispatch(shards, shutdown).await;
            while workers.join_next().await.is_some() {}
            tracing::info!("inbound pipeline drained");
        })
    }

    /// Entries waiting in the workers' queues.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    async fn dispatch(
        self: Arc<Self>,
        shards: Vec<mpsc::Sender<Job>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut last_seq = 0;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let entries = match self
                .store
                .journal_entries(JournalState::Pending, last_seq, self.options.batch)
                .await
            {
                Ok(entries) => entries,
                Err(err) => {
                    tracing::error!(error = %err, "reading the journal failed; retrying");
                    tokio::time::sleep(self.options.poll_interval).await;
                    continue;
                }
            };
            let Some(last) = entries.last().map(|e| e.seq) else {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(self.options.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            };
            match self.dispatch_batch(entries, &shards).await {
                Ok(()) => {
                    last_seq = last;
                    lock(&self.prepared).retain(|seq, _| *seq > last);
                }
                Err(err) => {
                    tracing::error!(error = %err, "dispatching journal entries failed; retrying");
                    tokio::time::sleep(self.options.poll_interval).await;
                }
            }
        }
    }

    async fn dispatch_batch(
        &self,
        entries: Vec<JournalEntry>,
        shards: &[mpsc::Sender<Job>],
    ) -> Result<()> {
        let mut jobs = Vec::with_capacity(entries.len());
        for entry in entries {
            let seq = entry.seq;
            let channel = match self.channels.by_id(entry.entry.channel_account) {
                Ok(channel) => channel,
                Err(_) => {
                    tracing::warn!(seq, channel_account = %entry.entry.channel_account,
                        "journal entry for a channel account that is no longer configured; left pending");
                    continue;
                }
            };
            let cached = lock(&self.prepared).remove(&seq);
            let items = match cached {
                Some(p) if *p.body == *entry.entry.body => p.items,
                _ => match self.normalize_entry(&channel, &entry).await {
                    Ok(items) => items,
                    Err(()) => continue,
                },
            };
            jobs.push(Job {
                seq,
                channel,
                items,
                parties: HashMap::new(),
            });
        }
        let senders: Vec<Sender> = jobs
            .iter()
            .flat_map(|job| {
                job.items.iter().filter_map(|item| match item {
                    Normalized::Interaction(i) => Some(Sender {
                        identity: i.sender.clone(),
                        plugin: job.channel.record.plugin.clone(),
                        channel_account: job.channel.record.id,
                    }),
                    Normalized::DeliveryUpdate(_) => None,
                })
            })
            .collect();
        let parties = if senders.is_empty() {
            HashMap::new()
        } else {
            transact(&*self.store, move |tx| {
                Box::pin(async move {
                    linking::resolve_parties(tx, &senders)
                        .await
                        .map_err(into_store_error)
                })
            })
            .await?
        };
        for mut job in jobs {
            let mut route = None;
            for item in &job.items {
                if let Normalized::Interaction(i) = item {
                    let key = (i.sender.key(), job.channel.record.id);
                    if let Some(resolution) = parties.get(&key) {
                        route.get_or_insert(resolution.party);
                        job.parties.insert(key, resolution.clone());
                    }
                }
            }
            let shard = shard_of(route, job.seq, shards.len());
            self.queued.fetch_add(1, Ordering::Relaxed);
            if shards[shard].send(job).await.is_err() {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(PipelineError::ShuttingDown);
            }
        }
        metrics::inbound_queue(self.queued());
        Ok(())
    }

    /// Normalize a journaled entry; a failure dead-letters it.
    async fn normalize_entry(
        &self,
        channel: &ChannelAccount,
        entry: &JournalEntry,
    ) -> std::result::Result<Vec<Normalized>, ()> {
        let event = InboundEvent {
            channel_account: entry.entry.channel_account,
            received_at: entry.entry.received_at,
            transport: transport_meta::from_json(&entry.entry.transport),
            body: entry.entry.body.clone(),
        };
        let started = Instant::now();
        let result = channel.plugin.normalize(&event).await;
        metrics::normalize_latency(channel.plugin.id().as_str(), started.elapsed());
        match result {
            Ok(items) => Ok(items),
            Err(err) => {
                let failure = Failure::of(&err);
                let letter = NewDeadLetter {
                    source: DeadLetterSource::Inbound,
                    journal_seq: Some(entry.seq),
                    outbox_id: None,
                    channel_account: entry.entry.channel_account,
                    plugin: channel.plugin.id().to_string(),
                    stage: "normalize".into(),
                    error_kind: failure.kind.clone(),
                    message: failure.message.clone(),
                    at: Timestamp::now(),
                };
                tracing::warn!(seq = entry.seq, plugin = %letter.plugin, kind = %failure.kind,
                    error = %failure.message, "normalize failed; dead-lettered");
                let seq = entry.seq;
                let stored = transact(&*self.store, move |tx| {
                    Box::pin(async move { dead_letter_entry(tx, seq, &letter).await })
                })
                .await;
                if let Err(err) = stored {
                    tracing::error!(seq, error = %err, "could not dead-letter; the entry stays pending");
                } else {
                    metrics::dead_letter("inbound", "normalize", &failure.kind);
                }
                Err(())
            }
        }
    }

    async fn worker(self: Arc<Self>, index: usize, mut jobs: mpsc::Receiver<Job>) {
        let mut batch = Vec::new();
        while let Some(first) = jobs.recv().await {
            batch.push(first);
            while batch.len() < 256 {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let taken = batch.len();
            let group: Vec<Job> = std::mem::take(&mut batch);
            if let Err(err) = self.link_jobs(group.clone()).await {
                tracing::warn!(worker = index, error = %err, "linking a batch failed; retrying entry by entry");
                for job in group {
                    let seq = job.seq;
                    let channel_account = job.channel.record.id;
                    if let Err(err) = self.link_jobs(vec![job]).await {
                        self.dead_letter_link(seq, channel_account, &err).await;
                    }
                }
            }
            self.queued.fetch_sub(taken, Ordering::Relaxed);
        }
    }

    /// Link every item of `jobs` and mark their entries done, in one unit.
    async fn link_jobs(&self, jobs: Vec<Job>) -> Result<()> {
        let link = self.options.link.clone();
        let outcomes = transact(&*self.store, move |tx| {
            Box::pin(async move {
                let mut outcomes = Vec::new();
                for job in jobs {
                    outcomes.extend(link_job(tx, job, &link).await.map_err(into_store_error)?);
                }
                Ok(outcomes)
            })
        })
        .await?;
        let created = outcomes
            .iter()
            .filter(|o| matches!(o, Linked::Created { .. }))
            .count() as u64;
        let duplicates = outcomes
            .iter()
            .filter(|o| matches!(o, Linked::Duplicate(_)))
            .count() as u64;
        metrics::processed("linked", created);
        metrics::processed("duplicate", duplicates);
        Ok(())
    }

    async fn dead_letter_link(
        &self,
        seq: i64,
        channel_account: ChannelAccountId,
        err: &PipelineError,
    ) {
        tracing::error!(seq, error = %err, "linking failed; dead-lettered");
        let letter = NewDeadLetter {
            source: DeadLetterSource::Inbound,
            journal_seq: Some(seq),
            outbox_id: None,
            channel_account,
            plugin: "silta".into(),
            stage: "link".into(),
            error_kind: "store".into(),
            message: err.to_string(),
            at: Timestamp::now(),
        };
        let stored = transact(&*self.store, move |tx| {
            Box::pin(async move { dead_letter_entry(tx, seq, &letter).await })
        })
        .await;
        match stored {
            Ok(()) => metrics::dead_letter("inbound", "link", "store"),
            Err(err) => {
                tracing::error!(seq, error = %err, "could not dead-letter; the entry stays pending")
            }
        }
    }

    /// Replay a dead-lettered journal entry now, outside the workers:
    /// normalize, link, mark it done and remove dead letter `dead_letter`,
    /// in one unit. If the plugin fails again, the dead letter counts
    /// another attempt and the failure is returned.
    pub async fn replay_entry(&self, seq: i64, dead_letter: i64) -> Result<Vec<Linked>> {
        let entry =
            self.store
                .journal_entry(seq)
                .await?
                .ok_or_else(|| PipelineError::NotFound {
                    what: "journal entry",
                    id: seq.to_string(),
                })?;
        let channel = self.channels.by_id(entry.entry.channel_account)?;
        let plugin = channel.plugin.id().to_string();
        let items =
            self.normalize_entry(&channel, &entry)
                .await
                .map_err(|()| PipelineError::Plugin {
                    plugin,
                    stage: "normalize",
                    kind: "normalize".into(),
                    message: "the plugin failed again; the dead letter counts the attempt".into(),
                    retry_after_seconds: None,
                })?;
        let job = Job {
            seq,
            channel,
            items,
            parties: HashMap::new(),
        };
        let link = self.options.link.clone();
        let outcomes = transact(&*self.store, move |tx| {
            Box::pin(async move {
                let outcomes = link_job(tx, job, &link).await.map_err(into_store_error)?;
                tx.remove_dead_letter(dead_letter).await?;
                Ok(outcomes)
            })
        })
        .await?;
        Ok(outcomes)
    }
}

/// Link one job's items and mark its entry done.
async fn link_job(tx: &mut dyn StoreTx, mut job: Job, link: &LinkOptions) -> Result<Vec<Linked>> {
    let mut outcomes = Vec::with_capacity(job.items.len());
    let account = job.channel.record.id;
    for item in job.items {
        match item {
            Normalized::Interaction(normalized) => {
                // The bytes first: the interaction must never name a
                // hash that is not stored.
                for (hash, bytes) in &normalized.blobs {
                    tx.put_blob(hash, bytes).await?;
                }
                let key = (normalized.sender.key(), account);
                let resolution = match job.parties.remove(&key) {
                    Some(resolution) => resolution,
                    None => {
                        let claimant = Claimant {
                            plugin: &job.channel.record.plugin,
                            channel_account: account,
                        };
                        resolve_sender(tx, &normalized.sender, claimant).await?
                    }
                };
                let linked = linking::link_interaction(
                    tx,
                    normalized.interaction,
                    &resolution,
                    &linking::LinkChannel {
                        id: account,
                        name: &job.channel.record.name,
                        per_contact: job.channel.plugin.manifest().threading
                            == Threading::PerContact,
                    },
                    Some(job.seq),
                    link,
                )
                .await?;
                job.parties.insert(key, resolution);
                outcomes.push(linked);
            }
            Normalized::DeliveryUpdate(update) => {
                let outcome = linking::record_delivery(tx, &update, account).await?;
                if let Linked::DeliveryUnmatched(id) = &outcome {
                    tracing::warn!(provider_message_id = %id, seq = job.seq,
                        "delivery report for a message Silta did not send; kept in the journal only");
                }
                outcomes.push(outcome);
            }
        }
    }
    tx.set_journal_state(job.seq, JournalState::Done).await?;
    Ok(outcomes)
}

/// Mark a journal entry dead and record (or update) its dead letter.
async fn dead_letter_entry(
    tx: &mut dyn StoreTx,
    seq: i64,
    letter: &NewDeadLetter,
) -> silta_store::Result<()> {
    tx.set_journal_state(seq, JournalState::Dead).await?;
    let id = tx.put_dead_letter(letter).await?;
    tx.append_event(&events::dead_lettered(id, letter)).await?;
    Ok(())
}

fn shard_of(party: Option<PartyId>, seq: i64, shards: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    match party {
        Some(party) => party.hash(&mut hasher),
        None => seq.hash(&mut hasher),
    }
    usize::try_from(hasher.finish() % shards.max(1) as u64).unwrap_or(0)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
