//! Linking interactions into the contact graph, inside one unit of work.
//!
//! The rules, in order:
//! 1. **Idempotency**: an interaction whose idempotency key is already
//!    stored is a redelivery; nothing changes and no event is published.
//! 2. **Party**: the sender's identity is resolved by the rules of
//!    [`identity_resolution`](crate::identity_resolution) ([`resolve_parties`]).
//! 3. **Conversation**: the first of the interaction's thread keys that a
//!    conversation on the same channel account already holds decides it.
//!    Otherwise, on a channel that shows each contact one thread
//!    (`threading = "per-contact"`: a chat app), a conversation we started
//!    with a message to this sender, who has not written in it yet, takes
//!    their answer; otherwise a new conversation starts. The conversation
//!    claims the new keys, and the message's own provider id, so replies to
//!    it find it.
//! 4. **Case**: the conversation's case while it is open; otherwise the
//!    party's open case, if it saw activity within the case window (so a
//!    message on a new channel joins the matter the customer already has
//!    open); otherwise a new case.
//!
//! Each decision is written down on the interaction (`linking`, and in
//! words in `threading_reason`), and the interaction is queued for each
//! configured back office ([`crate::enrichment`]).

use std::collections::HashMap;

use silta_model::{
    Case, CaseId, CaseStatus, ChannelAccountId, Conversation, ConversationId, DeliveryEvent,
    DeliveryUpdate, Direction, Identity, IdentityKey, Interaction, LinkDecision,
    LinkingExplanation, PartyId, ThreadKey,
};
use silta_store::StoreTx;
use silta_store::records::NewEvent;

use crate::error::Result;
use crate::identity_resolution::{Claimant, Resolution, resolve_sender};
use crate::{enrichment, events};

/// What linking one item did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// A new interaction, with its links.
    Created {
        /// The interaction.
        interaction: silta_model::InteractionId,
        /// Its party.
        party: PartyId,
        /// Its conversation.
        conversation: ConversationId,
        /// Its case.
        case: CaseId,
    },
    /// The provider delivered the same message again.
    Duplicate(silta_model::InteractionId),
    /// A delivery report was added to a sent message's history.
    DeliveryRecorded(silta_model::InteractionId),
    /// A delivery report about a message Silta does not know.
    DeliveryUnmatched(String),
}

/// How linking behaves; the same for every interaction of a run.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// An open case of the party is reused for a new conversation only if
    /// it saw activity this recently.
    pub case_window: std::time::Duration,
    /// Back-office plugins every new interaction is queued for.
    pub backoffice_plugins: Vec<String>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            case_window: std::time::Duration::from_secs(7 * 24 * 3600),
            backoffice_plugins: Vec::new(),
        }
    }
}

/// Who sent what on which channel: the input of [`resolve_parties`].
#[derive(Debug, Clone)]
pub struct Sender {
    /// The sender's identity.
    pub identity: Identity,
    /// The channel plugin that reported it.
    pub plugin: String,
    /// The channel account it came in on.
    pub channel_account: ChannelAccountId,
}

/// Where each sender belongs, by (identity, channel account); creates
/// parties (and publishes their events) as the rules call for.
pub async fn resolve_parties(
    tx: &mut dyn StoreTx,
    senders: &[Sender],
) -> Result<HashMap<(IdentityKey, ChannelAccountId), Resolution>> {
    let mut resolved = HashMap::new();
    for sender in senders {
        let key = (sender.identity.key(), sender.channel_account);
        if resolved.contains_key(&key) {
            continue;
        }
        let claimant = Claimant {
            plugin: &sender.plugin,
            channel_account: sender.channel_account,
        };
        let resolution = resolve_sender(tx, &sender.identity, claimant).await?;
        resolved.insert(key, resolution);
    }
    Ok(resolved)
}

/// The channel account an interaction came in on, as linking sees it.
#[derive(Debug, Clone, Copy)]
pub struct LinkChannel<'a> {
    /// The channel account.
    pub id: ChannelAccountId,
    /// Its name, for the events.
    pub name: &'a str,
    /// Its plugin shows each contact one thread (`threading =
    /// "per-contact"` in the manifest).
    pub per_contact: bool,
}

