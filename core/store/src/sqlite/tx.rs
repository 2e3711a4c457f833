//! [`StoreTx`] on the writer's connection.

use silta_model::{
    Case, CaseId, ChannelAccountId, Conversation, ConversationId, IdempotencyKey, Identity,
    IdentityKey, Interaction, InteractionId, Party, PartyId, ThreadKey, Timestamp,
};
use sqlx::{Row, SqliteConnection};

use crate::error::{Result, StoreError};
use crate::records::{
    ChannelAccountRecord, JournalState, NewDeadLetter, NewEvent, NewJournalEntry, OutboxItem,
    OutboxState, StoredEvent, WebhookSubscription,
};
use crate::sqlite::codec::{key_columns, millis, scope_column, to_json};
use crate::sqlite::rows;
use crate::store::StoreTx;

/// One unit of work inside the writer's open transaction.
pub(crate) struct SqliteTx<'c> {
    conn: &'c mut SqliteConnection,
    last_event: Option<i64>,
}

impl<'c> SqliteTx<'c> {
    pub(crate) fn new(conn: &'c mut SqliteConnection) -> Self {
        Self {
            conn,
            last_event: None,
        }
    }

    /// The seq of the last event this unit published.
    pub(crate) fn last_event(&self) -> Option<i64> {
        self.last_event
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

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait::async_trait]
impl StoreTx for SqliteTx<'_> {
    async fn append_journal(&mut self, entry: &NewJournalEntry) -> Result<i64> {
        let transport = to_json("journal transport", &entry.transport)?;
        let row = sqlx::query(
            "INSERT INTO journal (channel_account, received_at, transport, body) \
             VALUES (?, ?, ?, ?) RETURNING seq",
        )
        .bind(entry.channel_account.to_string())
        .bind(entry.received_at.to_rfc3339())
        .bind(transport)
        .bind(entry.body.as_slice())
        .fetch_one(&mut *self.conn)
        .await
        .map_err(StoreError::db("append to journal"))?;
        Ok(row.get(0))
    }

