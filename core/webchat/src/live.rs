//! Which visitors have a widget open, and the frames on their way to them.
//!
//! Every open widget (a socket or an SSE stream) registers a bounded queue
//! under its visitor. One task per node tails the event log
//! ([`Live::follow_events`]) and pushes to the visitors concerned: a
//! visitor's own message once it is recorded, and an agent's reply once it
//! is sent and whenever its delivery state changes.
//!
//! Nothing is kept only here. A widget whose queue is full is dropped
//! (it reconnects), and every (re)connect starts with the visitor's
//! history from the store, which the widget merges by message id; so a
//! frame missed here is never a message lost, and never a duplicate.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use silta_model::{ConversationId, Direction, Interaction};
use silta_pipeline::events::{DELIVERY_UPDATED, INTERACTION_CREATED};
use silta_store::Store;
use tokio::sync::{mpsc, watch};

use crate::widget_frames::{self, Frame, WidgetMessage};

/// Frames queued per open widget before it is dropped as too slow.
pub const QUEUE_FRAMES: usize = 256;

/// (channel account name, visitor id).
type VisitorKey = (String, String);

#[derive(Default)]
struct Registry {
    visitors: HashMap<VisitorKey, Visitor>,
    conversations: HashMap<ConversationId, VisitorKey>,
}

#[derive(Default)]
struct Visitor {
    widgets: Vec<(u64, mpsc::Sender<Frame>)>,
    conversations: HashSet<ConversationId>,
}

/// The open widgets of this node.
#[derive(Default)]
pub struct Live {
    registry: Mutex<Registry>,
    next_id: AtomicU64,
}

/// An open widget's registration; dropping it unregisters the widget.
pub struct Subscription {
    live: Arc<Live>,
    key: VisitorKey,
    id: u64,
    /// The widget's frames.
    pub frames: mpsc::Receiver<Frame>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut registry = self.live.lock();
        let Some(visitor) = registry.visitors.get_mut(&self.key) else {
            return;
        };
        visitor.widgets.retain(|(id, _)| *id != self.id);
        if visitor.widgets.is_empty()
            && let Some(visitor) = registry.visitors.remove(&self.key)
        {
            for conversation in visitor.conversations {
                registry.conversations.remove(&conversation);
            }
        }
    }
}

impl Live {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Register an open widget of `visitor` on `account`, following
    /// `conversation` if the visitor has one yet.
    #[must_use]
    pub fn subscribe(
        self: &Arc<Self>,
        account: &str,
        visitor: &str,
        conversation: Option<ConversationId>,
    ) -> Subscription {
        let (sender, frames) = mpsc::channel(QUEUE_FRAMES);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let key = (account.to_owned(), visitor.to_owned());
        let mut registry = self.lock();
        let entry = registry.visitors.entry(key.clone()).or_default();
        entry.widgets.push((id, sender));
        if let Some(conversation) = conversation {
            entry.conversations.insert(conversation);
            registry.conversations.insert(conversation, key.clone());
        }
        drop(registry);
        Subscription {
            live: Arc::clone(self),
            key,
            id,
            frames,
        }
    }

    /// Whether `visitor` of `account` has a widget open.
    #[must_use]
    pub fn is_online(&self, account: &str, visitor: &str) -> bool {
        self.lock()
            .visitors
            .contains_key(&(account.to_owned(), visitor.to_owned()))
    }

    /// Queue `frame` for every open widget of `visitor`; returns how many
    /// took it. A widget whose queue is full is dropped (it reconnects and
    /// gets the history).
    pub fn push_to_visitor(&self, account: &str, visitor: &str, frame: &Frame) -> usize {
        let mut registry = self.lock();
        let Some(entry) = registry
            .visitors
            .get_mut(&(account.to_owned(), visitor.to_owned()))
        else {
            return 0;
        };
        entry
            .widgets
            .retain(|(_, sender)| sender.try_send(frame.clone()).is_ok());
        entry.widgets.len()
    }

    /// The open visitor following `conversation`, if any.
    fn visitor_following(&self, conversation: ConversationId) -> Option<VisitorKey> {
        self.lock().conversations.get(&conversation).cloned()
    }

    /// A visitor's message was recorded in `conversation`: follow it.
    fn follow(&self, key: &VisitorKey, conversation: ConversationId) {
        let mut registry = self.lock();
        if let Some(visitor) = registry.visitors.get_mut(key) {
            visitor.conversations.insert(conversation);
            registry.conversations.insert(conversation, key.clone());
        }
    }

    /// Tail the event log from its end, pushing what open widgets must
    /// show, until `shutdown` turns true.
    pub async fn follow_events(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut watch = store.event_watch();
        let mut after = loop {
            match store.queue_depths().await {
                Ok(depths) => break depths.last_event_seq,
                Err(err) => {
                    tracing::warn!(error = %err, "web chat: reading the event log's end failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        while !*shutdown.borrow() {
            match store.events_after(after, 256).await {
                Ok(events) if !events.is_empty() => {
                    for event in events {
                        after = event.seq;
                        self.on_event(&*store, &event.event_type, &event.data).await;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "web chat: reading events failed; retrying");
                }
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::timeout(Duration::from_secs(1), watch.changed()) => {}
            }
        }
    }

    async fn on_event(&self, store: &dyn Store, event_type: &str, data: &serde_json::Value) {
        if self.lock().visitors.is_empty() {
            // No widget open: nothing to push, whatever happened.
            return;
        }
        match event_type {
            INTERACTION_CREATED => {
                // Read the whole interaction only when an open widget may
                // show it: a followed conversation's, or a visitor's own.
                let fields = &data["interaction"];
                let followed = conversation_id(&fields["conversation_id"])
                    .is_some_and(|id| self.visitor_following(id).is_some());
                if !followed && !fields["attributes"]["webchat.visitor"].is_string() {
                    return;
                }
                let Ok(interaction) = serde_json::from_value::<Interaction>(fields.clone()) else {
                    return;
                };
                let account = data["channel_account"].as_str();
                self.on_interaction(&interaction, account);
            }
            DELIVERY_UPDATED => {
                let Some(conversation) = conversation_id(&data["conversation_id"]) else {
                    return;
                };
                if self.visitor_following(conversation).is_none() {
                    return;
                }
                let Some(id) = data["interaction_id"]
                    .as_str()
                    .and_then(|id| id.parse().ok())
                else {
                    return;
                };
                match store.interaction(id).await {
                    Ok(Some(interaction)) => self.on_interaction(&interaction, None),
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "web chat: reading an interaction failed; the widget gets it with its next history")
                    }
                }
            }
            _ => {}
        }
    }

    /// Push `interaction` to the visitor whose conversation holds it;
    /// `account` names the channel account of a new interaction.
    fn on_interaction(&self, interaction: &Interaction, account: Option<&str>) {
        let Some(conversation) = interaction.conversation_id else {
            return;
        };
        let key = match self.visitor_following(conversation) {
            Some(key) => key,
            None if interaction.direction == Direction::Inbound => {
                // A visitor's first message starts their conversation.
                let (Some(account), Some(visitor)) =
                    (account, interaction.attributes.get("webchat.visitor"))
                else {
                    return;
                };
                let key = (account.to_owned(), visitor.clone());
                self.follow(&key, conversation);
                key
            }
            None => return,
        };
        if let Some(message) = WidgetMessage::of(interaction) {
            self.push_to_visitor(&key.0, &key.1, &widget_frames::message(&message));
        }
    }
}

/// A conversation id in event data.
fn conversation_id(value: &serde_json::Value) -> Option<ConversationId> {
    value.as_str().and_then(|id| id.parse().ok())
}
