//! Submitting outbound messages: a reply in a conversation, or a new
//! (proactive) message to a party on a chosen channel.
//!
//! Submitting writes the outbound interaction, its outbox item and its
//! `silta.interaction.created` event in one unit of work, so a message the
//! API answered 202 for is sent even if Silta stops right after. An
//! `Idempotency-Key` makes a retried submission return the first one's
//! interaction instead of sending twice.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use silta_model::{
    Assurance, Case, CaseId, Conversation, ConversationId, DeliveryEvent, DeliveryState, Direction,
    EmailHeaders, IdempotencyKey, Identity, IdentityKey, IdentityKind, IdentityScope, Interaction,
    InteractionId, InteractionKind, NormalizeOptions, Part, PartyId, Provenance, SenderRole,
    ThreadKey, Timestamp,
};
use silta_runtime::contract::OutboundMessage;
use silta_runtime::manifest::Threading;
use silta_store::{Store, StoreError, StoreTx, transact};
use tokio::sync::Notify;

use crate::channels::{ChannelAccount, Channels};
use crate::error::{PipelineError, Result};
use crate::linking::{ContactWrote, contact_conversation};
use crate::{enrichment, events};

/// A message to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    /// Subject, for channels that have one.
    pub subject: Option<String>,
    /// Content, in order (at least one part).
    pub parts: Vec<Part>,
}

/// A proactive message's addressing.
#[derive(Debug, Clone, PartialEq)]
pub struct Proactive {
    /// The party to reach.
    pub party: PartyId,
    /// The channel account to send from (name or id).
    pub channel_account: String,
    /// The identity to send to; by default the party's identity that fits
    /// the channel account.
    pub to: Option<IdentityKey>,
    /// The case the new conversation joins; by default the party's open
    /// case, or a new one.
    pub case: Option<CaseId>,
}

/// What a submission created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitted {
    /// The outbound interaction.
    pub interaction_id: InteractionId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// True when an earlier submission with the same idempotency key made
    /// it (nothing new was queued).
    pub replayed: bool,
}

/// Submits outbound messages to the outbox.
pub struct Outbound {
    store: Arc<dyn Store>,
    channels: Channels,
    sent: Arc<Notify>,
    backoffice_plugins: Arc<[String]>,
}

