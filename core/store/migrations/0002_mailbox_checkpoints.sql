-- Where each polled mailbox stands: the last UID journaled under the
-- mailbox's UIDVALIDITY. Written in the same transaction as the journal
-- entry of that message, so a restart neither re-ingests nor skips mail.
CREATE TABLE mailbox_checkpoints (
    channel_account TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel_account, mailbox)
);
