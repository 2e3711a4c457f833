//! The dead-letter queue: list and replay.
//!
//! An inbound dead letter is replayed by running its journal entry
//! through the plugin and linking again, in one unit of work that also
//! removes the dead letter; if the plugin fails again, the dead letter
//! stays with one more attempt counted. An outbound dead letter is put
//! back in the outbox and tried once at once; if that attempt fails it is
//! retried or dead-lettered again as usual.

use std::sync::Arc;

use serde::Serialize;
use silta_store::Store;
use silta_store::records::{DeadLetter, DeadLetterFilter, DeadLetterSource};

use crate::error::Result;
use crate::inbound::Inbound;
use crate::sender::{Attempt, Sender};

/// What replaying one dead letter did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replayed {
    /// The dead letter.
    pub id: i64,
    /// `inbound` or `outbound`.
    pub source: DeadLetterSource,
    /// True when it succeeded and left the queue.
    pub succeeded: bool,
    /// What happened.
    pub detail: String,
}

/// Dead letters matching `filter`.
pub async fn list(store: &dyn Store, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>> {
    Ok(store.dead_letters(filter).await?)
}

/// Replay every dead letter matching `filter`, oldest first.
pub async fn replay(
    store: &dyn Store,
    inbound: &Arc<Inbound>,
    sender: &Arc<Sender>,
    filter: &DeadLetterFilter,
) -> Result<Vec<Replayed>> {
    let letters = store.dead_letters(filter).await?;
    let mut report = Vec::with_capacity(letters.len());
    for letter in letters {
        report.push(replay_one(inbound, sender, &letter).await);
    }
    Ok(report)
}

async fn replay_one(inbound: &Arc<Inbound>, sender: &Arc<Sender>, letter: &DeadLetter) -> Replayed {
    let failure = &letter.failure;
    let (succeeded, detail) = match (failure.source, failure.journal_seq, failure.outbox_id) {
        (DeadLetterSource::Inbound, Some(seq), _) => {
            match inbound.replay_entry(seq, letter.id).await {
                Ok(linked) => (true, format!("journal entry {seq} processed: {linked:?}")),
                Err(err) => (false, format!("journal entry {seq} failed again: {err}")),
            }
        }
        (DeadLetterSource::Outbound, _, Some(outbox)) => {
            match sender.replay(outbox, letter.id).await {
                Ok(Attempt::Sent { .. }) => (true, format!("outbox item {outbox} sent")),
                Ok(Attempt::Retrying { reason, after, .. }) => (
                    true,
                    format!(
                        "outbox item {outbox} is back in the outbox; the attempt failed ({reason}) and is retried in {} ms",
                        after.as_millis()
                    ),
                ),
                Ok(Attempt::DeadLettered { reason, .. }) => (
                    false,
                    format!("outbox item {outbox} failed again: {reason}"),
                ),
                Err(err) => (false, format!("outbox item {outbox}: {err}")),
            }
        }
        _ => (
            false,
            "the dead letter names neither a journal entry nor an outbox item".into(),
        ),
    };
    Replayed {
        id: letter.id,
        source: failure.source,
        succeeded,
        detail,
    }
}
