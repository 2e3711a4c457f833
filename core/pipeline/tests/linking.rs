//! Linking against a real store: a long conversation stays cheap and every
//! message in it still threads replies.

mod support;

use std::sync::Arc;

use silta_model::{
    Assurance, ChannelAccountId, Direction, Identity, IdentityKind, Interaction, SenderRole,
    ThreadKey, Timestamp,
};
use silta_pipeline::identity_resolution::Resolution;
use silta_pipeline::linking::{
    LinkChannel, LinkOptions, Linked, Sender, link_interaction, resolve_parties,
};
use silta_store::sqlite::{SqliteOptions, SqliteStore};
use silta_store::{Store, transact};
use support::identity;

fn sender() -> anyhow::Result<Identity> {
    identity(
        IdentityKind::Email,
        "aino.virtanen@example.fi",
        Assurance::ChannelAsserted,
    )
}

/// A webhook message in the threads `thread_keys` names.
fn message(
    account: ChannelAccountId,
    provider_id: &str,
    sender: &Identity,
    thread_keys: Vec<ThreadKey>,
) -> anyhow::Result<Interaction> {
    let mut interaction =
        support::message(account, "webhook", provider_id, sender, Timestamp::now())?;
    interaction.thread_keys = thread_keys;
    Ok(interaction)
}

async fn link(
    store: &dyn Store,
    interaction: Interaction,
    party: &Resolution,
    account: ChannelAccountId,
) -> anyhow::Result<Linked> {
    link_on(store, interaction, party, account, false).await
}

/// Links on a channel whose plugin shows each contact one thread when
/// `per_contact`.
async fn link_on(
    store: &dyn Store,
    interaction: Interaction,
    party: &Resolution,
    account: ChannelAccountId,
    per_contact: bool,
) -> anyhow::Result<Linked> {
    let party = party.clone();
    Ok(transact(store, move |tx| {
        Box::pin(async move {
            link_interaction(
                tx,
                interaction,
                &party,
                &LinkChannel {
                    id: account,
                    name: "chat",
                    per_contact,
                },
                None,
                &LinkOptions::default(),
            )
            .await
            .map_err(|err| silta_store::StoreError::Aborted(err.to_string()))
        })
    })
    .await?)
}

async fn open_store(dir: &tempfile::TempDir) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(
        SqliteStore::open(&dir.path().join("silta.db"), &SqliteOptions::default()).await?,
    ))
}

/// The party `identity`, first seen by `plugin` on `account`, resolves to.
async fn resolve(
    store: &dyn Store,
    identity: &Identity,
    plugin: &str,
    account: ChannelAccountId,
) -> anyhow::Result<Resolution> {
    let identities = vec![Sender {
        identity: identity.clone(),
        plugin: plugin.into(),
        channel_account: account,
    }];
    let parties = transact(store, move |tx| {
        Box::pin(async move {
            resolve_parties(tx, &identities)
                .await
                .map_err(|err| silta_store::StoreError::Aborted(err.to_string()))
        })
    })
    .await?;
    Ok(parties[&(identity.key(), account)].clone())
}

fn conversation_of(linked: &Linked) -> silta_model::ConversationId {
    match linked {
        Linked::Created { conversation, .. } => *conversation,
        other => panic!("expected a new interaction, got {other:?}"),
    }
}

#[tokio::test]
async fn a_long_conversation_keeps_its_first_keys_and_threads_replies_to_any_message()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open_store(&dir).await?;
    let account = ChannelAccountId::new();
    let sender = sender()?;
    let party = resolve(&*store, &sender, "webhook", account).await?;
    let thread = ThreadKey::ProviderThread("t-1".into());

    let mut conversation = None;
    for n in 0..60 {
        let linked = link(
            &*store,
            message(account, &format!("m-{n}"), &sender, vec![thread.clone()])?,
            &party,
            account,
        )
        .await?;
        let id = conversation_of(&linked);
        assert_eq!(
            *conversation.get_or_insert(id),
            id,
            "message {n} joins the thread"
        );
    }
    let conversation_id = conversation.expect("linked");
    let stored = store
        .conversation(conversation_id)
        .await?
        .expect("stored conversation");
    assert_eq!(
        stored.thread_keys,
        vec![
            thread.clone(),
            ThreadKey::ReplyToProviderMessage("m-0".into())
        ],
        "the document keeps the keys the conversation started with, not one per message"
    );

    // A reply that names only an old message (no thread id) still finds
    // the conversation: every message's own id was claimed in the store.
    let reply = message(
        account,
        "m-reply",
        &sender,
        vec![ThreadKey::ReplyToProviderMessage("m-37".into())],
    )?;
    let linked = link(&*store, reply, &party, account).await?;
    assert_eq!(conversation_of(&linked), conversation_id);
    let reply = store
        .interactions(
            silta_store::records::InteractionsOf::Conversation(conversation_id),
            None,
            100,
        )
        .await?
        .items
        .into_iter()
        .find(|i| i.provenance.provider_message_id == "m-reply")
        .expect("the reply is in the conversation");
    assert!(
        reply
            .threading_reason
            .as_deref()
            .is_some_and(|r| r.contains("m-37")),
        "the reason names the matched key: {:?}",
        reply.threading_reason
    );

    // Another thread id starts another conversation.
    let other = message(
        account,
        "m-other",
        &sender,
        vec![ThreadKey::ProviderThread("t-2".into())],
    )?;
    let linked = link(&*store, other, &party, account).await?;
    assert_ne!(conversation_of(&linked), conversation_id);
    Ok(())
}

