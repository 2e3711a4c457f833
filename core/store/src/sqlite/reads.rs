//! [`Store`] for [`SqliteStore`]: reads on the pool, writes to the writer.

use silta_model::{
    BackofficeLink, Case, CaseId, ChannelAccountId, ContentHash, Conversation, ConversationId,
    Identity, Interaction, InteractionId, MergeId, MergeRecord, Party, PartyId, ThreadKey,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tokio::sync::watch;

use crate::error::{Result, StoreError};
use crate::records::{
    ChannelAccountRecord, Cursor, DeadLetter, DeadLetterFilter, DeadLetterSource, EnrichmentJob,
    InteractionsOf, JournalEntry, JournalState, MailboxCheckpoint, NewDeadLetter, NewJournalEntry,
    OutboxItem, Page, QueueDepths, StoredEvent, WebhookSubscription,
};
use crate::sqlite::SqliteStore;
use crate::sqlite::codec::{from_json, parse_time};
use crate::sqlite::rows::{self, OUTBOX_COLUMNS, parse_id};
use crate::sqlite::tx::thread_key_column;
use crate::store::{Store, TxFn};

mod graph;

/// How many `merged_into` hops a party lookup follows.
const MAX_MERGE_HOPS: usize = 16;

/// The outbox item `o` is the first still pending to its recipient on its
/// channel account: messages to one chat leave in the order they were
/// queued, even when an earlier one waits for a retry or a rate-limit slot.
/// Items with no recipient in their payload are not ordered.
const FIRST_FOR_RECIPIENT: &str = "NOT EXISTS (SELECT 1 FROM outbox earlier \
     WHERE earlier.state = 'pending' AND earlier.channel_account = o.channel_account \
     AND earlier.recipient = o.recipient AND earlier.id < o.id)";

fn journal_entry(row: &SqliteRow) -> Result<JournalEntry> {
    let seq: i64 = row.get("seq");
    let transport: String = row.get("transport");
    let state: String = row.get("state");
    Ok(JournalEntry {
        seq,
        entry: NewJournalEntry {
            channel_account: parse_id::<ChannelAccountId>(
                "journal channel account",
                &row.get::<String, _>("channel_account"),
            )?,
            received_at: parse_time("journal received_at", &row.get::<String, _>("received_at"))?,
            transport: from_json("journal transport", &seq.to_string(), &transport)?,
            body: row.get("body"),
        },
        state: JournalState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            what: "journal state",
            key: seq.to_string(),
            reason: format!("unknown state {state:?}"),
        })?,
    })
}

fn event(row: &SqliteRow) -> Result<StoredEvent> {
    let seq: i64 = row.get("seq");
    let data: String = row.get("data");
    Ok(StoredEvent {
        seq,
        id: row.get("id"),
        event_type: row.get("type"),
        subject: row.get("subject"),
        time: parse_time("event time", &row.get::<String, _>("time"))?,
        data: from_json("event", &seq.to_string(), &data)?,
    })
}

fn dead_letter(row: &SqliteRow) -> Result<DeadLetter> {
    let id: i64 = row.get("id");
    let source = match row.get::<String, _>("source").as_str() {
        "outbound" => DeadLetterSource::Outbound,
        _ => DeadLetterSource::Inbound,
    };
    let attempts: i64 = row.get("attempts");
    Ok(DeadLetter {
        id,
        failure: NewDeadLetter {
            source,
            journal_seq: row.get("journal_seq"),
            outbox_id: row.get("outbox_id"),
            channel_account: parse_id::<ChannelAccountId>(
                "dead letter channel account",
                &row.get::<String, _>("channel_account"),
            )?,
            plugin: row.get("plugin"),
            stage: row.get("stage"),
            error_kind: row.get("error_kind"),
            message: row.get("message"),
            at: parse_time("dead letter time", &row.get::<String, _>("last_failed_at"))?,
        },
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        first_failed_at: parse_time("dead letter time", &row.get::<String, _>("first_failed_at"))?,
    })
}

