-- Messages to one recipient on one channel account leave in the order they
-- were queued: an outbox item is due only when no earlier item to the same
-- recipient is still pending (in flight, waiting for a retry or for a rate
-- limit slot). The recipient is read from the payload, so rows queued
-- before this migration are ordered too.
ALTER TABLE outbox ADD COLUMN recipient TEXT
    GENERATED ALWAYS AS (json_extract(payload, '$.recipient.value')) VIRTUAL;
CREATE INDEX outbox_pending_by_recipient ON outbox (channel_account, recipient, id)
    WHERE state = 'pending';
