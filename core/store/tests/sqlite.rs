//! The SQLite store against a real database file.

use std::sync::Arc;

use silta_model::{
    Assurance, Case, CaseStatus, ChannelAccountId, ContentHash, Conversation, ConversationId,
    Direction, IdempotencyKey, Identity, IdentityKind, IdentityScope, Interaction, InteractionId,
    InteractionKind, NormalizeOptions, Part, Party, Provenance, SenderRole, ThreadKey, Timestamp,
};
use silta_store::records::{
    DeadLetterFilter, DeadLetterSource, InteractionsOf, JournalState, NewDeadLetter, NewEvent,
    NewJournalEntry,
};
use silta_store::sqlite::{SqliteOptions, SqliteStore};
use silta_store::{Store, StoreError, transact};

async fn open(dir: &tempfile::TempDir) -> anyhow::Result<SqliteStore> {
    Ok(SqliteStore::open(&dir.path().join("silta.db"), &SqliteOptions::default()).await?)
}

fn entry(account: ChannelAccountId, n: usize) -> NewJournalEntry {
    NewJournalEntry {
        channel_account: account,
        received_at: Timestamp::now(),
        transport: serde_json::json!({"http": {"path": "/v1/ingest/x"}}),
        body: format!("{{\"n\":{n}}}").into_bytes(),
    }
}

fn identity(email: &str) -> anyhow::Result<Identity> {
    Ok(Identity::new(
        IdentityKind::Email,
        email,
        IdentityScope::Global,
        Assurance::ChannelAsserted,
        &NormalizeOptions::default(),
    )?)
}

fn interaction(
    account: ChannelAccountId,
    provider_id: &str,
    sender: &Identity,
    at: &str,
) -> anyhow::Result<Interaction> {
    Ok(Interaction {
        id: InteractionId::new(),
        kind: InteractionKind::Message,
        direction: Direction::Inbound,
        sender_role: SenderRole::Customer,
        sender: sender.key(),
        recipients: vec![],
        conversation_id: None,
        case_id: None,
        party_id: None,
        subject: None,
        parts: vec![Part::Text("hello".into())],
        email: None,
        thread_keys: vec![],
        occurred_at: Timestamp::parse_rfc3339("at", at)?,
        received_at: Timestamp::now(),
        delivery: vec![],
        provenance: Provenance {
            plugin_id: "webhook".into(),
            plugin_version: "0.1.0".into(),
            provider: "webhook".into(),
            provider_message_id: provider_id.into(),
            raw_blob_ref: None,
        },
        idempotency_key: IdempotencyKey::new(account, "webhook", provider_id)?,
        threading_reason: None,
        attributes: Default::default(),
        linking: None,
        enrichment: None,
        backoffice_links: Vec::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_commits_and_all_survive_reopen() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let account = ChannelAccountId::new();
    let store = Arc::new(open(&dir).await?);
    let mut tasks = Vec::new();
    for n in 0..400 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let e = entry(account, n);
            transact(&*store, move |tx| {
                Box::pin(async move { tx.append_journal(&e).await })
            })
            .await
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await??);
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 400, "every append got its own seq");
    let (groups, units) = store.commit_stats();
    assert_eq!(units, 400);
    assert!(
        groups < units,
        "concurrent appends must share commits: {groups} commits for {units} appends"
    );
    drop(store);

    let store = open(&dir).await?;
    let pending = store
        .journal_entries(JournalState::Pending, 0, 1000)
        .await?;
    assert_eq!(
        pending.len(),
        400,
        "reopened journal holds every accepted entry"
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_unit_rolls_back_alone() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(open(&dir).await?);
    let account = ChannelAccountId::new();
    let good = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let e = entry(account, 1);
            transact(&*store, move |tx| {
                Box::pin(async move { tx.append_journal(&e).await })
            })
            .await
        })
    };
    let bad = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let e = entry(account, 2);
            transact(&*store, move |tx| {
                Box::pin(async move {
                    tx.append_journal(&e).await?;
                    Err::<(), _>(StoreError::Aborted("changed my mind".into()))
                })
            })
            .await
        })
    };
    assert!(good.await?.is_ok());
    let err = bad.await?.expect_err("the failing unit reports its error");
    assert!(err.to_string().contains("changed my mind"), "{err}");
    let pending = store.journal_entries(JournalState::Pending, 0, 10).await?;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].entry.body, b"{\"n\":1}");
    Ok(())
}

