//! The backend-neutral store interface.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use silta_model::{
    BackofficeLink, Case, CaseId, ChannelAccountId, ContentHash, Conversation, ConversationId,
    Direction, IdempotencyKey, Identity, IdentityKey, Interaction, InteractionId, MergeId,
    MergeRecord, Party, PartyId, PartyRecords, ThreadKey, Timestamp,
};
use tokio::sync::watch;

use crate::error::{Result, StoreError};
use crate::records::{
    ChannelAccountRecord, Cursor, DeadLetter, DeadLetterFilter, EnrichmentJob, InteractionsOf,
    JournalEntry, JournalState, MailboxCheckpoint, NewDeadLetter, NewEvent, NewJournalEntry,
    OutboxItem, OutboxState, Page, QueueDepths, StoredEvent, WebhookSubscription,
};

/// A unit of work: runs against a [`StoreTx`] and either commits whole or
/// not at all.
pub type TxFn = Box<dyn for<'t> FnOnce(&'t mut dyn StoreTx) -> BoxFuture<'t, Result<()>> + Send>;

/// Reads, and the entry point for writes.
///
/// Every write goes through [`Store::run_tx`], so the backend decides how
/// units of work share commits (SQLite: one writer, group commit).
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Run `work` as one atomic unit; returns after it is durable. An
    /// error from `work` rolls back only its own changes.
    async fn run_tx(&self, work: TxFn) -> Result<()>;

    /// Check the store answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Watch the newest event seq; changes after every commit that
    /// published events.
    fn event_watch(&self) -> watch::Receiver<i64>;

    /// Journal entries in `state` after `after_seq`, oldest first.
    async fn journal_entries(
        &self,
        state: JournalState,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<JournalEntry>>;
    /// One journal entry.
    async fn journal_entry(&self, seq: i64) -> Result<Option<JournalEntry>>;
    /// Journal entries per state.
    async fn queue_depths(&self) -> Result<QueueDepths>;

    /// Registered channel accounts.
    async fn channel_accounts(&self) -> Result<Vec<ChannelAccountRecord>>;

    /// A party; follows `merged_into` to the survivor.
    async fn party(&self, id: PartyId) -> Result<Option<Party>>;
    /// A party's identities.
    async fn party_identities(&self, id: PartyId) -> Result<Vec<Identity>>;
    /// A party's back-office records.
    async fn party_links(&self, id: PartyId) -> Result<Vec<BackofficeLink>>;
    /// Interactions of a party (its timeline across channels), a
    /// conversation or a case, oldest first.
    async fn interactions(
        &self,
        of: InteractionsOf,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<Interaction>>;
    /// A conversation.
    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>>;
    /// The conversation on `channel_account` that holds thread key `key`
    /// (read on the pool, without a write transaction).
    async fn conversation_by_thread_key(
        &self,
        channel_account: ChannelAccountId,
        key: &ThreadKey,
    ) -> Result<Option<Conversation>>;
    /// A case.
    async fn case(&self, id: CaseId) -> Result<Option<Case>>;
    /// An interaction.
    async fn interaction(&self, id: InteractionId) -> Result<Option<Interaction>>;
    /// Parties, newest first.
    async fn parties(&self, after: Option<Cursor>, limit: u32) -> Result<Page<Party>>;

    /// Events after `after_seq`, oldest first.
    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<StoredEvent>>;

    /// Dead letters matching `filter`, oldest first.
    async fn dead_letters(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>>;

    /// Outbox items due at `now_ms`, oldest first; of the items to one
    /// recipient on one channel account only the first still pending, so
    /// messages to a chat leave in the order they were queued.
    async fn outbox_due(&self, now_ms: i64, limit: u32) -> Result<Vec<OutboxItem>>;
    /// The earliest `next_attempt_ms` of an outbox item that
    /// [`Store::outbox_due`] could list.
    async fn outbox_next_due(&self) -> Result<Option<i64>>;
    /// The outbox item, if it is still pending and due at `now_ms`: what a
    /// sender checks before an attempt, since the list it read may be older
    /// than another attempt's result.
    async fn outbox_item_due(&self, id: i64, now_ms: i64) -> Result<Option<OutboxItem>>;

    /// Webhook subscriptions.
    async fn webhook_subscriptions(&self) -> Result<Vec<WebhookSubscription>>;

    /// A plugin's value for `key`.
    async fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>>;
    /// A plugin's keys starting with `prefix`, in order.
    async fn kv_keys(&self, plugin: &str, prefix: &str, limit: u32) -> Result<Vec<String>>;
    /// Bytes of keys and values a plugin holds.
    async fn kv_usage(&self, plugin: &str) -> Result<u64>;

    /// Where a polled mailbox of a channel account stands.
    async fn mailbox_checkpoint(
        &self,
        channel_account: ChannelAccountId,
        mailbox: &str,
    ) -> Result<Option<MailboxCheckpoint>>;

    /// The bytes stored under `hash`.
    async fn blob(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>>;
    /// The size of the bytes stored under `hash`, without reading them.
    async fn blob_size(&self, hash: &ContentHash) -> Result<Option<u64>>;

    /// A party as stored, without following `merged_into`.
    async fn party_as_stored(&self, id: PartyId) -> Result<Option<Party>>;
    /// A party's cases, newest first.
    async fn party_cases(&self, id: PartyId) -> Result<Vec<Case>>;
    /// A merge record.
    async fn merge(&self, id: MergeId) -> Result<Option<MergeRecord>>;
    /// The merges that touched a party (as survivor or merged), oldest
    /// first, reverted ones included.
    async fn merges_of_party(&self, id: PartyId) -> Result<Vec<MergeRecord>>;
    /// When a plugin's last lookup of a party expires (milliseconds).
    async fn lookup_expires(&self, party: PartyId, plugin: &str) -> Result<Option<i64>>;
    /// Pending enrichment jobs of `plugin` due at `now_ms`, oldest first.
    async fn enrichment_due(
        &self,
        plugin: &str,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<EnrichmentJob>>;
}

/// Operations inside one unit of work. Reads here see the unit's own
/// writes.
#[async_trait::async_trait]
pub trait StoreTx: Send {
    /// Append a raw inbound event; returns its seq.
    async fn append_journal(&mut self, entry: &NewJournalEntry) -> Result<i64>;
    /// Set a journal entry's state.
    async fn set_journal_state(&mut self, seq: i64, state: JournalState) -> Result<()>;

    /// Register a channel account under `name`, or return the one already
    /// registered (whose plugin is updated).
    async fn register_channel_account(
        &mut self,
        name: &str,
        plugin: &str,
    ) -> Result<ChannelAccountRecord>;

    /// The identity with this (kind, scope, value).
    async fn identity_by_key(&mut self, key: &IdentityKey) -> Result<Option<Identity>>;
    /// Store a new identity; [`StoreError::Conflict`] when its key exists.
    async fn insert_identity(&mut self, identity: &Identity) -> Result<()>;
    /// A party (not following merges).
    async fn party(&mut self, id: PartyId) -> Result<Option<Party>>;
    /// Store a new party.
    async fn insert_party(&mut self, party: &Party) -> Result<()>;
    /// Replace a stored party.
    async fn update_party(&mut self, party: &Party) -> Result<()>;

    /// The conversation on `channel_account` holding any of `keys`, with
    /// the key that matched.
    async fn conversation_by_thread_keys(
        &mut self,
        channel_account: ChannelAccountId,
        keys: &[ThreadKey],
    ) -> Result<Option<(Conversation, ThreadKey)>>;
    /// A conversation.
    async fn conversation(&mut self, id: ConversationId) -> Result<Option<Conversation>>;
    /// Store a conversation (insert or replace) and claim `new_keys` for
    /// it, each unless another conversation holds it already. Pass only
    /// the keys this change adds (a message's own ids, a reply token), so
    /// saving costs the same on the thousandth message as on the first.
    async fn save_conversation(
        &mut self,
        conversation: &Conversation,
        new_keys: &[ThreadKey],
    ) -> Result<()>;

    /// The party's most recently opened case that is not closed.
    async fn open_case_of_party(&mut self, party: PartyId) -> Result<Option<Case>>;
    /// A case.
    async fn case(&mut self, id: CaseId) -> Result<Option<Case>>;
    /// Store a case (insert or replace).
    async fn save_case(&mut self, case: &Case) -> Result<()>;

    /// The interaction with this idempotency key.
    async fn interaction_by_idempotency_key(
        &mut self,
        key: &IdempotencyKey,
    ) -> Result<Option<Interaction>>;
    /// An interaction.
    async fn interaction(&mut self, id: InteractionId) -> Result<Option<Interaction>>;
    /// The newest interaction of a conversation that went `direction`.
    async fn latest_interaction(
        &mut self,
        conversation: ConversationId,
        direction: Direction,
    ) -> Result<Option<Interaction>>;
    /// A party's identities.
    async fn party_identities(&mut self, party: PartyId) -> Result<Vec<Identity>>;
    /// The interaction sent or received on `channel_account` with the
    /// provider's message id.
    async fn interaction_by_provider_message_id(
        &mut self,
        channel_account: ChannelAccountId,
        provider_message_id: &str,
    ) -> Result<Option<Interaction>>;
    /// Store a new interaction; returns false (and stores nothing) when
    /// one with the same idempotency key exists.
    async fn insert_interaction(
        &mut self,
        interaction: &Interaction,
        journal_seq: Option<i64>,
    ) -> Result<bool>;
    /// Replace a stored interaction (links, delivery history), and its
    /// provider message id when known.
    async fn update_interaction(
        &mut self,
        interaction: &Interaction,
        provider_message_id: Option<&str>,
    ) -> Result<()>;

    /// Publish an event; returns it as stored.
    async fn append_event(&mut self, event: &NewEvent) -> Result<StoredEvent>;

    /// Record a failure; a second failure of the same journal entry or
    /// outbox item updates its dead letter and counts the attempt.
    async fn put_dead_letter(&mut self, letter: &NewDeadLetter) -> Result<i64>;
    /// Remove a dead letter (its replay succeeded).
    async fn remove_dead_letter(&mut self, id: i64) -> Result<()>;

    /// Queue an outbound message.
    async fn enqueue_outbox(
        &mut self,
        interaction_id: InteractionId,
        channel_account: ChannelAccountId,
        payload: &serde_json::Value,
        next_attempt_ms: i64,
    ) -> Result<i64>;
    /// An outbox item.
    async fn outbox_item(&mut self, id: i64) -> Result<Option<OutboxItem>>;
    /// Record an attempt's result.
    async fn update_outbox(
        &mut self,
        id: i64,
        state: OutboxState,
        attempts: u32,
        next_attempt_ms: i64,
        last_error: Option<&str>,
    ) -> Result<()>;

    /// The interaction an API idempotency key created, with the request's
    /// hash.
    async fn api_idempotency(&mut self, key: &str) -> Result<Option<(String, InteractionId)>>;
    /// Remember what an API idempotency key created.
    async fn put_api_idempotency(
        &mut self,
        key: &str,
        request_hash: &str,
        interaction: InteractionId,
        at: Timestamp,
    ) -> Result<()>;

    /// Set a plugin's value.
    async fn kv_set(&mut self, plugin: &str, key: &str, value: &[u8]) -> Result<()>;
    /// Delete a plugin's key.
    async fn kv_delete(&mut self, plugin: &str, key: &str) -> Result<()>;

    /// Add a webhook subscription.
    async fn insert_webhook_subscription(&mut self, sub: &WebhookSubscription) -> Result<()>;
    /// Delete a webhook subscription; false when there was none.
    async fn delete_webhook_subscription(&mut self, id: &str) -> Result<bool>;
    /// Move a subscription's cursor forward.
    async fn advance_webhook_cursor(&mut self, id: &str, cursor: i64) -> Result<()>;

    /// Record where a polled mailbox stands (with the journal entry of the
    /// message that moved it).
    async fn set_mailbox_checkpoint(
        &mut self,
        channel_account: ChannelAccountId,
        mailbox: &str,
        checkpoint: MailboxCheckpoint,
    ) -> Result<()>;

    /// Keep `bytes` under their content hash; true when they were new.
    /// The caller computed `hash` with [`ContentHash::of`].
    async fn put_blob(&mut self, hash: &ContentHash, bytes: &[u8]) -> Result<bool>;

    /// Replace a stored identity (its party, assurance, display name).
    async fn update_identity(&mut self, identity: &Identity) -> Result<()>;
    /// Move every identity, conversation, interaction, case and back-office
    /// link of `from` to `to`; returns what moved.
    async fn move_party_records(&mut self, from: PartyId, to: PartyId) -> Result<PartyRecords>;
    /// Move exactly `records` to `to` (an unmerge).
    async fn move_records(&mut self, records: &PartyRecords, to: PartyId) -> Result<()>;
    /// Put every interaction of a conversation in `case`.
    async fn move_conversation_interactions(
        &mut self,
        conversation: ConversationId,
        case: CaseId,
    ) -> Result<()>;
    /// Store a merge record (insert or replace), with the parties it
    /// touched.
    async fn save_merge(&mut self, merge: &MergeRecord) -> Result<()>;
    /// A merge record.
    async fn merge(&mut self, id: MergeId) -> Result<Option<MergeRecord>>;
    /// Unreverted merges that touched `party` after `after`.
    async fn later_merges(&mut self, party: PartyId, after: Timestamp) -> Result<Vec<MergeId>>;

    /// Queue back-office work for an interaction; a second call for the
    /// same interaction and plugin changes nothing.
    async fn enqueue_enrichment(
        &mut self,
        interaction: InteractionId,
        plugin: &str,
        due_ms: i64,
    ) -> Result<()>;
    /// Remove a finished job.
    async fn finish_enrichment(&mut self, id: i64) -> Result<()>;
    /// Record a failed attempt: retried at `next_attempt_ms`, or given up
    /// when `give_up`.
    async fn fail_enrichment(
        &mut self,
        id: i64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
        give_up: bool,
    ) -> Result<()>;
    /// Jobs of an interaction still pending (not given up).
    async fn pending_enrichment(&mut self, interaction: InteractionId) -> Result<u32>;
    /// Record a lookup of a party and replace the links it returned.
    async fn save_lookup(
        &mut self,
        party: PartyId,
        plugin: &str,
        fetched_ms: i64,
        expires_ms: i64,
        links: &[BackofficeLink],
    ) -> Result<()>;
    /// A party's back-office links.
    async fn party_links(&mut self, party: PartyId) -> Result<Vec<BackofficeLink>>;
}

/// Run `work` as one unit of work on `store` and return its value once it
/// is durable.
///
/// ```ignore
/// let seq = transact(store, |tx| Box::pin(async move { tx.append_journal(&entry).await })).await?;
/// ```
pub async fn transact<T, F>(store: &dyn Store, work: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn StoreTx) -> BoxFuture<'t, Result<T>> + Send + 'static,
{
    let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
    let out = Arc::clone(&slot);
    store
        .run_tx(Box::new(move |tx| {
            Box::pin(async move {
                let value = work(tx).await?;
                *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
                Ok(())
            })
        }))
        .await?;
    let value = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    value.ok_or_else(|| StoreError::Aborted("unit of work produced no value".into()))
}
