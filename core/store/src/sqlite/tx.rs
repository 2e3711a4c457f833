//! [`StoreTx`] on the writer's connection.
//!
//! Every statement is prepared once and cached on the connection; each call
//! is a synchronous SQLite call on the writer thread.

use rusqlite::{Connection, OptionalExtension, Params, params};
use serde::de::DeserializeOwned;
use silta_model::{
    BackofficeLink, Case, CaseId, ChannelAccountId, ContentHash, Conversation, ConversationId,
    Direction, IdempotencyKey, Identity, IdentityKey, Interaction, InteractionId, MergeId,
    MergeRecord, Party, PartyId, PartyRecords, ThreadKey, Timestamp,
};

use crate::error::{Result, StoreError};
use crate::records::{
    ChannelAccountRecord, JournalState, MailboxCheckpoint, NewDeadLetter, NewEvent,
    NewJournalEntry, OutboxItem, OutboxState, StoredEvent, WebhookSubscription,
};
use crate::sqlite::codec::{from_json, key_columns, millis, scope_column, to_json};
use crate::sqlite::rows;
use crate::store::StoreTx;

mod enrichment;
mod graph;

/// One unit of work inside the writer's open transaction.
pub(crate) struct SqliteTx<'c> {
    pub(super) conn: &'c mut Connection,
    last_event: Option<i64>,
}

impl<'c> SqliteTx<'c> {
    pub(crate) fn new(conn: &'c mut Connection) -> Self {
        Self {
            conn,
            last_event: None,
        }
    }

    /// The seq of the last event this unit published.
    pub(crate) fn last_event(&self) -> Option<i64> {
        self.last_event
    }