#[tokio::test]
async fn the_database_enforces_identity_and_idempotency_uniqueness() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(&dir).await?;
    let account = ChannelAccountId::new();
    let party = Party::new(Timestamp::now());
    let mut aino = identity("aino@example.fi")?;
    aino.party_id = Some(party.id);
    let again = identity(" aino@EXAMPLE.fi ")?;
    let first = interaction(account, "m-1", &aino, "2026-11-23T10:00:00Z")?;
    let duplicate = interaction(account, "m-1", &aino, "2026-11-23T10:00:00Z")?;
    let (p, a) = (party.clone(), aino.clone());
    transact(&store, move |tx| {
        Box::pin(async move {
            tx.insert_party(&p).await?;
            tx.insert_identity(&a).await
        })
    })
    .await?;
    let err = transact(&store, move |tx| {
        Box::pin(async move { tx.insert_identity(&again).await })
    })
    .await
    .expect_err("same (kind, scope, value) twice");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                what: "identity",
                ..
            }
        ),
        "{err}"
    );

    let inserted = transact(&store, move |tx| {
        Box::pin(async move {
            let a = tx.insert_interaction(&first, Some(1)).await?;
            let b = tx.insert_interaction(&duplicate, Some(2)).await?;
            Ok((a, b))
        })
    })
    .await?;
    assert_eq!(inserted, (true, false), "the second copy is not stored");
    let key = aino.key();
    let found = transact(&store, move |tx| {
        Box::pin(async move { tx.identity_by_key(&key).await })
    })
    .await?
    .expect("identity found by key");
    assert_eq!(found.party_id, Some(party.id));
    Ok(())
}

#[tokio::test]
async fn thread_keys_cases_and_timeline_pages() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(&dir).await?;
    let account = ChannelAccountId::new();
    let party = Party::new(Timestamp::now());
    let now = Timestamp::now();
    let case = Case {
        id: silta_model::CaseId::new(),
        party_id: party.id,
        status: CaseStatus::Open,
        subject: None,
        opened_at: now,
        closed_at: None,
        sla: None,
        backoffice_ticket: None,
        conversation_ids: vec![],
        last_activity_at: None,
        last_inbound_channel: None,
        last_outbound_channel: None,
    };
    let conversation = Conversation {
        id: ConversationId::new(),
        channel_account_id: account,
        party_id: party.id,
        case_id: Some(case.id),
        thread_keys: vec![ThreadKey::MessageId("<a@x>".into())],
        threading_reason: None,
        subject: None,
        opened_at: now,
        last_activity_at: now,
    };
    let sender = identity("aino@example.fi")?;
    let mut items = Vec::new();
    for (n, at) in [
        "2026-11-23T10:00:02Z",
        "2026-11-23T10:00:01Z",
        "2026-11-23T10:00:03Z",
    ]
    .iter()
    .enumerate()
    {
        let mut i = interaction(account, &format!("m-{n}"), &sender, at)?;
        i.party_id = Some(party.id);
        i.conversation_id = Some(conversation.id);
        i.case_id = Some(case.id);
        items.push(i);
    }
    let (p, c, conv, its) = (
        party.clone(),
        case.clone(),
        conversation.clone(),
        items.clone(),
    );
    transact(&store, move |tx| {
        Box::pin(async move {
            tx.insert_party(&p).await?;
            tx.save_case(&c).await?;
            tx.save_conversation(&conv, &conv.thread_keys).await?;
            for i in &its {
                tx.insert_interaction(i, None).await?;
            }
            Ok(())
        })
    })
    .await?;

    let pid = party.id;
    let (found, open_case) = transact(&store, move |tx| {
        Box::pin(async move {
            let keys = [
                ThreadKey::ProviderThread("<a@x>".into()),
                ThreadKey::InReplyTo("<a@x>".into()),
            ];
            let found = tx.conversation_by_thread_keys(account, &keys).await?;
            Ok((found, tx.open_case_of_party(pid).await?))
        })
    })
    .await?;
    let (found, matched) = found.expect("an In-Reply-To finds the Message-ID's conversation");
    assert_eq!(found.id, conversation.id);
    assert_eq!(matched, ThreadKey::InReplyTo("<a@x>".into()));
    assert_eq!(open_case.map(|c| c.id), Some(case.id));
    let read = store
        .conversation_by_thread_key(account, &ThreadKey::InReplyTo("<a@x>".into()))
        .await?;
    assert_eq!(
        read.map(|c| c.id),
        Some(conversation.id),
        "the pool reads the same key"
    );
    assert!(
        store
            .conversation_by_thread_key(account, &ThreadKey::ProviderThread("<none>".into()))
            .await?
            .is_none()
    );

    let first = store
        .interactions(InteractionsOf::Party(party.id), None, 2)
        .await?;
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.items[0].id, items[1].id, "oldest first");
    assert_eq!(first.items[1].id, items[0].id);
    let second = store
        .interactions(InteractionsOf::Party(party.id), first.next, 2)
        .await?;
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].id, items[2].id);
    assert!(second.next.is_none());
    Ok(())
}