impl SqliteStore {
    /// Interactions where `column = value`, by (occurred_ms, id).
    async fn interactions_page(
        &self,
        column: &'static str,
        value: String,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<Interaction>> {
        let limit = limit.clamp(1, 500);
        let (at_ms, after_id) = after.map_or((i64::MIN, String::new()), |c| (c.at_ms, c.id));
        let sql = format!(
            "SELECT id, data, occurred_ms FROM interactions WHERE {column} = ? \
             AND (occurred_ms > ? OR (occurred_ms = ? AND id > ?)) \
             ORDER BY occurred_ms, id LIMIT ?"
        );
        let rows = sqlx::query(&sql)
            .bind(value)
            .bind(at_ms)
            .bind(at_ms)
            .bind(after_id)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db("list interactions"))?;
        rows::page(&rows, limit, "interaction")
    }

    async fn doc_by_id<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        id: String,
        what: &'static str,
    ) -> Result<Option<T>> {
        let row = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db(what))?;
        row.map(|r| rows::doc(&r, what)).transpose()
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn run_tx(&self, work: TxFn) -> Result<()> {
        self.submit(work).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reads)
            .await
            .map_err(StoreError::db("ping"))?;
        if self.writes.is_closed() {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    fn event_watch(&self) -> watch::Receiver<i64> {
        self.events.clone()
    }

    async fn journal_entries(
        &self,
        state: JournalState,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT seq, channel_account, received_at, transport, body, state FROM journal \
             WHERE state = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(state.as_str())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list journal"))?;
        rows.iter().map(journal_entry).collect()
    }

    async fn journal_entry(&self, seq: i64) -> Result<Option<JournalEntry>> {
        let row = sqlx::query(
            "SELECT seq, channel_account, received_at, transport, body, state FROM journal WHERE seq = ?",
        )
        .bind(seq)
        .fetch_optional(&self.reads)
        .await
        .map_err(StoreError::db("read journal entry"))?;
        row.as_ref().map(journal_entry).transpose()
    }

    async fn queue_depths(&self) -> Result<QueueDepths> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM journal WHERE state = 'pending'), \
               (SELECT COUNT(*) FROM outbox WHERE state = 'pending'), \
               (SELECT COUNT(*) FROM dead_letters), \
               (SELECT COALESCE(MAX(seq), 0) FROM events)",
        )
        .fetch_one(&self.reads)
        .await
        .map_err(StoreError::db("count queues"))?;
        Ok(QueueDepths {
            journal_pending: row.get(0),
            outbox_pending: row.get(1),
            dead_letters: row.get(2),
            last_event_seq: row.get(3),
        })
    }

    async fn channel_accounts(&self) -> Result<Vec<ChannelAccountRecord>> {
        let rows = sqlx::query("SELECT name, id, plugin FROM channel_accounts ORDER BY name")
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db("list channel accounts"))?;
        rows.iter()
            .map(|row| {
                Ok(ChannelAccountRecord {
                    name: row.get(0),
                    id: parse_id::<ChannelAccountId>("channel account", &row.get::<String, _>(1))?,
                    plugin: row.get(2),
                })
            })
            .collect()
    }

    async fn party(&self, id: PartyId) -> Result<Option<Party>> {
        let mut id = id;
        for _ in 0..MAX_MERGE_HOPS {
            let party: Option<Party> = self
                .doc_by_id(
                    "SELECT id, data FROM parties WHERE id = ?",
                    id.to_string(),
                    "party",
                )
                .await?;
            match party {
                Some(p) => match p.merged_into {
                    Some(survivor) if survivor != p.id => id = survivor,
                    _ => return Ok(Some(p)),
                },
                None => return Ok(None),
            }
        }
        Err(StoreError::Corrupt {
            what: "party",
            key: id.to_string(),
            reason: "merge chain too long".into(),
        })
    }

    async fn party_identities(&self, id: PartyId) -> Result<Vec<Identity>> {
        let rows = sqlx::query("SELECT id, data FROM identities WHERE party_id = ? ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db("list identities"))?;
        rows.iter().map(|r| rows::doc(r, "identity")).collect()
    }

    async fn party_links(&self, id: PartyId) -> Result<Vec<BackofficeLink>> {
        let rows =
            sqlx::query("SELECT id, data FROM backoffice_links WHERE party_id = ? ORDER BY id")
                .bind(id.to_string())
                .fetch_all(&self.reads)
                .await
                .map_err(StoreError::db("list back-office links"))?;
        rows.iter()
            .map(|r| rows::doc(r, "back-office link"))
            .collect()
    }

    async fn interactions(
        &self,
        of: InteractionsOf,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<Interaction>> {
        let (column, id) = match of {
            InteractionsOf::Party(id) => ("party_id", id.to_string()),
            InteractionsOf::Conversation(id) => ("conversation_id", id.to_string()),
            InteractionsOf::Case(id) => ("case_id", id.to_string()),
        };
        self.interactions_page(column, id, after, limit).await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        self.doc_by_id(
            "SELECT id, data FROM conversations WHERE id = ?",
            id.to_string(),
            "conversation",
        )
        .await
    }

    async fn conversation_by_thread_key(
        &self,
        channel_account: ChannelAccountId,
        key: &ThreadKey,
    ) -> Result<Option<Conversation>> {
        let what = "conversation";
        let row = sqlx::query(
            "SELECT c.id, c.data FROM thread_keys k JOIN conversations c ON c.id = k.conversation_id \
             WHERE k.channel_account = ? AND k.key = ?",
        )
        .bind(channel_account.to_string())
        .bind(thread_key_column(key))
        .fetch_optional(&self.reads)
        .await
        .map_err(StoreError::db("find conversation by thread key"))?;
        row.map(|r| rows::doc(&r, what)).transpose()
    }

    async fn case(&self, id: CaseId) -> Result<Option<Case>> {
        self.doc_by_id(
            "SELECT id, data FROM cases WHERE id = ?",
            id.to_string(),
            "case",
        )
        .await
    }

    async fn interaction(&self, id: InteractionId) -> Result<Option<Interaction>> {
        self.doc_by_id(
            "SELECT id, data FROM interactions WHERE id = ?",
            id.to_string(),
            "interaction",
        )
        .await
    }

    async fn parties(&self, after: Option<Cursor>, limit: u32) -> Result<Page<Party>> {
        let limit = limit.clamp(1, 500);
        let (at_ms, after_id) = after.map_or((i64::MAX, "~".to_owned()), |c| (c.at_ms, c.id));
        let rows = sqlx::query(
            "SELECT id, data, created_ms FROM parties WHERE merged_into IS NULL \
             AND (created_ms < ? OR (created_ms = ? AND id < ?)) \
             ORDER BY created_ms DESC, id DESC LIMIT ?",
        )
        .bind(at_ms)
        .bind(at_ms)
        .bind(after_id)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list parties"))?;
        rows::page(&rows, limit, "party")
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT seq, id, type, subject, time, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list events"))?;
        rows.iter().map(event).collect()
    }

    async fn dead_letters(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT * FROM dead_letters WHERE (? IS NULL OR id = ?) AND (? IS NULL OR plugin = ?) \
             AND (? IS NULL OR stage = ?) AND (? IS NULL OR error_kind = ?) ORDER BY id LIMIT ?",
        )
        .bind(filter.id)
        .bind(filter.id)
        .bind(&filter.plugin)
        .bind(&filter.plugin)
        .bind(&filter.stage)
        .bind(&filter.stage)
        .bind(&filter.error_kind)
        .bind(&filter.error_kind)
        .bind(filter.limit.map_or(i64::MAX, i64::from))
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list dead letters"))?;
        rows.iter().map(dead_letter).collect()
    }

    async fn outbox_due(&self, now_ms: i64, limit: u32) -> Result<Vec<OutboxItem>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE state = 'pending' AND next_attempt_ms <= ? \
             AND {FIRST_FOR_RECIPIENT} ORDER BY next_attempt_ms, id LIMIT ?"
        );
        let rows = sqlx::query(&sql)
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db("list due outbox"))?;
        rows.iter().map(rows::outbox_item).collect()
    }

    async fn outbox_item_due(&self, id: i64, now_ms: i64) -> Result<Option<OutboxItem>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox \
             WHERE id = ? AND state = 'pending' AND next_attempt_ms <= ?"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(now_ms)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db("read due outbox item"))?;
        row.as_ref().map(rows::outbox_item).transpose()
    }

    async fn outbox_next_due(&self) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT MIN(next_attempt_ms) FROM outbox o WHERE state = 'pending' AND {FIRST_FOR_RECIPIENT}"
        );
        sqlx::query_scalar(&sql)
            .fetch_one(&self.reads)
            .await
            .map_err(StoreError::db("next due outbox"))
    }

    async fn webhook_subscriptions(&self) -> Result<Vec<WebhookSubscription>> {
        let rows = sqlx::query(
            "SELECT id, url, secret, types, cursor, created_at FROM webhook_subscriptions ORDER BY created_at, id",
        )
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list webhook subscriptions"))?;
        rows.iter()
            .map(|row| {
                let id: String = row.get(0);
                let types: String = row.get(3);
                Ok(WebhookSubscription {
                    types: from_json("subscription types", &id, &types)?,
                    url: row.get(1),
                    secret: row.get(2),
                    cursor: row.get(4),
                    created_at: parse_time("subscription time", &row.get::<String, _>(5))?,
                    id,
                })
            })
            .collect()
    }

    async fn mailbox_checkpoint(
        &self,
        channel_account: ChannelAccountId,
        mailbox: &str,
    ) -> Result<Option<MailboxCheckpoint>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT uid_validity, last_uid FROM mailbox_checkpoints \
             WHERE channel_account = ? AND mailbox = ?",
        )
        .bind(channel_account.to_string())
        .bind(mailbox)
        .fetch_optional(&self.reads)
        .await
        .map_err(StoreError::db("read mailbox checkpoint"))?;
        row.map(|(uid_validity, last_uid)| {
            Ok(MailboxCheckpoint {
                uid_validity: u32_column("uid_validity", uid_validity)?,
                last_uid: u32_column("last_uid", last_uid)?,
            })
        })
        .transpose()
    }

    async fn blob(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT bytes FROM blobs WHERE hash = ?")
            .bind(hash.as_str())
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db("read blob"))
    }

    async fn blob_size(&self, hash: &ContentHash) -> Result<Option<u64>> {
        let size: Option<i64> = sqlx::query_scalar("SELECT size FROM blobs WHERE hash = ?")
            .bind(hash.as_str())
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db("read blob size"))?;
        Ok(size.map(|s| u64::try_from(s).unwrap_or(0)))
    }

    async fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT value FROM plugin_kv WHERE plugin = ? AND key = ?")
            .bind(plugin)
            .bind(key)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db("read plugin state"))
    }

    async fn kv_keys(&self, plugin: &str, prefix: &str, limit: u32) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT key FROM plugin_kv WHERE plugin = ? AND substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?",
        )
        .bind(plugin)
        .bind(prefix)
        .bind(prefix)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db("list plugin state"))
    }

    async fn kv_usage(&self, plugin: &str) -> Result<u64> {
        let bytes: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(length(CAST(key AS BLOB)) + length(value)), 0) FROM plugin_kv WHERE plugin = ?",
        )
        .bind(plugin)
        .fetch_one(&self.reads)
        .await
        .map_err(StoreError::db("measure plugin state"))?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    async fn party_as_stored(&self, id: PartyId) -> Result<Option<Party>> {
        self.party_row(id).await
    }

    async fn party_cases(&self, id: PartyId) -> Result<Vec<Case>> {
        self.party_case_rows(id).await
    }

    async fn merge(&self, id: MergeId) -> Result<Option<MergeRecord>> {
        self.merge_by_id(id).await
    }

    async fn merges_of_party(&self, id: PartyId) -> Result<Vec<MergeRecord>> {
        self.merge_rows_of_party(id).await
    }

    async fn lookup_expires(&self, party: PartyId, plugin: &str) -> Result<Option<i64>> {
        self.lookup_expires_row(party, plugin).await
    }

    async fn enrichment_due(
        &self,
        plugin: &str,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<EnrichmentJob>> {
        self.enrichment_due_rows(plugin, now_ms, limit).await
    }
}

fn u32_column(what: &'static str, raw: i64) -> Result<u32> {
    u32::try_from(raw).map_err(|err| StoreError::Corrupt {
        what,
        key: raw.to_string(),
        reason: err.to_string(),
    })
}
