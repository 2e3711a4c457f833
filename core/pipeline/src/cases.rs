//! What agents do with cases: set their status, move a conversation to
//! another case (or a new one), and open or update the back-office ticket.

use std::sync::Arc;

use silta_model::{BackofficeLink, Case, CaseId, CaseStatus, ConversationId, Timestamp};
use silta_runtime::contract::Ticket;
use silta_store::{Store, StoreTx, transact};

use crate::enrichment::Backoffice;
use crate::error::{PipelineError, Result};
use crate::events;
use crate::failure::Failure;

/// Where a conversation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseTarget {
    /// An existing case of the same party.
    Existing(CaseId),
    /// A new case, opened for it.
    New,
}

/// Set a case's status; returns the case.
pub async fn set_status(store: &Arc<dyn Store>, id: CaseId, status: CaseStatus) -> Result<Case> {
    transact(&**store, move |tx| {
        Box::pin(async move {
            let Some(mut case) = tx.case(id).await? else {
                return Ok(Err(not_found(id)));
            };
            if case.status != status {
                case.status = status;
                case.closed_at = matches!(status, CaseStatus::Closed | CaseStatus::Resolved)
                    .then(Timestamp::now);
                tx.save_case(&case).await?;
                tx.append_event(&events::case_updated(&case)).await?;
            }
            Ok(Ok(case))
        })
    })
    .await?
}

/// Move a conversation, with its interactions, to another case of the
/// same party or to a new case; returns the case it is in now.
pub async fn move_conversation(
    store: &Arc<dyn Store>,
    conversation: ConversationId,
    target: CaseTarget,
) -> Result<Case> {
    transact(&**store, move |tx| {
        Box::pin(async move {
            match move_in(tx, conversation, target).await {
                Err(PipelineError::Store(err)) => Err(err),
                other => Ok(other),
            }
        })
    })
    .await?
}

async fn move_in(
    tx: &mut dyn StoreTx,
    conversation: ConversationId,
    target: CaseTarget,
) -> Result<Case> {
    let Some(mut conv) = tx.conversation(conversation).await? else {
        return Err(PipelineError::NotFound {
            what: "conversation",
            id: conversation.to_string(),
        });
    };
    let mut to = match target {
        CaseTarget::Existing(id) => {
            let Some(case) = tx.case(id).await? else {
                return Err(not_found(id));
            };
            if case.party_id != conv.party_id {
                return Err(PipelineError::Invalid(format!(
                    "case {id} belongs to another party; merge the parties first"
                )));
            }
            case
        }
        CaseTarget::New => Case {
            last_activity_at: Some(conv.last_activity_at),
            ..Case::open(conv.party_id, conv.subject.clone(), Timestamp::now())
        },
    };
    if conv.case_id == Some(to.id) {
        return Ok(to);
    }
    if let Some(from_id) = conv.case_id
        && let Some(mut from) = tx.case(from_id).await?
    {
        from.conversation_ids.retain(|c| *c != conv.id);
        tx.save_case(&from).await?;
        tx.append_event(&events::case_updated(&from)).await?;
    }
    to.conversation_ids.push(conv.id);
    to.last_inbound_channel
        .get_or_insert(conv.channel_account_id);
    tx.save_case(&to).await?;
    if matches!(target, CaseTarget::New) {
        tx.append_event(&events::case_opened(&to)).await?;
    } else {
        tx.append_event(&events::case_updated(&to)).await?;
    }
    conv.case_id = Some(to.id);
    tx.save_conversation(&conv, &[]).await?;
    tx.move_conversation_interactions(conv.id, to.id).await?;
    Ok(to)
}

/// What a ticket should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRequest {
    /// Title; by default the case's subject.
    pub title: Option<String>,
    /// Description.
    pub description: String,
    /// Priority, in the system's words or Silta's (`low`, `normal`, `high`, `urgent`).
    pub priority: Option<String>,
}

/// Create the case's ticket in `backoffice` (or update it when the case
/// has one there); returns the ticket's link, kept on the case.
pub async fn upsert_ticket(
    store: &Arc<dyn Store>,
    backoffice: &Backoffice,
    case_id: CaseId,
    request: TicketRequest,
) -> Result<BackofficeLink> {
    let Some(case) = store.case(case_id).await? else {
        return Err(not_found(case_id));
    };
    let plugin = backoffice.plugin.id().to_string();
    let party_links = store.party_links(case.party_id).await?;
    // A case has one ticket: asking again updates it.
    let remote_id = case
        .backoffice_ticket
        .as_ref()
        .map(|link| link.remote_id.clone());
    let ticket = Ticket {
        remote_id,
        case_id: case.id.to_string(),
        party_links,
        title: request
            .title
            .or_else(|| case.subject.clone())
            .unwrap_or_else(|| format!("Case {}", case.id)),
        description: request.description,
        status: case.status.as_str().to_owned(),
        priority: request.priority,
    };
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        backoffice.settings.call_timeout,
        backoffice.plugin.upsert_ticket(&ticket),
    )
    .await;
    crate::metrics::backoffice_call(&plugin, "upsert_ticket", started.elapsed());
    let mut link = match answer {
        Ok(Ok(link)) => link,
        Ok(Err(err)) => {
            let failure = Failure::of(&err);
            return Err(PipelineError::Plugin {
                plugin,
                stage: "upsert_ticket",
                kind: failure.kind,
                message: failure.message,
                retry_after_seconds: failure.retry_after.map(|d| d.as_secs()),
            });
        }
        Err(_) => {
            return Err(PipelineError::Plugin {
                plugin,
                stage: "upsert_ticket",
                kind: "timeout".into(),
                message: "the back office did not answer in time".into(),
                retry_after_seconds: Some(5),
            });
        }
    };
    link.fetched_at = Some(Timestamp::now());
    let saved = link.clone();
    transact(&**store, move |tx| {
        Box::pin(async move {
            if let Some(mut case) = tx.case(case_id).await? {
                case.backoffice_ticket = Some(saved);
                tx.save_case(&case).await?;
                tx.append_event(&events::case_updated(&case)).await?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(link)
}

fn not_found(id: CaseId) -> PipelineError {
    PipelineError::NotFound {
        what: "case",
        id: id.to_string(),
    }
}