#[tokio::test]
async fn events_notify_watchers_and_dead_letters_count_attempts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(&dir).await?;
    let mut watch = store.event_watch();
    let account = ChannelAccountId::new();
    let e = entry(account, 1);
    let seq = transact(&store, move |tx| {
        Box::pin(async move {
            let seq = tx.append_journal(&e).await?;
            tx.append_event(&NewEvent {
                event_type: "silta.test".into(),
                subject: None,
                data: serde_json::json!({"seq": seq}),
            })
            .await?;
            Ok(seq)
        })
    })
    .await?;
    watch.changed().await?;
    assert_eq!(*watch.borrow(), 1);
    let events = store.events_after(0, 10).await?;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data["seq"], seq);

    for _ in 0..2 {
        let letter = NewDeadLetter {
            source: DeadLetterSource::Inbound,
            journal_seq: Some(seq),
            outbox_id: None,
            channel_account: account,
            plugin: "webhook".into(),
            stage: "normalize".into(),
            error_kind: "trapped".into(),
            message: "boom".into(),
            at: Timestamp::now(),
        };
        transact(&store, move |tx| {
            Box::pin(async move {
                tx.set_journal_state(seq, JournalState::Dead).await?;
                tx.put_dead_letter(&letter).await
            })
        })
        .await?;
    }
    let letters = store.dead_letters(&DeadLetterFilter::default()).await?;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 2);
    let by_plugin = DeadLetterFilter {
        plugin: Some("other".into()),
        ..DeadLetterFilter::default()
    };
    assert!(store.dead_letters(&by_plugin).await?.is_empty());
    assert_eq!(store.queue_depths().await?.dead_letters, 1);
    Ok(())
}

#[tokio::test]
async fn blobs_are_kept_once_by_hash_and_only_with_their_unit() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(&dir).await?;
    let bytes: Vec<u8> = (0..3_000_000u32).map(|n| (n % 251) as u8).collect();
    let hash = ContentHash::of(&bytes);

    let (stored, h, b) = (bytes.clone(), hash.clone(), bytes.clone());
    let first = transact(&store, move |tx| {
        Box::pin(async move {
            let first = tx.put_blob(&h, &b).await?;
            let second = tx.put_blob(&h, &b).await?;
            Ok((first, second))
        })
    })
    .await?;
    assert_eq!(first, (true, false), "new once, then already stored");

    // A unit that fails takes its blob with it.
    let other = b"never committed".to_vec();
    let other_hash = ContentHash::of(&other);
    let h = other_hash.clone();
    let err = transact(&store, move |tx| {
        Box::pin(async move {
            tx.put_blob(&h, &other).await?;
            Err::<(), _>(StoreError::Aborted("the interaction failed".into()))
        })
    })
    .await
    .expect_err("aborted");
    assert!(err.to_string().contains("the interaction failed"));

    drop(store);
    let store = open(&dir).await?;
    assert_eq!(store.blob(&hash).await?.as_deref(), Some(stored.as_slice()));
    assert_eq!(store.blob_size(&hash).await?, Some(3_000_000));
    assert_eq!(store.blob(&other_hash).await?, None);
    assert_eq!(store.blob_size(&other_hash).await?, None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_writer_hands_its_page_cache_back_and_keeps_working() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(&dir).await?;
    let account = ChannelAccountId::new();
    let append = |n: usize| {
        let e = entry(account, n);
        transact(&store, move |tx| {
            Box::pin(async move { tx.append_journal(&e).await })
        })
    };
    for n in 0..200 {
        append(n).await?;
    }
    assert_eq!(store.idle_cache_releases(), 0);
    // Two seconds without a commit: the checkpointer tells the writer.
    let started = std::time::Instant::now();
    while store.idle_cache_releases() == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the writer never released its page cache while idle"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Once per quiet spell, not on every tick.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(store.idle_cache_releases(), 1);
    // The writer and the readers work on afterwards, with everything there.
    let seq = append(200).await?;
    let pending = store
        .journal_entries(JournalState::Pending, 0, 1000)
        .await?;
    assert_eq!(pending.len(), 201);
    assert_eq!(pending.last().map(|e| e.seq), Some(seq));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_checkpointed_beside_the_writer_and_stays_small() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(&dir).await?;
    let db = dir.path().join("silta.db");
    let wal = dir.path().join("silta.db-wal");
    let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
    const MB: usize = 1024 * 1024;
    let mut largest_wal = 0;
    for n in 0..100u32 {
        let bytes: Vec<u8> = (0..MB).map(|i| (i as u32 ^ n).to_le_bytes()[0]).collect();
        let hash = ContentHash::of(&bytes);
        transact(&store, move |tx| {
            Box::pin(async move {
                tx.put_blob(&hash, &bytes).await?;
                Ok(())
            })
        })
        .await?;
        largest_wal = largest_wal.max(size(&wal));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The commits never checkpoint; the checkpointer moves the pages into
    // the database file while the store is open.
    let started = std::time::Instant::now();
    while size(&db) < 100 * MB as u64 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the database file holds {} bytes after 100 MB were committed: nothing checkpoints",
            size(&db)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        largest_wal < 48 * MB as u64,
        "the log grew to {largest_wal} bytes: it is not restarted after checkpoints"
    );
    Ok(())
}

