//! What the pipeline tests share: messages as a channel plugin would
//! normalize them, identities, linking one message as the pipeline does,
//! and the store error for a failed step.

#![allow(dead_code)]

use silta_model::{
    Assurance, ChannelAccountId, Direction, IdempotencyKey, Identity, IdentityKind, IdentityScope,
    Interaction, InteractionId, InteractionKind, NormalizeOptions, Part, Provenance, SenderRole,
    Timestamp,
};
use silta_pipeline::linking::{
    LinkChannel, LinkOptions, Linked, Sender, link_interaction, resolve_parties,
};
use silta_store::{Store, StoreError, transact};

/// A pipeline error as the store error that aborts a unit of work.
pub fn aborted(err: silta_pipeline::PipelineError) -> StoreError {
    StoreError::Aborted(err.to_string())
}

/// A global identity of `kind`.
pub fn identity(kind: IdentityKind, value: &str, assurance: Assurance) -> anyhow::Result<Identity> {
    Ok(Identity::new(
        kind,
        value,
        IdentityScope::Global,
        assurance,
        &NormalizeOptions::default(),
    )?)
}

/// An inbound text message from `sender`, as `plugin` would normalize it.
pub fn message(
    account: ChannelAccountId,
    plugin: &str,
    provider_id: &str,
    sender: &Identity,
    at: Timestamp,
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
        parts: vec![Part::Text(format!("message {provider_id}"))],
        email: None,
        thread_keys: vec![],
        occurred_at: at,
        received_at: at,
        delivery: vec![],
        provenance: Provenance {
            plugin_id: plugin.into(),
            plugin_version: "0.1.0".into(),
            provider: plugin.into(),
            provider_message_id: provider_id.into(),
            raw_blob_ref: None,
        },
        idempotency_key: IdempotencyKey::new(account, plugin, provider_id)?,
        threading_reason: None,
        attributes: Default::default(),
        linking: None,
        enrichment: None,
        backoffice_links: Vec::new(),
    })
}

/// Resolve `sender` (reported by `plugin` on `account`) and link
/// `interaction` in one transaction, as the inbound pipeline does.
pub async fn receive(
    store: &dyn Store,
    interaction: Interaction,
    sender: &Identity,
    plugin: &str,
    account: ChannelAccountId,
    options: &LinkOptions,
) -> anyhow::Result<Linked> {
    let senders = vec![Sender {
        identity: sender.clone(),
        plugin: plugin.to_owned(),
        channel_account: account,
    }];
    let key = (sender.key(), account);
    let options = options.clone();
    Ok(transact(store, move |tx| {
        Box::pin(async move {
            let resolved = resolve_parties(tx, &senders).await.map_err(aborted)?;
            link_interaction(
                tx,
                interaction,
                &resolved[&key],
                &LinkChannel {
                    id: account,
                    name: "test",
                    per_contact: false,
                },
                None,
                &options,
            )
            .await
            .map_err(aborted)
        })
    })
    .await?)
}