/// Our first message to `recipient`, as the outbound path stores it: no
/// thread keys the provider would echo.
fn ours_to(
    account: ChannelAccountId,
    id: &str,
    recipient: &Identity,
) -> anyhow::Result<Interaction> {
    let mut interaction = support::message(account, "silta", id, recipient, Timestamp::now())?;
    interaction.direction = Direction::Outbound;
    interaction.sender_role = SenderRole::Agent;
    interaction.sender = identity(
        IdentityKind::Custom("silta_channel_account".into()),
        "wa",
        Assurance::ChannelAttested,
    )?
    .key();
    interaction.recipients = vec![recipient.key()];
    Ok(interaction)
}

/// The rule that put a newly linked interaction in its conversation, as
/// stored.
async fn conversation_rule(store: &dyn Store, linked: &Linked) -> anyhow::Result<String> {
    let Linked::Created { interaction, .. } = linked else {
        anyhow::bail!("expected a new interaction, got {linked:?}");
    };
    let stored = store.interaction(*interaction).await?.expect("stored");
    Ok(stored
        .linking
        .map(|l| l.conversation.rule)
        .unwrap_or_default())
}

#[tokio::test]
async fn on_a_chat_channel_the_contacts_answer_joins_the_conversation_we_began()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open_store(&dir).await?;
    let account = ChannelAccountId::new();
    let aino = identity(
        IdentityKind::Whatsapp,
        "+358401234567",
        Assurance::ChannelAttested,
    )?;
    // Her second number: the same party, another chat.
    let work = identity(
        IdentityKind::Whatsapp,
        "+358409876543",
        Assurance::ChannelAttested,
    )?;
    let party = resolve(&*store, &aino, "whatsapp", account).await?;
    let chat = |who: &Identity| {
        vec![ThreadKey::ProviderThread(format!(
            "wa:{}",
            who.key().value()
        ))]
    };

    let began = conversation_of(
        &link_on(
            &*store,
            ours_to(account, "ours-1", &aino)?,
            &party,
            account,
            true,
        )
        .await?,
    );

    // A message from her other number is another chat: not an answer to
    // a message sent to the first.
    let other = link_on(
        &*store,
        message(account, "w-1", &work, chat(&work))?,
        &party,
        account,
        true,
    )
    .await?;
    assert_ne!(conversation_of(&other), began);

    // On a channel without one thread per contact, nothing but thread keys
    // joins a conversation.
    let elsewhere = ChannelAccountId::new();
    let ours = conversation_of(
        &link_on(
            &*store,
            ours_to(elsewhere, "ours-2", &aino)?,
            &party,
            elsewhere,
            false,
        )
        .await?,
    );
    let answer = link_on(
        &*store,
        message(elsewhere, "a-0", &aino, chat(&aino))?,
        &party,
        elsewhere,
        false,
    )
    .await?;
    assert_ne!(conversation_of(&answer), ours);

    // Her answer names only the chat, and joins the conversation we began.
    let answer = link_on(
        &*store,
        message(account, "a-1", &aino, chat(&aino))?,
        &party,
        account,
        true,
    )
    .await?;
    assert_eq!(conversation_of(&answer), began);
    assert_eq!(
        conversation_rule(&*store, &answer).await?,
        "answer-to-new-conversation"
    );

    // The conversation holds the chat's key now; a later message finds it
    // by key, and the conversation is no longer waiting for an answer.
    let later = link_on(
        &*store,
        message(account, "a-2", &aino, chat(&aino))?,
        &party,
        account,
        true,
    )
    .await?;
    assert_eq!(conversation_of(&later), began);
    assert_eq!(conversation_rule(&*store, &later).await?, "thread-key");
    Ok(())
}