    /// Run a statement; returns the rows it changed.
    pub(super) fn execute(
        &self,
        operation: &'static str,
        sql: &str,
        params: impl Params,
    ) -> Result<usize> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut statement| statement.execute(params))
            .map_err(StoreError::db(operation))
    }

    /// The first row's value of column 0 (`RETURNING seq`, `SELECT id`).
    pub(super) fn value<T: rusqlite::types::FromSql>(
        &self,
        operation: &'static str,
        sql: &str,
        params: impl Params,
    ) -> Result<Option<T>> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut statement| statement.query_row(params, |row| row.get(0)).optional())
            .map_err(StoreError::db(operation))
    }

    /// The `data` documents of rows selected as `id, data`.
    pub(super) fn docs<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        what: &'static str,
        sql: &str,
        params: impl Params,
    ) -> Result<Vec<T>> {
        let raw: Vec<(String, String)> = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut statement| {
                statement
                    .query_map(params, |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .map_err(StoreError::db(operation))?;
        raw.iter()
            .map(|(id, data)| from_json(what, id, data))
            .collect()
    }

    /// The `data` document of the first row selected as `id, data`.
    pub(super) fn doc<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        what: &'static str,
        sql: &str,
        params: impl Params,
    ) -> Result<Option<T>> {
        let raw: Option<(String, String)> = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut statement| {
                statement
                    .query_row(params, |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(StoreError::db(operation))?;
        raw.map(|(id, data)| from_json(what, &id, &data))
            .transpose()
    }
}

/// The text key of a thread key: kind and value, so a Message-ID and a
/// provider thread id with the same text do not collide.
pub(crate) fn thread_key_column(key: &ThreadKey) -> String {
    let kind = match key {
        // A message's own id, and the ids it refers to, are one namespace:
        // a reply's In-Reply-To is the original's Message-ID.
        ThreadKey::MessageId(_) | ThreadKey::InReplyTo(_) | ThreadKey::References(_) => "msgid",
        ThreadKey::ReplyToken(_) => "token",
        ThreadKey::ProviderThread(_) => "thread",
        ThreadKey::ReplyToProviderMessage(_) => "provider_msg",
    };
    format!("{kind}:{}", key.value())
}

fn is_unique_violation(err: &StoreError) -> bool {
    let StoreError::Database { source, .. } = err else {
        return false;
    };
    matches!(
        source.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(failure, _))
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

#[async_trait::async_trait]
impl StoreTx for SqliteTx<'_> {
    async fn append_journal(&mut self, entry: &NewJournalEntry) -> Result<i64> {
        let transport = to_json("journal transport", &entry.transport)?;
        let seq = self.value(
            "append to journal",
            "INSERT INTO journal (channel_account, received_at, transport, body) \
             VALUES (?, ?, ?, ?) RETURNING seq",
            params![
                entry.channel_account.to_string(),
                entry.received_at.to_rfc3339(),
                transport,
                entry.body.as_slice()
            ],
        )?;
        seq.ok_or_else(|| StoreError::Aborted("the journal insert returned no seq".into()))
    }

    async fn set_journal_state(&mut self, seq: i64, state: JournalState) -> Result<()> {
        self.execute(
            "set journal state",
            "UPDATE journal SET state = ?, processed_at = ? WHERE seq = ?",
            params![
                state.as_str(),
                (state != JournalState::Pending).then(|| Timestamp::now().to_rfc3339()),
                seq
            ],
        )?;
        Ok(())
    }

    async fn register_channel_account(
        &mut self,
        name: &str,
        plugin: &str,
    ) -> Result<ChannelAccountRecord> {
        let existing: Option<String> = self.value(
            "read channel account",
            "SELECT id FROM channel_accounts WHERE name = ?",
            [name],
        )?;
        let id = match existing {
            Some(id) => {
                self.execute(
                    "update channel account",
                    "UPDATE channel_accounts SET plugin = ? WHERE name = ?",
                    [plugin, name],
                )?;
                rows::parse_id::<ChannelAccountId>("channel account", &id)?
            }
            None => {
                let id = ChannelAccountId::new();
                self.execute(
                    "register channel account",
                    "INSERT INTO channel_accounts (name, id, plugin, created_at) VALUES (?, ?, ?, ?)",
                    params![name, id.to_string(), plugin, Timestamp::now().to_rfc3339()],
                )?;
                id
            }
        };
        Ok(ChannelAccountRecord {
            name: name.to_owned(),
            id,
            plugin: plugin.to_owned(),
        })
    }

    async fn identity_by_key(&mut self, key: &IdentityKey) -> Result<Option<Identity>> {
        let (kind, scope, value) = key_columns(key);
        self.doc(
            "find identity",
            "identity",
            "SELECT id, data FROM identities WHERE kind = ? AND scope = ? AND value = ?",
            [kind, scope, value],
        )
    }

    async fn insert_identity(&mut self, identity: &Identity) -> Result<()> {
        let data = to_json("identity", identity)?;
        let result = self.execute(
            "insert identity",
            "INSERT INTO identities (id, kind, scope, value, party_id, data) VALUES (?, ?, ?, ?, ?, ?)",
            params![
                identity.id.to_string(),
                identity.kind().name(),
                scope_column(identity.scope()),
                identity.value(),
                identity.party_id.map(|p| p.to_string()),
                data
            ],
        );
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict {
                what: "identity",
                key: format!(
                    "{}/{}/{}",
                    identity.kind().name(),
                    scope_column(identity.scope()),
                    identity.value()
                ),
            }),
            Err(err) => Err(err),
        }
    }

    async fn party(&mut self, id: PartyId) -> Result<Option<Party>> {
        self.doc(
            "read party",
            "party",
            "SELECT id, data FROM parties WHERE id = ?",
            [id.to_string()],
        )
    }

    async fn insert_party(&mut self, party: &Party) -> Result<()> {
        self.execute(
            "insert party",
            "INSERT INTO parties (id, merged_into, created_ms, data) VALUES (?, ?, ?, ?)",
            params![
                party.id.to_string(),
                party.merged_into.map(|p| p.to_string()),
                millis(&party.created_at),
                to_json("party", party)?
            ],
        )?;
        Ok(())
    }

    async fn update_party(&mut self, party: &Party) -> Result<()> {
        self.execute(
            "update party",
            "UPDATE parties SET merged_into = ?, data = ? WHERE id = ?",
            params![
                party.merged_into.map(|p| p.to_string()),
                to_json("party", party)?,
                party.id.to_string()
            ],
        )?;
        Ok(())
    }

    async fn conversation_by_thread_keys(
        &mut self,
        channel_account: ChannelAccountId,
        keys: &[ThreadKey],
    ) -> Result<Option<(Conversation, ThreadKey)>> {
        let account = channel_account.to_string();
        for key in keys {
            let found = self.doc(
                "find conversation by thread key",
                "conversation",
                "SELECT c.id, c.data FROM thread_keys k JOIN conversations c ON c.id = k.conversation_id \
                 WHERE k.channel_account = ? AND k.key = ?",
                [account.as_str(), thread_key_column(key).as_str()],
            )?;
            if let Some(conversation) = found {
                return Ok(Some((conversation, key.clone())));
            }
        }
        Ok(None)
    }

    async fn conversation(&mut self, id: ConversationId) -> Result<Option<Conversation>> {
        self.doc(
            "read conversation",
            "conversation",
            "SELECT id, data FROM conversations WHERE id = ?",
            [id.to_string()],
        )
    }

    async fn save_conversation(
        &mut self,
        conversation: &Conversation,
        new_keys: &[ThreadKey],
    ) -> Result<()> {
        let id = conversation.id.to_string();
        let account = conversation.channel_account_id.to_string();
        self.execute(
            "save conversation",
            "INSERT INTO conversations (id, channel_account, party_id, case_id, data) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET party_id = excluded.party_id, case_id = excluded.case_id, data = excluded.data",
            params![
                id,
                account,
                conversation.party_id.to_string(),
                conversation.case_id.map(|c| c.to_string()),
                to_json("conversation", conversation)?
            ],
        )?;
        for key in new_keys {
            self.execute(
                "claim thread key",
                "INSERT INTO thread_keys (channel_account, key, conversation_id) VALUES (?, ?, ?) \
                 ON CONFLICT DO NOTHING",
                [
                    account.as_str(),
                    thread_key_column(key).as_str(),
                    id.as_str(),
                ],
            )?;
        }
        Ok(())
    }

    async fn open_case_of_party(&mut self, party: PartyId) -> Result<Option<Case>> {
        self.doc(
            "find open case",
            "case",
            "SELECT id, data FROM cases WHERE party_id = ? AND status IN ('open', 'pending') \
             ORDER BY opened_ms DESC, id DESC LIMIT 1",
            [party.to_string()],
        )
    }

    async fn case(&mut self, id: CaseId) -> Result<Option<Case>> {
        self.doc(
            "read case",
            "case",
            "SELECT id, data FROM cases WHERE id = ?",
            [id.to_string()],
        )
    }

    async fn save_case(&mut self, case: &Case) -> Result<()> {
        self.execute(
            "save case",
            "INSERT INTO cases (id, party_id, status, opened_ms, data) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET party_id = excluded.party_id, status = excluded.status, data = excluded.data",
            params![
                case.id.to_string(),
                case.party_id.to_string(),
                case.status.as_str(),
                millis(&case.opened_at),
                to_json("case", case)?
            ],
        )?;
        Ok(())
    }

    async fn interaction_by_idempotency_key(
        &mut self,
        key: &IdempotencyKey,
    ) -> Result<Option<Interaction>> {
        self.doc(
            "find interaction by idempotency key",
            "interaction",
            "SELECT id, data FROM interactions WHERE idem_account = ? AND idem_provider = ? AND idem_message = ?",
            params![
                key.channel_account().to_string(),
                key.provider(),
                key.provider_message_id()
            ],
        )
    }

    async fn interaction(&mut self, id: InteractionId) -> Result<Option<Interaction>> {
        self.doc(
            "read interaction",
            "interaction",
            "SELECT id, data FROM interactions WHERE id = ?",
            [id.to_string()],
        )
    }

    async fn latest_interaction(
        &mut self,
        conversation: ConversationId,
        direction: Direction,
    ) -> Result<Option<Interaction>> {
        self.doc(
            "find latest interaction",
            "interaction",
            "SELECT id, data FROM interactions WHERE conversation_id = ? AND direction = ? \
             ORDER BY occurred_ms DESC, id DESC LIMIT 1",
            [
                conversation.to_string(),
                rows::direction(direction).to_owned(),
            ],
        )
    }

    async fn party_identities(&mut self, party: PartyId) -> Result<Vec<Identity>> {
        self.docs(
            "list identities",
            "identity",
            "SELECT id, data FROM identities WHERE party_id = ? ORDER BY id",
            [party.to_string()],
        )
    }

    async fn interaction_by_provider_message_id(
        &mut self,
        channel_account: ChannelAccountId,
        provider_message_id: &str,
    ) -> Result<Option<Interaction>> {
        self.doc(
            "find interaction by provider id",
            "interaction",
            "SELECT id, data FROM interactions WHERE idem_account = ? AND provider_message_id = ? LIMIT 1",
            params![channel_account.to_string(), provider_message_id],
        )
    }

    async fn insert_interaction(
        &mut self,
        interaction: &Interaction,
        journal_seq: Option<i64>,
    ) -> Result<bool> {
        let key = &interaction.idempotency_key;
        let provider_message_id = match interaction.direction {
            silta_model::Direction::Inbound => Some(key.provider_message_id()),
            silta_model::Direction::Outbound => None,
        };
        let inserted = self.execute(
            "insert interaction",
            "INSERT INTO interactions (id, idem_account, idem_provider, idem_message, party_id, \
             conversation_id, case_id, direction, occurred_ms, provider_message_id, journal_seq, data) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (idem_account, idem_provider, idem_message) DO NOTHING",
            params![
                interaction.id.to_string(),
                key.channel_account().to_string(),
                key.provider(),
                key.provider_message_id(),
                interaction.party_id.map(|p| p.to_string()),
                interaction.conversation_id.map(|c| c.to_string()),
                interaction.case_id.map(|c| c.to_string()),
                rows::direction(interaction.direction),
                millis(&interaction.occurred_at),
                provider_message_id,
                journal_seq,
                to_json("interaction", interaction)?
            ],
        )?;
        Ok(inserted == 1)
    }

    async fn update_interaction(
        &mut self,
        interaction: &Interaction,
        provider_message_id: Option<&str>,
    ) -> Result<()> {
        self.execute(
            "update interaction",
            "UPDATE interactions SET party_id = ?, conversation_id = ?, case_id = ?, \
             provider_message_id = COALESCE(?, provider_message_id), data = ? WHERE id = ?",
            params![
                interaction.party_id.map(|p| p.to_string()),
                interaction.conversation_id.map(|c| c.to_string()),
                interaction.case_id.map(|c| c.to_string()),
                provider_message_id,
                to_json("interaction", interaction)?,
                interaction.id.to_string()
            ],
        )?;
        Ok(())
    }

    async fn append_event(&mut self, event: &NewEvent) -> Result<StoredEvent> {
        let id = uuid::Uuid::now_v7().to_string();
        let time = Timestamp::now();
        let seq: i64 = self
            .value(
                "append event",
                "INSERT INTO events (id, type, subject, time, data) VALUES (?, ?, ?, ?, ?) RETURNING seq",
                params![
                    id,
                    event.event_type,
                    event.subject,
                    time.to_rfc3339(),
                    to_json("event", &event.data)?
                ],
            )?
            .ok_or_else(|| StoreError::Aborted("the event insert returned no seq".into()))?;
        self.last_event = Some(seq);
        Ok(StoredEvent {
            seq,
            id,
            event_type: event.event_type.clone(),
            subject: event.subject.clone(),
            time,
            data: event.data.clone(),
        })
    }

    async fn put_dead_letter(&mut self, letter: &NewDeadLetter) -> Result<i64> {
        let at = letter.at.to_rfc3339();
        let existing: Option<i64> = self.value(
            "find dead letter",
            "SELECT id FROM dead_letters WHERE (journal_seq IS NOT NULL AND journal_seq = ?) \
             OR (outbox_id IS NOT NULL AND outbox_id = ?)",
            params![letter.journal_seq, letter.outbox_id],
        )?;
        if let Some(id) = existing {
            self.execute(
                "update dead letter",
                "UPDATE dead_letters SET plugin = ?, stage = ?, error_kind = ?, message = ?, \
                 attempts = attempts + 1, last_failed_at = ? WHERE id = ?",
                params![
                    letter.plugin,
                    letter.stage,
                    letter.error_kind,
                    letter.message,
                    at,
                    id
                ],
            )?;
            return Ok(id);
        }
        self.value(
            "insert dead letter",
            "INSERT INTO dead_letters (source, journal_seq, outbox_id, channel_account, plugin, stage, \
             error_kind, message, first_failed_at, last_failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
            params![
                letter.source.as_str(),
                letter.journal_seq,
                letter.outbox_id,
                letter.channel_account.to_string(),
                letter.plugin,
                letter.stage,
                letter.error_kind,
                letter.message,
                at,
                at
            ],
        )?
        .ok_or_else(|| StoreError::Aborted("the dead-letter insert returned no id".into()))
    }

    async fn remove_dead_letter(&mut self, id: i64) -> Result<()> {
        self.execute(
            "remove dead letter",
            "DELETE FROM dead_letters WHERE id = ?",
            [id],
        )?;
        Ok(())
    }

    async fn enqueue_outbox(
        &mut self,
        interaction_id: InteractionId,
        channel_account: ChannelAccountId,
        payload: &serde_json::Value,
        next_attempt_ms: i64,
    ) -> Result<i64> {
        self.value(
            "enqueue outbox",
            "INSERT INTO outbox (interaction_id, channel_account, payload, next_attempt_ms) \
             VALUES (?, ?, ?, ?) RETURNING id",
            params![
                interaction_id.to_string(),
                channel_account.to_string(),
                to_json("outbox payload", payload)?,
                next_attempt_ms
            ],
        )?
        .ok_or_else(|| StoreError::Aborted("the outbox insert returned no id".into()))
    }

    async fn outbox_item(&mut self, id: i64) -> Result<Option<OutboxItem>> {
        let row = self
            .conn
            .prepare_cached(rows::OUTBOX_SELECT_BY_ID)
            .and_then(|mut statement| {
                statement
                    .query_row([id], |row| {
                        Ok(rows::OutboxRow {
                            id: row.get(0)?,
                            interaction_id: row.get(1)?,
                            channel_account: row.get(2)?,
                            payload: row.get(3)?,
                            attempts: row.get(4)?,
                            next_attempt_ms: row.get(5)?,
                            last_error: row.get(6)?,
                        })
                    })
                    .optional()
            })
            .map_err(StoreError::db("read outbox item"))?;
        row.map(rows::OutboxRow::into_item).transpose()
    }

    async fn update_outbox(
        &mut self,
        id: i64,
        state: OutboxState,
        attempts: u32,
        next_attempt_ms: i64,
        last_error: Option<&str>,
    ) -> Result<()> {
        self.execute(
            "update outbox",
            "UPDATE outbox SET state = ?, attempts = ?, next_attempt_ms = ?, last_error = ? WHERE id = ?",
            params![
                state.as_str(),
                i64::from(attempts),
                next_attempt_ms,
                last_error,
                id
            ],
        )?;
        Ok(())
    }

    async fn api_idempotency(&mut self, key: &str) -> Result<Option<(String, InteractionId)>> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT request_hash, interaction_id FROM api_idempotency WHERE key = ?",
            )
            .and_then(|mut statement| {
                statement
                    .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(StoreError::db("read idempotency key"))?;
        row.map(|(hash, id)| Ok((hash, rows::parse_id::<InteractionId>("interaction", &id)?)))
            .transpose()
    }

    async fn put_api_idempotency(
        &mut self,
        key: &str,
        request_hash: &str,
        interaction: InteractionId,
        at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "store idempotency key",
            "INSERT INTO api_idempotency (key, request_hash, interaction_id, created_at) VALUES (?, ?, ?, ?)",
            params![key, request_hash, interaction.to_string(), at.to_rfc3339()],
        )?;
        Ok(())
    }

    async fn kv_set(&mut self, plugin: &str, key: &str, value: &[u8]) -> Result<()> {
        self.execute(
            "set plugin state",
            "INSERT INTO plugin_kv (plugin, key, value) VALUES (?, ?, ?) \
             ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value",
            params![plugin, key, value],
        )?;
        Ok(())
    }

    async fn kv_delete(&mut self, plugin: &str, key: &str) -> Result<()> {
        self.execute(
            "delete plugin state",
            "DELETE FROM plugin_kv WHERE plugin = ? AND key = ?",
            [plugin, key],
        )?;
        Ok(())
    }

    async fn insert_webhook_subscription(&mut self, sub: &WebhookSubscription) -> Result<()> {
        self.execute(
            "insert webhook subscription",
            "INSERT INTO webhook_subscriptions (id, url, secret, types, cursor, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            params![
                sub.id,
                sub.url,
                sub.secret,
                to_json("subscription types", &sub.types)?,
                sub.cursor,
                sub.created_at.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    async fn delete_webhook_subscription(&mut self, id: &str) -> Result<bool> {
        let deleted = self.execute(
            "delete webhook subscription",
            "DELETE FROM webhook_subscriptions WHERE id = ?",
            [id],
        )?;
        Ok(deleted > 0)
    }

    async fn set_mailbox_checkpoint(
        &mut self,
        channel_account: ChannelAccountId,
        mailbox: &str,
        checkpoint: MailboxCheckpoint,
    ) -> Result<()> {
        self.execute(
            "set mailbox checkpoint",
            "INSERT INTO mailbox_checkpoints (channel_account, mailbox, uid_validity, last_uid, updated_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_account, mailbox) DO UPDATE SET \
             uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            params![
                channel_account.to_string(),
                mailbox,
                checkpoint.uid_validity,
                checkpoint.last_uid,
                Timestamp::now().to_rfc3339()
            ],
        )?;
        Ok(())
    }

    async fn put_blob(&mut self, hash: &ContentHash, bytes: &[u8]) -> Result<bool> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let inserted = self.execute(
            "store blob",
            "INSERT INTO blobs (hash, size, bytes, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (hash) DO NOTHING",
            params![hash.as_str(), size, bytes, Timestamp::now().to_rfc3339()],
        )?;
        Ok(inserted == 1)
    }

    async fn advance_webhook_cursor(&mut self, id: &str, cursor: i64) -> Result<()> {
        self.execute(
            "advance webhook cursor",
            "UPDATE webhook_subscriptions SET cursor = MAX(cursor, ?) WHERE id = ?",
            params![cursor, id],
        )?;
        Ok(())
    }

    async fn update_identity(&mut self, identity: &Identity) -> Result<()> {
        self.update_identity_row(identity)
    }

    async fn move_party_records(&mut self, from: PartyId, to: PartyId) -> Result<PartyRecords> {
        self.move_party_rows(from, to)
    }

    async fn move_records(&mut self, records: &PartyRecords, to: PartyId) -> Result<()> {
        self.move_record_rows(records, to)
    }

    async fn move_conversation_interactions(
        &mut self,
        conversation: ConversationId,
        case: CaseId,
    ) -> Result<()> {
        self.execute(
            "move a conversation's interactions",
            "UPDATE interactions SET case_id = ?1, data = json_set(data, '$.case_id', ?1) \
             WHERE conversation_id = ?2",
            params![case.to_string(), conversation.to_string()],
        )?;
        Ok(())
    }

    async fn save_merge(&mut self, merge: &MergeRecord) -> Result<()> {
        self.save_merge_row(merge)
    }

    async fn merge(&mut self, id: MergeId) -> Result<Option<MergeRecord>> {
        self.merge_row(id)
    }

    async fn later_merges(&mut self, party: PartyId, after: Timestamp) -> Result<Vec<MergeId>> {
        self.later_merge_rows(party, after)
    }

    async fn enqueue_enrichment(
        &mut self,
        interaction: InteractionId,
        plugin: &str,
        due_ms: i64,
    ) -> Result<()> {
        self.enqueue_enrichment_row(interaction, plugin, due_ms)
    }

    async fn finish_enrichment(&mut self, id: i64) -> Result<()> {
        self.finish_enrichment_row(id)
    }

    async fn fail_enrichment(
        &mut self,
        id: i64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
        give_up: bool,
    ) -> Result<()> {
        self.fail_enrichment_row(id, attempts, next_attempt_ms, error, give_up)
    }

    async fn pending_enrichment(&mut self, interaction: InteractionId) -> Result<u32> {
        self.pending_enrichment_rows(interaction)
    }

    async fn save_lookup(
        &mut self,
        party: PartyId,
        plugin: &str,
        fetched_ms: i64,
        expires_ms: i64,
        links: &[BackofficeLink],
    ) -> Result<()> {
        self.save_lookup_rows(party, plugin, fetched_ms, expires_ms, links)
    }

    async fn party_links(&mut self, party: PartyId) -> Result<Vec<BackofficeLink>> {
        self.party_link_rows(party)
    }
}
