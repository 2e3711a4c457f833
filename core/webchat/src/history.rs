//! A visitor's conversation as the widget shows it.
//!
//! The `webchat` plugin threads every message of a visitor on the key
//! `provider-thread visitor:<id>`, so a visitor has one conversation per
//! channel account, found by that key.

use std::collections::VecDeque;
use std::sync::Arc;

use silta_model::{ChannelAccountId, Conversation, ConversationId, ThreadKey};
use silta_store::Store;
use silta_store::records::InteractionsOf;

use crate::Result;
use crate::widget_frames::WidgetMessage;

/// Most messages a history frame holds (the latest).
pub const HISTORY_MESSAGES: usize = 200;

/// The thread key of `visitor`'s conversation.
#[must_use]
pub fn thread_key(visitor: &str) -> ThreadKey {
    ThreadKey::ProviderThread(format!("visitor:{visitor}"))
}

/// The visitor whose conversation this is, if it is a web chat visitor's.
#[must_use]
pub fn visitor_of(conversation: &Conversation) -> Option<&str> {
    conversation.thread_keys.iter().find_map(|key| match key {
        ThreadKey::ProviderThread(thread) => thread.strip_prefix("visitor:"),
        _ => None,
    })
}

/// `visitor`'s conversation on `account`, once they have written.
pub async fn conversation_of(
    store: &dyn Store,
    account: ChannelAccountId,
    visitor: &str,
) -> Result<Option<ConversationId>> {
    let found = store
        .conversation_by_thread_key(account, &thread_key(visitor))
        .await?;
    Ok(found.map(|conversation| conversation.id))
}

/// The latest [`HISTORY_MESSAGES`] messages of `conversation` the visitor
/// may see, oldest first.
pub async fn messages(
    store: &Arc<dyn Store>,
    conversation: ConversationId,
) -> Result<Vec<WidgetMessage>> {
    let mut latest = VecDeque::with_capacity(HISTORY_MESSAGES);
    let mut cursor = None;
    loop {
        let page = store
            .interactions(InteractionsOf::Conversation(conversation), cursor, 500)
            .await?;
        for interaction in &page.items {
            if let Some(message) = WidgetMessage::of(interaction) {
                if latest.len() == HISTORY_MESSAGES {
                    latest.pop_front();
                }
                latest.push_back(message);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(latest.into()),
        }
    }
}