impl Outbound {
    /// Outbound submission over `store`; `sent` is notified after each
    /// commit so the sender picks the message up at once.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, channels: Channels, sent: Arc<Notify>) -> Self {
        Self {
            store,
            channels,
            sent,
            backoffice_plugins: Arc::from(Vec::new()),
        }
    }

    /// Queue every outbound interaction for these back-office plugins too
    /// (to be recorded as activities).
    #[must_use]
    pub fn with_backoffice(mut self, plugins: &[String]) -> Self {
        self.backoffice_plugins = Arc::from(plugins.to_vec());
        self
    }

    /// Queue a message on a case: on `channel_account` (name or id) when
    /// given, else on the channel the customer wrote on last. It answers the
    /// case's conversation on that channel when there is one, else starts
    /// one in the case.
    pub async fn send_on_case(
        &self,
        case: CaseId,
        channel_account: Option<String>,
        message: NewMessage,
        idempotency_key: Option<String>,
    ) -> Result<Submitted> {
        let Some(stored) = self.store.case(case).await? else {
            return Err(PipelineError::NotFound {
                what: "case",
                id: case.to_string(),
            });
        };
        let account = match channel_account {
            Some(name) => self.channels.get(&name)?.record.id,
            None => stored.last_inbound_channel.ok_or_else(|| {
                PipelineError::Invalid(format!(
                    "case {case} has no inbound message yet; name a channel_account"
                ))
            })?,
        };
        let mut answerable = None;
        for id in &stored.conversation_ids {
            if let Some(conv) = self.store.conversation(*id).await?
                && conv.channel_account_id == account
                && answerable
                    .as_ref()
                    .is_none_or(|c: &Conversation| c.last_activity_at < conv.last_activity_at)
            {
                answerable = Some(conv);
            }
        }
        if let Some(conv) = answerable {
            let has_inbound = transact(&*self.store, move |tx| {
                Box::pin(async move {
                    Ok(tx
                        .latest_interaction(conv.id, Direction::Inbound)
                        .await?
                        .map(|_| conv.id))
                })
            })
            .await?;
            if let Some(conversation) = has_inbound {
                return self.reply(conversation, message, idempotency_key).await;
            }
        }
        let target = Proactive {
            party: stored.party_id,
            channel_account: account.to_string(),
            to: None,
            case: Some(case),
        };
        self.send_new(target, message, idempotency_key).await
    }

    /// Queue a reply in `conversation` to its customer; in a conversation
    /// we began that they have not answered yet, a follow-up to our
    /// message, to the same recipient.
    pub async fn reply(
        &self,
        conversation: ConversationId,
        message: NewMessage,
        idempotency_key: Option<String>,
    ) -> Result<Submitted> {
        self.check_message(&message).await?;
        let request_hash = hash_request(&("reply", conversation, &message));
        let channels = self.channels.clone();
        let backoffice = Arc::clone(&self.backoffice_plugins);
        let submitted = transact(&*self.store, move |tx| {
            Box::pin(async move {
                if let Some(found) = replayed(tx, idempotency_key.as_deref(), &request_hash).await?
                {
                    return Ok(found);
                }
                // Checks come before any write: an `Ok(Err(..))` commits nothing.
                let Some(mut conv) = tx.conversation(conversation).await? else {
                    return Ok(Err(PipelineError::NotFound {
                        what: "conversation",
                        id: conversation.to_string(),
                    }));
                };
                let channel = match channels.by_id(conv.channel_account_id) {
                    Ok(channel) => channel,
                    Err(err) => return Ok(Err(err)),
                };
                let outbound = match tx.latest_interaction(conv.id, Direction::Inbound).await? {
                    Some(last) => {
                        let Some(recipient) = answer_recipient(tx, &last).await? else {
                            return Ok(Err(PipelineError::Invalid(format!(
                                "the sender of interaction {} is not a stored identity",
                                last.id
                            ))));
                        };
                        OutboundMessage {
                            channel_account: channel.record.id.to_string(),
                            interaction_id: InteractionId::new(),
                            recipient,
                            sender: None,
                            subject: message.subject.clone().or_else(|| conv.subject.clone()),
                            parts: message.parts.clone(),
                            thread_keys: reply_thread_keys(&conv, &last),
                            reply_to_provider_message_id: Some(
                                last.idempotency_key.provider_message_id().to_owned(),
                            ),
                            reply_to_email: last.email.clone(),
                            reply_token: new_reply_token(),
                        }
                    }
                    // We began it and they have not answered: a follow-up
                    // to whom our last message went.
                    None => {
                        let Some(recipient) = follow_up_recipient(tx, conv.id).await? else {
                            return Ok(Err(PipelineError::Invalid(format!(
                                "conversation {conversation} has no message from the customer \
                                 and none from us to a stored identity; send a new message \
                                 with POST /v1/messages"
                            ))));
                        };
                        OutboundMessage {
                            subject: message.subject.clone().or_else(|| conv.subject.clone()),
                            ..new_outbound(&channel, recipient, &message)
                        }
                    }
                };
                let case_id = match conv.case_id {
                    Some(case) => case,
                    None => open_or_new_case(tx, conv.party_id, None, &mut conv).await?,
                };
                let key = idempotency_key
                    .as_deref()
                    .map(|k| (k, request_hash.as_str()));
                Ok(Ok(queue(
                    tx,
                    &channel,
                    &mut conv,
                    case_id,
                    outbound,
                    key,
                    &backoffice,
                )
                .await?))
            })
        })
        .await??;
        self.sent.notify_one();
        Ok(submitted)
    }

    /// Queue a new message to a party, starting a conversation; on a
    /// channel with one thread per contact, it continues the recipient's
    /// latest conversation there instead (see `continued_conversation`).
    pub async fn send_new(
        &self,
        target: Proactive,
        message: NewMessage,
        idempotency_key: Option<String>,
    ) -> Result<Submitted> {
        self.check_message(&message).await?;
        let channel = self.channels.get(&target.channel_account)?;
        if let Some(conversation) = self.continued_conversation(&target, &channel).await? {
            return self.reply(conversation, message, idempotency_key).await;
        }
        let backoffice = Arc::clone(&self.backoffice_plugins);
        let request_hash = hash_request(&(
            "new",
            target.case,
            target.party,
            &channel.record.name,
            &target.to,
            &message,
        ));
        let submitted = transact(&*self.store, move |tx| {
            Box::pin(async move {
                if let Some(found) = replayed(tx, idempotency_key.as_deref(), &request_hash).await?
                {
                    return Ok(found);
                }
                // Checks come before any write: an `Ok(Err(..))` commits nothing.
                let Some(party) = tx.party(target.party).await? else {
                    return Ok(Err(PipelineError::NotFound {
                        what: "party",
                        id: target.party.to_string(),
                    }));
                };
                let identities = tx.party_identities(party.id).await?;
                let recipient = match choose_recipient(&identities, target.to.as_ref(), &channel) {
                    Ok(recipient) => recipient,
                    Err(err) => return Ok(Err(err)),
                };
                let now = Timestamp::now();
                let mut conv = Conversation {
                    id: ConversationId::new(),
                    channel_account_id: channel.record.id,
                    party_id: party.id,
                    case_id: None,
                    thread_keys: Vec::new(),
                    threading_reason: Some("started by an outbound message".into()),
                    subject: message.subject.clone(),
                    opened_at: now,
                    last_activity_at: now,
                };
                let case_id = open_or_new_case(tx, party.id, target.case, &mut conv).await?;
                let outbound = new_outbound(&channel, recipient, &message);
                tx.append_event(&events::conversation_started(&conv))
                    .await?;
                let key = idempotency_key
                    .as_deref()
                    .map(|k| (k, request_hash.as_str()));
                Ok(Ok(queue(
                    tx,
                    &channel,
                    &mut conv,
                    case_id,
                    outbound,
                    key,
                    &backoffice,
                )
                .await?))
            })
        })
        .await??;
        self.sent.notify_one();
        Ok(submitted)
    }
}