/// Link one normalized interaction from `channel` to `party`.
pub async fn link_interaction(
    tx: &mut dyn StoreTx,
    mut interaction: Interaction,
    resolution: &Resolution,
    channel: &LinkChannel<'_>,
    journal_seq: Option<i64>,
    options: &LinkOptions,
) -> Result<Linked> {
    let channel_account = channel.id;
    let party = resolution.party;
    if let Some(existing) = tx
        .interaction_by_idempotency_key(&interaction.idempotency_key)
        .await?
    {
        return Ok(Linked::Duplicate(existing.id));
    }
    let mut pending_events: Vec<NewEvent> = Vec::new();
    let own_key = ThreadKey::ReplyToProviderMessage(
        interaction.idempotency_key.provider_message_id().to_owned(),
    );
    let found = tx
        .conversation_by_thread_keys(channel_account, &interaction.thread_keys)
        .await?;
    let matched_key = found.as_ref().map(|(_, key)| key.clone());
    let found = match found {
        Some((conversation, key)) => {
            let reason = format!("conversation {} holds thread key {key:?}", conversation.id);
            Some((conversation, reason, "thread-key"))
        }
        None if channel.per_contact => {
            awaiting_answer(tx, party, channel_account, &interaction.sender)
                .await?
                .map(|conversation| {
                    let reason = format!(
                        "conversation {} began with our message to this sender, who had not \
                         written in it yet (the channel shows each contact one thread)",
                        conversation.id
                    );
                    (conversation, reason, "answer-to-new-conversation")
                })
        }
        None => None,
    };
    let (mut conversation, mut reason, rule, conversation_is_new) = match found {
        Some((conversation, reason, rule)) => (conversation, reason, rule, false),
        None => {
            let conversation = Conversation {
                id: ConversationId::new(),
                channel_account_id: channel_account,
                party_id: party,
                case_id: None,
                thread_keys: Vec::new(),
                threading_reason: None,
                subject: interaction.subject.clone(),
                opened_at: interaction.occurred_at,
                last_activity_at: interaction.occurred_at,
            };
            let reason = if interaction.thread_keys.is_empty() {
                "new conversation: the message has no thread keys".to_owned()
            } else {
                "new conversation: no conversation holds any of the message's thread keys"
                    .to_owned()
            };
            (conversation, reason, "new-conversation", true)
        }
    };
    // The keys this message adds; the matched one is held already.
    let mut new_keys: Vec<ThreadKey> = Vec::with_capacity(interaction.thread_keys.len() + 1);
    for key in interaction
        .thread_keys
        .iter()
        .chain(std::iter::once(&own_key))
    {
        if Some(key) != matched_key.as_ref() && !new_keys.contains(key) {
            new_keys.push(key.clone());
        }
    }
    if conversation_is_new {
        conversation.thread_keys.clone_from(&new_keys);
        conversation.threading_reason = Some(reason.clone());
    }
    conversation.last_activity_at = conversation.last_activity_at.max(interaction.occurred_at);

    let conversation_decision = LinkDecision {
        rule: rule.to_owned(),
        identity: None,
        thread_key: matched_key.clone(),
        detail: reason.clone(),
    };
    let (mut case, case_is_new, case_decision) =
        choose_case(tx, &conversation, party, &interaction, options).await?;
    let case_reason = case_decision.detail.clone();
    if !case.conversation_ids.contains(&conversation.id) {
        case.conversation_ids.push(conversation.id);
    }
    case.last_activity_at = Some(case.last_activity_at.map_or(interaction.occurred_at, |at| {
        at.max(interaction.occurred_at)
    }));
    match interaction.direction {
        Direction::Inbound => case.last_inbound_channel = Some(channel_account),
        Direction::Outbound => case.last_outbound_channel = Some(channel_account),
    }
    conversation.case_id = Some(case.id);
    reason.push_str("; ");
    reason.push_str(&case_reason);

    interaction.party_id = Some(party);
    interaction.conversation_id = Some(conversation.id);
    interaction.case_id = Some(case.id);
    interaction.threading_reason = Some(reason);
    interaction.linking = Some(LinkingExplanation {
        party: resolution.decision.clone(),
        conversation: conversation_decision,
        case: case_decision,
    });
    interaction.enrichment = enrichment::initial_state(&options.backoffice_plugins);

    tx.save_case(&case).await?;
    tx.save_conversation(&conversation, &new_keys).await?;
    if !tx.insert_interaction(&interaction, journal_seq).await? {
        // Only reachable if a concurrent writer stored it first; the unit
        // is rolled back by the caller's error handling otherwise.
        return Ok(Linked::Duplicate(interaction.id));
    }
    enrichment::queue(tx, interaction.id, &options.backoffice_plugins).await?;
    if case_is_new {
        pending_events.push(events::case_opened(&case));
    }
    if conversation_is_new {
        pending_events.push(events::conversation_started(&conversation));
    }
    pending_events.push(events::interaction_created(&interaction, channel.name));
    for event in &pending_events {
        tx.append_event(event).await?;
    }
    Ok(Linked::Created {
        interaction: interaction.id,
        party,
        conversation: conversation.id,
        case: case.id,
    })
}