    async fn set_journal_state(&mut self, seq: i64, state: JournalState) -> Result<()> {
        sqlx::query("UPDATE journal SET state = ?, processed_at = ? WHERE seq = ?")
            .bind(state.as_str())
            .bind((state != JournalState::Pending).then(|| Timestamp::now().to_rfc3339()))
            .bind(seq)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("set journal state"))?;
        Ok(())
    }

    async fn register_channel_account(
        &mut self,
        name: &str,
        plugin: &str,
    ) -> Result<ChannelAccountRecord> {
        let existing = sqlx::query("SELECT id FROM channel_accounts WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(StoreError::db("read channel account"))?;
        let id = match existing {
            Some(row) => {
                sqlx::query("UPDATE channel_accounts SET plugin = ? WHERE name = ?")
                    .bind(plugin)
                    .bind(name)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(StoreError::db("update channel account"))?;
                rows::parse_id::<ChannelAccountId>("channel account", &row.get::<String, _>(0))?
            }
            None => {
                let id = ChannelAccountId::new();
                sqlx::query(
                    "INSERT INTO channel_accounts (name, id, plugin, created_at) VALUES (?, ?, ?, ?)",
                )
                .bind(name)
                .bind(id.to_string())
                .bind(plugin)
                .bind(Timestamp::now().to_rfc3339())
                .execute(&mut *self.conn)
                .await
                .map_err(StoreError::db("register channel account"))?;
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
        let row = sqlx::query(
            "SELECT id, data FROM identities WHERE kind = ? AND scope = ? AND value = ?",
        )
        .bind(kind)
        .bind(scope)
        .bind(value)
        .fetch_optional(&mut *self.conn)
        .await
        .map_err(StoreError::db("find identity"))?;
        row.map(|r| rows::doc(&r, "identity")).transpose()
    }

    async fn insert_identity(&mut self, identity: &Identity) -> Result<()> {
        let data = to_json("identity", identity)?;
        let result = sqlx::query(
            "INSERT INTO identities (id, kind, scope, value, party_id, data) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(identity.id.to_string())
        .bind(identity.kind().name())
        .bind(scope_column(identity.scope()))
        .bind(identity.value())
        .bind(identity.party_id.map(|p| p.to_string()))
        .bind(data)
        .execute(&mut *self.conn)
        .await;
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
            Err(err) => Err(StoreError::db("insert identity")(err)),
        }
    }

    async fn party(&mut self, id: PartyId) -> Result<Option<Party>> {
        let row = sqlx::query("SELECT id, data FROM parties WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(StoreError::db("read party"))?;
        row.map(|r| rows::doc(&r, "party")).transpose()
    }

    async fn insert_party(&mut self, party: &Party) -> Result<()> {
        sqlx::query("INSERT INTO parties (id, merged_into, created_ms, data) VALUES (?, ?, ?, ?)")
            .bind(party.id.to_string())
            .bind(party.merged_into.map(|p| p.to_string()))
            .bind(millis(&party.created_at))
            .bind(to_json("party", party)?)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("insert party"))?;
        Ok(())
    }

    async fn update_party(&mut self, party: &Party) -> Result<()> {
        sqlx::query("UPDATE parties SET merged_into = ?, data = ? WHERE id = ?")
            .bind(party.merged_into.map(|p| p.to_string()))
            .bind(to_json("party", party)?)
            .bind(party.id.to_string())
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("update party"))?;
        Ok(())
    }

    async fn conversation_by_thread_keys(
        &mut self,
        channel_account: ChannelAccountId,
        keys: &[ThreadKey],
    ) -> Result<Option<(Conversation, ThreadKey)>> {
        let account = channel_account.to_string();
        for key in keys {
            let row = sqlx::query(
                "SELECT c.id, c.data FROM thread_keys k JOIN conversations c ON c.id = k.conversation_id \
                 WHERE k.channel_account = ? AND k.key = ?",
            )
            .bind(&account)
            .bind(thread_key_column(key))
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(StoreError::db("find conversation by thread key"))?;
            if let Some(row) = row {
                return Ok(Some((rows::doc(&row, "conversation")?, key.clone())));
            }
        }
        Ok(None)
    }

    async fn conversation(&mut self, id: ConversationId) -> Result<Option<Conversation>> {
        let row = sqlx::query("SELECT id, data FROM conversations WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(StoreError::db("read conversation"))?;
        row.map(|r| rows::doc(&r, "conversation")).transpose()
    }

    async fn save_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        let id = conversation.id.to_string();
        let account = conversation.channel_account_id.to_string();
        sqlx::query(
            "INSERT INTO conversations (id, channel_account, party_id, case_id, data) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET party_id = excluded.party_id, case_id = excluded.case_id, data = excluded.data",
        )
        .bind(&id)
        .bind(&account)
        .bind(conversation.party_id.to_string())
        .bind(conversation.case_id.map(|c| c.to_string()))
        .bind(to_json("conversation", conversation)?)
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("save conversation"))?;
        // One statement for all keys: each statement is a round trip to
        // the driver's worker thread. SQLite allows 32766 variables.
        for chunk in conversation.thread_keys.chunks(1000) {
            let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO thread_keys (channel_account, key, conversation_id) VALUES {values} \
                 ON CONFLICT DO NOTHING"
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(&account).bind(thread_key_column(key)).bind(&id);
            }
            query
                .execute(&mut *self.conn)
                .await
                .map_err(StoreError::db("claim thread keys"))?;
        }
        Ok(())
    }

    async fn open_case_of_party(&mut self, party: PartyId) -> Result<Option<Case>> {
        let row = sqlx::query(
            "SELECT id, data FROM cases WHERE party_id = ? AND status IN ('open', 'pending') \
             ORDER BY opened_ms DESC, id DESC LIMIT 1",
        )
        .bind(party.to_string())
        .fetch_optional(&mut *self.conn)
        .await
        .map_err(StoreError::db("find open case"))?;
        row.map(|r| rows::doc(&r, "case")).transpose()
    }

    async fn case(&mut self, id: CaseId) -> Result<Option<Case>> {
        let row = sqlx::query("SELECT id, data FROM cases WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(StoreError::db("read case"))?;
        row.map(|r| rows::doc(&r, "case")).transpose()
    }

    async fn save_case(&mut self, case: &Case) -> Result<()> {
        sqlx::query(
            "INSERT INTO cases (id, party_id, status, opened_ms, data) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET party_id = excluded.party_id, status = excluded.status, data = excluded.data",
        )
        .bind(case.id.to_string())
        .bind(case.party_id.to_string())
        .bind(rows::case_status(case.status))
        .bind(millis(&case.opened_at))
        .bind(to_json("case", case)?)
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("save case"))?;
        Ok(())
    }

    async fn interaction_by_idempotency_key(
        &mut self,
        key: &IdempotencyKey,
    ) -> Result<Option<Interaction>> {
        let row = sqlx::query(
            "SELECT id, data FROM interactions WHERE idem_account = ? AND idem_provider = ? AND idem_message = ?",
        )
        .bind(key.channel_account().to_string())
        .bind(key.provider())
        .bind(key.provider_message_id())
        .fetch_optional(&mut *self.conn)
        .await
        .map_err(StoreError::db("find interaction by idempotency key"))?;
        row.map(|r| rows::doc(&r, "interaction")).transpose()
    }

    async fn interaction(&mut self, id: InteractionId) -> Result<Option<Interaction>> {
        let row = sqlx::query("SELECT id, data FROM interactions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(StoreError::db("read interaction"))?;
        row.map(|r| rows::doc(&r, "interaction")).transpose()
    }

    async fn latest_inbound_interaction(
        &mut self,
        conversation: ConversationId,
    ) -> Result<Option<Interaction>> {
        let row = sqlx::query(
            "SELECT id, data FROM interactions WHERE conversation_id = ? AND direction = 'inbound' \
             ORDER BY occurred_ms DESC, id DESC LIMIT 1",
        )
        .bind(conversation.to_string())
        .fetch_optional(&mut *self.conn)
        .await
        .map_err(StoreError::db("find latest inbound interaction"))?;
        row.map(|r| rows::doc(&r, "interaction")).transpose()
    }

    async fn party_identities(&mut self, party: PartyId) -> Result<Vec<Identity>> {
        let rows = sqlx::query("SELECT id, data FROM identities WHERE party_id = ? ORDER BY id")
            .bind(party.to_string())
            .fetch_all(&mut *self.conn)
            .await
            .map_err(StoreError::db("list identities"))?;
        rows.iter().map(|r| rows::doc(r, "identity")).collect()
    }

    async fn interaction_by_provider_message_id(
        &mut self,
        channel_account: ChannelAccountId,
        provider_message_id: &str,
    ) -> Result<Option<Interaction>> {
        let row = sqlx::query(
            "SELECT id, data FROM interactions WHERE idem_account = ? AND provider_message_id = ? LIMIT 1",
        )
        .bind(channel_account.to_string())
        .bind(provider_message_id)
        .fetch_optional(&mut *self.conn)
        .await
        .map_err(StoreError::db("find interaction by provider id"))?;
        row.map(|r| rows::doc(&r, "interaction")).transpose()
    }

    async fn insert_interaction(
        &mut self,
        interaction: &Interaction,
        journal_seq: Option<i64>,
    ) -> Result<bool> {
        let key = &interaction.idempotency_key;
        let provider_message_id = match interaction.direction {
            silta_model::Direction::Inbound => Some(key.provider_message_id().to_owned()),
            silta_model::Direction::Outbound => None,
        };
        let result = sqlx::query(
            "INSERT INTO interactions (id, idem_account, idem_provider, idem_message, party_id, \
             conversation_id, case_id, direction, occurred_ms, provider_message_id, journal_seq, data) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (idem_account, idem_provider, idem_message) DO NOTHING",
        )
        .bind(interaction.id.to_string())
        .bind(key.channel_account().to_string())
        .bind(key.provider())
        .bind(key.provider_message_id())
        .bind(interaction.party_id.map(|p| p.to_string()))
        .bind(interaction.conversation_id.map(|c| c.to_string()))
        .bind(interaction.case_id.map(|c| c.to_string()))
        .bind(rows::direction(interaction.direction))
        .bind(millis(&interaction.occurred_at))
        .bind(provider_message_id)
        .bind(journal_seq)
        .bind(to_json("interaction", interaction)?)
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("insert interaction"))?;
        Ok(result.rows_affected() == 1)
    }

    async fn update_interaction(
        &mut self,
        interaction: &Interaction,
        provider_message_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE interactions SET party_id = ?, conversation_id = ?, case_id = ?, \
             provider_message_id = COALESCE(?, provider_message_id), data = ? WHERE id = ?",
        )
        .bind(interaction.party_id.map(|p| p.to_string()))
        .bind(interaction.conversation_id.map(|c| c.to_string()))
        .bind(interaction.case_id.map(|c| c.to_string()))
        .bind(provider_message_id)
        .bind(to_json("interaction", interaction)?)
        .bind(interaction.id.to_string())
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("update interaction"))?;
        Ok(())
    }

    async fn append_event(&mut self, event: &NewEvent) -> Result<StoredEvent> {
        let id = uuid::Uuid::now_v7().to_string();
        let time = Timestamp::now();
        let row = sqlx::query(
            "INSERT INTO events (id, type, subject, time, data) VALUES (?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(&id)
        .bind(&event.event_type)
        .bind(&event.subject)
        .bind(time.to_rfc3339())
        .bind(to_json("event", &event.data)?)
        .fetch_one(&mut *self.conn)
        .await
        .map_err(StoreError::db("append event"))?;
        let seq: i64 = row.get(0);
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
        let existing = sqlx::query(
            "SELECT id FROM dead_letters WHERE (journal_seq IS NOT NULL AND journal_seq = ?) \
             OR (outbox_id IS NOT NULL AND outbox_id = ?)",
        )
        .bind(letter.journal_seq)
        .bind(letter.outbox_id)
        .fetch_optional(&mut *self.conn)
        .await
        .map_err(StoreError::db("find dead letter"))?;
        if let Some(row) = existing {
            let id: i64 = row.get(0);
            sqlx::query(
                "UPDATE dead_letters SET plugin = ?, stage = ?, error_kind = ?, message = ?, \
                 attempts = attempts + 1, last_failed_at = ? WHERE id = ?",
            )
            .bind(&letter.plugin)
            .bind(&letter.stage)
            .bind(&letter.error_kind)
            .bind(&letter.message)
            .bind(&at)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("update dead letter"))?;
            return Ok(id);
        }
        let row = sqlx::query(
            "INSERT INTO dead_letters (source, journal_seq, outbox_id, channel_account, plugin, stage, \
             error_kind, message, first_failed_at, last_failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(letter.source.as_str())
        .bind(letter.journal_seq)
        .bind(letter.outbox_id)
        .bind(letter.channel_account.to_string())
        .bind(&letter.plugin)
        .bind(&letter.stage)
        .bind(&letter.error_kind)
        .bind(&letter.message)
        .bind(&at)
        .bind(&at)
        .fetch_one(&mut *self.conn)
        .await
        .map_err(StoreError::db("insert dead letter"))?;
        Ok(row.get(0))
    }

    async fn remove_dead_letter(&mut self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM dead_letters WHERE id = ?")
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("remove dead letter"))?;
        Ok(())
    }

    async fn enqueue_outbox(
        &mut self,
        interaction_id: InteractionId,
        channel_account: ChannelAccountId,
        payload: &serde_json::Value,
        next_attempt_ms: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO outbox (interaction_id, channel_account, payload, next_attempt_ms) \
             VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(interaction_id.to_string())
        .bind(channel_account.to_string())
        .bind(to_json("outbox payload", payload)?)
        .bind(next_attempt_ms)
        .fetch_one(&mut *self.conn)
        .await
        .map_err(StoreError::db("enqueue outbox"))?;
        Ok(row.get(0))
    }

    async fn outbox_item(&mut self, id: i64) -> Result<Option<OutboxItem>> {
        let row = sqlx::query(rows::OUTBOX_SELECT_BY_ID)
            .bind(id)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(StoreError::db("read outbox item"))?;
        row.map(|r| rows::outbox_item(&r)).transpose()
    }

    async fn update_outbox(
        &mut self,
        id: i64,
        state: OutboxState,
        attempts: u32,
        next_attempt_ms: i64,
        last_error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = ?, attempts = ?, next_attempt_ms = ?, last_error = ? WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(i64::from(attempts))
        .bind(next_attempt_ms)
        .bind(last_error)
        .bind(id)
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("update outbox"))?;
        Ok(())
    }

    async fn api_idempotency(&mut self, key: &str) -> Result<Option<(String, InteractionId)>> {
        let row =
            sqlx::query("SELECT request_hash, interaction_id FROM api_idempotency WHERE key = ?")
                .bind(key)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(StoreError::db("read idempotency key"))?;
        row.map(|r| {
            let id = rows::parse_id::<InteractionId>("interaction", &r.get::<String, _>(1))?;
            Ok((r.get::<String, _>(0), id))
        })
        .transpose()
    }

    async fn put_api_idempotency(
        &mut self,
        key: &str,
        request_hash: &str,
        interaction: InteractionId,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_idempotency (key, request_hash, interaction_id, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(key)
        .bind(request_hash)
        .bind(interaction.to_string())
        .bind(at.to_rfc3339())
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("store idempotency key"))?;
        Ok(())
    }

    async fn kv_set(&mut self, plugin: &str, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, key, value) VALUES (?, ?, ?) \
             ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value",
        )
        .bind(plugin)
        .bind(key)
        .bind(value)
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("set plugin state"))?;
        Ok(())
    }

    async fn kv_delete(&mut self, plugin: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM plugin_kv WHERE plugin = ? AND key = ?")
            .bind(plugin)
            .bind(key)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("delete plugin state"))?;
        Ok(())
    }

    async fn insert_webhook_subscription(&mut self, sub: &WebhookSubscription) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, url, secret, types, cursor, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&sub.id)
        .bind(&sub.url)
        .bind(&sub.secret)
        .bind(to_json("subscription types", &sub.types)?)
        .bind(sub.cursor)
        .bind(sub.created_at.to_rfc3339())
        .execute(&mut *self.conn)
        .await
        .map_err(StoreError::db("insert webhook subscription"))?;
        Ok(())
    }

    async fn delete_webhook_subscription(&mut self, id: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM webhook_subscriptions WHERE id = ?")
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("delete webhook subscription"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn advance_webhook_cursor(&mut self, id: &str, cursor: i64) -> Result<()> {
        sqlx::query("UPDATE webhook_subscriptions SET cursor = MAX(cursor, ?) WHERE id = ?")
            .bind(cursor)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(StoreError::db("advance webhook cursor"))?;
        Ok(())
    }
}