/// A message that starts an exchange with `recipient` (no thread keys and
/// nothing to reply to), with a fresh reply token.
fn new_outbound(
    channel: &ChannelAccount,
    recipient: Identity,
    message: &NewMessage,
) -> OutboundMessage {
    OutboundMessage {
        channel_account: channel.record.id.to_string(),
        interaction_id: InteractionId::new(),
        recipient,
        sender: None,
        subject: message.subject.clone(),
        parts: message.parts.clone(),
        thread_keys: Vec::new(),
        reply_to_provider_message_id: None,
        reply_to_email: None,
        reply_token: new_reply_token(),
    }
}

/// Whom a follow-up in a conversation without an answer goes to: the
/// recipient of our newest message in it, as stored.
async fn follow_up_recipient(
    tx: &mut dyn StoreTx,
    conversation: ConversationId,
) -> silta_store::Result<Option<Identity>> {
    let Some(ours) = tx
        .latest_interaction(conversation, Direction::Outbound)
        .await?
    else {
        return Ok(None);
    };
    match ours.recipients.first() {
        Some(key) => tx.identity_by_key(key).await,
        None => Ok(None),
    }
}

/// Whom a reply to `last` goes to: its `Reply-To` when it named one
/// (as stored, if the identity is known), else its sender.
async fn answer_recipient(
    tx: &mut dyn StoreTx,
    last: &Interaction,
) -> silta_store::Result<Option<Identity>> {
    if let Some(key) = last.email.as_ref().and_then(EmailHeaders::answer_to) {
        let known = tx.identity_by_key(key).await?;
        return Ok(Some(known.unwrap_or_else(|| {
            Identity::from_key(key.clone(), Assurance::ChannelAsserted)
        })));
    }
    tx.identity_by_key(&last.sender).await
}