/// The newest conversation of `party` on `account` (in its open case) that
/// began with a message from us to `sender` and has no message from them
/// yet: on a channel with one thread per contact, where their answer
/// belongs although it names only the chat.
async fn awaiting_answer(
    tx: &mut dyn StoreTx,
    party: PartyId,
    account: ChannelAccountId,
    sender: &IdentityKey,
) -> Result<Option<Conversation>> {
    let Some(case) = tx.open_case_of_party(party).await? else {
        return Ok(None);
    };
    Ok(contact_conversation(
        tx,
        case.conversation_ids,
        account,
        sender,
        ContactWrote::NotYet,
    )
    .await?)
}

/// Which conversations [`contact_conversation`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContactWrote {
    /// Only those where we wrote to the contact and they have not answered.
    NotYet,
    /// Those too, and those where the contact wrote last among inbound
    /// messages.
    NotYetOrLast,
}

/// The newest of `conversations` on `account` that is with `contact` on a
/// channel with one thread per contact: they sent its newest inbound
/// message (with [`ContactWrote::NotYetOrLast`]), or it has none and our
/// newest message in it went to them.
pub(crate) async fn contact_conversation(
    tx: &mut dyn StoreTx,
    conversations: Vec<ConversationId>,
    account: ChannelAccountId,
    contact: &IdentityKey,
    wrote: ContactWrote,
) -> silta_store::Result<Option<Conversation>> {
    let mut found: Option<Conversation> = None;
    for id in conversations {
        let Some(conversation) = tx.conversation(id).await? else {
            continue;
        };
        if conversation.channel_account_id != account
            || found
                .as_ref()
                .is_some_and(|f| f.last_activity_at >= conversation.last_activity_at)
        {
            continue;
        }
        let with_contact = match tx.latest_interaction(id, Direction::Inbound).await? {
            Some(theirs) => wrote == ContactWrote::NotYetOrLast && theirs.sender == *contact,
            None => tx
                .latest_interaction(id, Direction::Outbound)
                .await?
                .is_some_and(|ours| ours.recipients.contains(contact)),
        };
        if with_contact {
            found = Some(conversation);
        }
    }
    Ok(found)
}

async fn choose_case(
    tx: &mut dyn StoreTx,
    conversation: &Conversation,
    party: PartyId,
    interaction: &Interaction,
    options: &LinkOptions,
) -> Result<(Case, bool, LinkDecision)> {
    let decision = |rule: &str, detail: String| LinkDecision {
        rule: rule.to_owned(),
        identity: None,
        thread_key: None,
        detail,
    };
    if let Some(case_id) = conversation.case_id
        && let Some(case) = open_case(tx, case_id).await?
    {
        let detail = format!("case {case_id} of the conversation");
        return Ok((case, false, decision("case-of-conversation", detail)));
    }
    if let Some(case) = tx.open_case_of_party(party).await? {
        let last = case.last_activity_at.unwrap_or(case.opened_at);
        let window_ms = i64::try_from(options.case_window.as_millis()).unwrap_or(i64::MAX);
        let since_ms = interaction.occurred_at.as_datetime().timestamp_millis()
            - last.as_datetime().timestamp_millis();
        if since_ms <= window_ms {
            let detail = format!(
                "open case {} of the party reused (last activity {last}, within the case window)",
                case.id
            );
            return Ok((case, false, decision("open-case-of-party", detail)));
        }
    }
    let case = Case::open(
        party,
        conversation.subject.clone(),
        silta_model::Timestamp::now(),
    );
    let detail = "new case: the party had no open case within the case window".to_owned();
    Ok((case, true, decision("new-case", detail)))
}

async fn open_case(tx: &mut dyn StoreTx, id: CaseId) -> Result<Option<Case>> {
    Ok(tx
        .case(id)
        .await?
        .filter(|case| matches!(case.status, CaseStatus::Open | CaseStatus::Pending)))
}

/// Add a provider's delivery report to the history of the message it is
/// about; reports repeated by the provider are recorded once.
pub async fn record_delivery(
    tx: &mut dyn StoreTx,
    update: &DeliveryUpdate,
    channel_account: ChannelAccountId,
) -> Result<Linked> {
    let Some(mut interaction) = tx
        .interaction_by_provider_message_id(channel_account, &update.provider_message_id)
        .await?
    else {
        return Ok(Linked::DeliveryUnmatched(
            update.provider_message_id.clone(),
        ));
    };
    let attempt = interaction
        .delivery
        .iter()
        .map(|d| d.attempt)
        .max()
        .unwrap_or(1);
    let event = DeliveryEvent {
        state: update.state,
        provider_code: update.provider_code.clone(),
        detail: update.detail.clone(),
        at: update.at,
        attempt,
        provider_message_id: None,
    };
    if !interaction.delivery.contains(&event) {
        interaction.delivery.push(event);
        tx.update_interaction(&interaction, None).await?;
        tx.append_event(&events::delivery_updated(&interaction))
            .await?;
    }
    Ok(Linked::DeliveryRecorded(interaction.id))
}
