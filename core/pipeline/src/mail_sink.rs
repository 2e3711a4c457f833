//! Mail the IMAP transport fetched, into the inbound pipeline.
//!
//! Each message is accepted as a [pulled](Inbound::accept_pulled) event:
//! its journal entry and the mailbox's new checkpoint are one commit, and
//! a message the plugin cannot read is dead-lettered instead of stopping
//! the mailbox.

use std::sync::Arc;

use silta_email::{Checkpoint, FetchedMessage, MailSink, SinkError};
use silta_runtime::contract::TransportMeta;
use silta_store::Store;
use silta_store::records::MailboxCheckpoint;

use crate::inbound::{Inbound, PulledFrom};

/// The pipeline as the IMAP transport's [`MailSink`].
pub struct MailboxSink {
    inbound: Arc<Inbound>,
    store: Arc<dyn Store>,
}

impl MailboxSink {
    /// A sink that accepts into `inbound` and reads checkpoints from `store`.
    #[must_use]
    pub fn new(inbound: Arc<Inbound>, store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self { inbound, store })
    }
}

#[async_trait::async_trait]
impl MailSink for MailboxSink {
    async fn deliver(&self, message: FetchedMessage) -> Result<(), SinkError> {
        let from = PulledFrom {
            mailbox: message.mailbox.clone(),
            checkpoint: MailboxCheckpoint {
                uid_validity: message.uid_validity,
                last_uid: message.uid,
            },
        };
        let transport = TransportMeta::Imap {
            mailbox: message.mailbox,
            uid_validity: message.uid_validity,
            uid: message.uid,
            flags: message.flags,
        };
        let accepted = self
            .inbound
            .accept_pulled(&message.account, transport, message.raw, from)
            .await
            .map_err(|err| SinkError::with_source("journaling a fetched message", err))?;
        if accepted.dead_lettered {
            tracing::warn!(
                channel_account = %message.account,
                uid = message.uid,
                journal_seq = accepted.journal_seq,
                "the plugin could not read a fetched message; it is in the dead-letter queue"
            );
        }
        Ok(())
    }

    async fn checkpoint(
        &self,
        account: &str,
        mailbox: &str,
    ) -> Result<Option<Checkpoint>, SinkError> {
        let channel = self
            .inbound
            .channels()
            .get(account)
            .map_err(|err| SinkError::with_source("finding the channel account", err))?;
        let stored = self
            .store
            .mailbox_checkpoint(channel.record.id, mailbox)
            .await
            .map_err(|err| SinkError::with_source("reading the mailbox checkpoint", err))?;
        Ok(stored.map(|c| Checkpoint {
            uid_validity: c.uid_validity,
            last_uid: c.last_uid,
        }))
    }
}