impl Outbound {
    /// The conversation a new message to `target` continues instead of
    /// starting one. A channel whose plugin declares one thread per contact
    /// (`threading = "per-contact"`: a web chat visitor's widget, a
    /// messaging app's chat) shows the contact a single thread, so the
    /// message goes into the latest conversation on that channel account
    /// with the recipient (they wrote last in it, or we wrote to them and
    /// they have not answered yet); a web chat visitor could never see a
    /// new one. `None`: start a conversation.
    async fn continued_conversation(
        &self,
        target: &Proactive,
        channel: &ChannelAccount,
    ) -> Result<Option<ConversationId>> {
        if channel.plugin.manifest().threading != Threading::PerContact {
            return Ok(None);
        }
        let identities = self.store.party_identities(target.party).await?;
        // A party or recipient that is not there is reported by the
        // new-conversation path, with its reason.
        let Ok(recipient) = choose_recipient(&identities, target.to.as_ref(), channel) else {
            return Ok(None);
        };
        let account = channel.record.id;
        let conversations: Vec<ConversationId> = self
            .store
            .party_cases(target.party)
            .await?
            .into_iter()
            .flat_map(|case| case.conversation_ids)
            .collect();
        let recipient = recipient.key();
        let found = transact(&*self.store, move |tx| {
            Box::pin(async move {
                let found = contact_conversation(
                    tx,
                    conversations,
                    account,
                    &recipient,
                    ContactWrote::NotYetOrLast,
                )
                .await?;
                Ok(found.map(|conv| conv.id))
            })
        })
        .await?;
        Ok(found)
    }