#[tokio::test]
async fn the_outbox_lists_only_the_first_pending_item_per_recipient() -> anyhow::Result<()> {
    use silta_store::records::OutboxState;
    let dir = tempfile::tempdir()?;
    let store = open(&dir).await?;
    let account = ChannelAccountId::new();
    let other_account = ChannelAccountId::new();
    let sender = identity("agent@example.fi")?;
    // Queued in this order: two to Aino, one to Bo, one to Aino on another
    // account, and one whose payload names no recipient.
    let queued = [
        (account, Some("aino@example.fi")),
        (account, Some("aino@example.fi")),
        (account, Some("bo@example.fi")),
        (other_account, Some("aino@example.fi")),
        (account, None),
    ];
    let mut ids = Vec::new();
    for (n, (on, recipient)) in queued.into_iter().enumerate() {
        let item = interaction(on, &format!("out-{n}"), &sender, "2026-11-24T10:00:00Z")?;
        let payload = match recipient {
            Some(value) => serde_json::json!({"recipient": {"kind": "email", "value": value}}),
            None => serde_json::json!({}),
        };
        let id = transact(&store, move |tx| {
            Box::pin(async move {
                tx.insert_interaction(&item, None).await?;
                tx.enqueue_outbox(item.id, on, &payload, 1_000).await
            })
        })
        .await?;
        ids.push(id);
    }
    let due = |now| {
        let store = &store;
        async move {
            let items = store.outbox_due(now, 64).await?;
            anyhow::Ok(items.iter().map(|item| item.id).collect::<Vec<_>>())
        }
    };
    assert_eq!(due(2_000).await?, vec![ids[0], ids[2], ids[3], ids[4]]);

    // Aino's first waits for a retry: her second still waits behind it.
    let first = ids[0];
    let update = |id, state, at| {
        transact(&store, move |tx| {
            Box::pin(async move { tx.update_outbox(id, state, 1, at, Some("503")).await })
        })
    };
    update(first, OutboxState::Pending, 5_000).await?;
    assert_eq!(due(2_000).await?, vec![ids[2], ids[3], ids[4]]);
    for id in [ids[2], ids[3], ids[4]] {
        update(id, OutboxState::Done, 1_000).await?;
    }
    assert_eq!(
        store.outbox_next_due().await?,
        Some(5_000),
        "not the blocked one's"
    );
    assert_eq!(due(5_000).await?, vec![first]);

    // Once it is sent (or dead-lettered), the next one goes.
    update(first, OutboxState::Dead, 5_000).await?;
    assert_eq!(due(5_000).await?, vec![ids[1]]);
    Ok(())
}