    /// Refuse a message the sender could not deliver as asked: no parts,
    /// or an attachment whose bytes are not in the blob store.
    async fn check_message(&self, message: &NewMessage) -> Result<()> {
        if message.parts.is_empty() {
            return Err(PipelineError::Invalid(
                "a message needs at least one part (for example `text`)".into(),
            ));
        }
        for (n, part) in message.parts.iter().enumerate() {
            let Part::Attachment(attachment) = part else {
                continue;
            };
            match &attachment.content_hash {
                Some(hash) => {
                    let stored = self.store.blob_size(hash).await?;
                    if stored.is_none() {
                        return Err(PipelineError::Invalid(format!(
                            "parts[{n}]: no bytes are stored under {hash}; \
                             upload them with POST /v1/blobs first"
                        )));
                    }
                }
                None if attachment.url.is_none() => {
                    return Err(PipelineError::Invalid(format!(
                        "parts[{n}]: an attachment needs a content_hash (from POST /v1/blobs) or a url"
                    )));
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// The identity to send a proactive message to.
fn choose_recipient(
    identities: &[Identity],
    to: Option<&IdentityKey>,
    channel: &ChannelAccount,
) -> Result<Identity> {
    if let Some(to) = to {
        return identities
            .iter()
            .find(|i| &i.key() == to)
            .cloned()
            .ok_or_else(|| {
                PipelineError::Invalid(format!(
                    "identity {}:{} is not one of the party's identities",
                    to.kind().name(),
                    to.value()
                ))
            });
    }
    let account_scope = IdentityScope::ChannelAccount(channel.record.id.to_string());
    identities
        .iter()
        .find(|i| i.scope() == &account_scope)
        .or_else(|| {
            identities
                .iter()
                .find(|i| i.scope() == &IdentityScope::Global)
        })
        .cloned()
        .ok_or_else(|| {
            PipelineError::Invalid(format!(
                "the party has no identity reachable on channel account `{}`; name one in `to`",
                channel.record.name
            ))
        })
}

/// The interaction, outbox item and event of one outbound message, and
/// the API idempotency key (with the request's hash) that asked for it.
async fn queue(
    tx: &mut dyn StoreTx,
    channel: &ChannelAccount,
    conv: &mut Conversation,
    case_id: CaseId,
    payload: OutboundMessage,
    idempotency: Option<(&str, &str)>,
    backoffice: &[String],
) -> silta_store::Result<Submitted> {
    let now = Timestamp::now();
    let id = payload.interaction_id;
    let account = channel.record.id;
    let sender = IdentityKey::new(
        IdentityKind::Custom("silta_channel_account".into()),
        &channel.record.name,
        IdentityScope::Global,
        &NormalizeOptions::default(),
    )
    .map_err(|err| StoreError::Aborted(format!("channel account name: {err}")))?;
    let idempotency_key = IdempotencyKey::new(account, "silta", &id.to_string())
        .map_err(|err| StoreError::Aborted(err.to_string()))?;
    let info = channel.plugin.info();
    let interaction = Interaction {
        id,
        kind: InteractionKind::Message,
        direction: Direction::Outbound,
        sender_role: SenderRole::Agent,
        sender,
        recipients: vec![payload.recipient.key()],
        conversation_id: Some(conv.id),
        case_id: Some(case_id),
        party_id: Some(conv.party_id),
        subject: payload.subject.clone(),
        parts: payload.parts.clone(),
        email: None,
        thread_keys: vec![ThreadKey::ReplyToken(payload.reply_token.clone())],
        occurred_at: now,
        received_at: now,
        delivery: vec![DeliveryEvent {
            state: DeliveryState::Queued,
            provider_code: None,
            detail: None,
            at: now,
            attempt: 0,
            provider_message_id: None,
        }],
        provenance: Provenance {
            plugin_id: info.id.clone(),
            plugin_version: info.version.clone(),
            provider: "silta".into(),
            provider_message_id: id.to_string(),
            raw_blob_ref: None,
        },
        idempotency_key,
        threading_reason: Some(format!("sent by Silta in conversation {}", conv.id)),
        attributes: Default::default(),
        linking: None,
        enrichment: enrichment::initial_state(backoffice),
        backoffice_links: Vec::new(),
    };
    if let Some(mut case) = tx.case(case_id).await? {
        case.last_activity_at = Some(now);
        case.last_outbound_channel = Some(account);
        tx.save_case(&case).await?;
    }
    let token = ThreadKey::ReplyToken(payload.reply_token.clone());
    conv.case_id = Some(case_id);
    conv.last_activity_at = now;
    tx.save_conversation(conv, &[token]).await?;
    tx.insert_interaction(&interaction, None).await?;
    enrichment::queue(tx, id, backoffice).await?;
    let payload = serde_json::to_value(&payload)
        .map_err(|err| StoreError::Aborted(format!("outbox payload: {err}")))?;
    tx.enqueue_outbox(id, account, &payload, now.as_datetime().timestamp_millis())
        .await?;
    tx.append_event(&events::interaction_created(
        &interaction,
        &channel.record.name,
    ))
    .await?;
    if let Some((key, request_hash)) = idempotency {
        tx.put_api_idempotency(key, request_hash, id, now).await?;
    }
    Ok(Submitted {
        interaction_id: id,
        conversation_id: conv.id,
        replayed: false,
    })
}

async fn open_or_new_case(
    tx: &mut dyn StoreTx,
    party: PartyId,
    chosen: Option<CaseId>,
    conv: &mut Conversation,
) -> silta_store::Result<CaseId> {
    let found = match chosen {
        Some(id) => tx.case(id).await?,
        None => tx.open_case_of_party(party).await?,
    };
    let mut case = match found {
        Some(case) => case,
        None => {
            let case = Case::open(party, conv.subject.clone(), Timestamp::now());
            tx.append_event(&events::case_opened(&case)).await?;
            case
        }
    };
    if !case.conversation_ids.contains(&conv.id) {
        case.conversation_ids.push(conv.id);
    }
    tx.save_case(&case).await?;
    conv.case_id = Some(case.id);
    Ok(case.id)
}

async fn replayed(
    tx: &mut dyn StoreTx,
    key: Option<&str>,
    request_hash: &str,
) -> silta_store::Result<Option<Result<Submitted>>> {
    let Some(key) = key else { return Ok(None) };
    let Some((hash, interaction_id)) = tx.api_idempotency(key).await? else {
        return Ok(None);
    };
    if hash != request_hash {
        return Ok(Some(Err(PipelineError::IdempotencyMismatch(
            key.to_owned(),
        ))));
    }
    let interaction = tx.interaction(interaction_id).await?.ok_or_else(|| {
        StoreError::Aborted(format!("idempotency key {key} names a missing interaction"))
    })?;
    let Some(conversation_id) = interaction.conversation_id else {
        return Err(StoreError::Aborted(format!(
            "interaction {interaction_id} has no conversation"
        )));
    };
    Ok(Some(Ok(Submitted {
        interaction_id,
        conversation_id,
        replayed: true,
    })))
}

fn hash_request<T: Serialize>(request: &T) -> String {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

fn new_reply_token() -> String {
    let bytes: [u8; 12] = rand::random();
    hex::encode(bytes)
}

/// The thread keys a reply carries: the conversation's own, then those of
/// the message it answers (for email, its Message-ID and References).
fn reply_thread_keys(conversation: &Conversation, answered: &Interaction) -> Vec<ThreadKey> {
    let mut keys = conversation.thread_keys.clone();
    for key in &answered.thread_keys {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    keys
}
