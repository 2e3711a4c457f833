-- Silta's embedded store. Records are kept as JSON documents in `data`
-- (the common contact format, exactly as the model serializes it); the
-- columns beside them are what queries filter, join and sort on.

-- Raw inbound events, exactly as received. `seq` is the order of
-- acceptance; processing replays entries whose state is `pending`.
CREATE TABLE journal (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_account TEXT    NOT NULL,
    received_at     TEXT    NOT NULL,
    transport       TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'done', 'dead')),
    processed_at    TEXT
);
CREATE INDEX journal_by_state ON journal (state, seq);

-- Our endpoints, by the name operators give them in the config.
CREATE TABLE channel_accounts (
    name       TEXT PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    plugin     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE parties (
    id          TEXT PRIMARY KEY,
    merged_into TEXT,
    created_ms  INTEGER NOT NULL,
    data        TEXT NOT NULL
);

-- Unique on (kind, scope, value): one identity, one party.
CREATE TABLE identities (
    id       TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    scope    TEXT NOT NULL,
    value    TEXT NOT NULL,
    party_id TEXT REFERENCES parties (id),
    data     TEXT NOT NULL,
    UNIQUE (kind, scope, value)
);
CREATE INDEX identities_by_party ON identities (party_id);

CREATE TABLE cases (
    id        TEXT PRIMARY KEY,
    party_id  TEXT NOT NULL REFERENCES parties (id),
    status    TEXT NOT NULL,
    opened_ms INTEGER NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX cases_by_party ON cases (party_id, status, opened_ms);

CREATE TABLE conversations (
    id              TEXT PRIMARY KEY,
    channel_account TEXT NOT NULL,
    party_id        TEXT NOT NULL REFERENCES parties (id),
    case_id         TEXT REFERENCES cases (id),
    data            TEXT NOT NULL
);
CREATE INDEX conversations_by_party ON conversations (party_id);
CREATE INDEX conversations_by_case ON conversations (case_id);

-- A thread key belongs to one conversation per channel account.
CREATE TABLE thread_keys (
    channel_account TEXT NOT NULL,
    key             TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    PRIMARY KEY (channel_account, key)
);

-- The idempotency key (channel account, provider, provider message id)
-- is unique: the same provider message is recorded once.
CREATE TABLE interactions (
    id                  TEXT PRIMARY KEY,
    idem_account        TEXT NOT NULL,
    idem_provider       TEXT NOT NULL,
    idem_message        TEXT NOT NULL,
    party_id            TEXT REFERENCES parties (id),
    conversation_id     TEXT REFERENCES conversations (id),
    case_id             TEXT REFERENCES cases (id),
    direction           TEXT NOT NULL,
    occurred_ms         INTEGER NOT NULL,
    provider_message_id TEXT,
    journal_seq         INTEGER,
    data                TEXT NOT NULL,
    UNIQUE (idem_account, idem_provider, idem_message)
);
CREATE INDEX interactions_by_party ON interactions (party_id, occurred_ms, id);
CREATE INDEX interactions_by_conversation ON interactions (conversation_id, occurred_ms, id);
CREATE INDEX interactions_by_case ON interactions (case_id, occurred_ms, id);
CREATE INDEX interactions_by_provider_id ON interactions (idem_account, provider_message_id);

-- Back-office records attached to parties (filled by back-office plugins).
CREATE TABLE backoffice_links (
    id       TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties (id),
    data     TEXT NOT NULL
);
CREATE INDEX backoffice_links_by_party ON backoffice_links (party_id);

-- Outbound messages waiting to be rendered and sent.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    interaction_id  TEXT    NOT NULL UNIQUE REFERENCES interactions (id),
    channel_account TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'done', 'dead')),
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);

-- POSTs that carried an Idempotency-Key header, and what they created.
CREATE TABLE api_idempotency (
    key            TEXT PRIMARY KEY,
    request_hash   TEXT NOT NULL,
    interaction_id TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

-- What failed, where, and why; replayable.
CREATE TABLE dead_letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source          TEXT    NOT NULL CHECK (source IN ('inbound', 'outbound')),
    journal_seq     INTEGER UNIQUE REFERENCES journal (seq),
    outbox_id       INTEGER UNIQUE REFERENCES outbox (id),
    channel_account TEXT    NOT NULL,
    plugin          TEXT    NOT NULL,
    stage           TEXT    NOT NULL,
    error_kind      TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 1,
    first_failed_at TEXT    NOT NULL,
    last_failed_at  TEXT    NOT NULL
);

-- Plugin key-value state, namespaced by plugin id.
CREATE TABLE plugin_kv (
    plugin TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BLOB NOT NULL,
    PRIMARY KEY (plugin, key)
);

-- Everything that happened, in order; the SSE stream and webhook
-- subscriptions read from here, so an event is never lost between a
-- commit and a subscriber.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT    NOT NULL UNIQUE,
    type    TEXT    NOT NULL,
    subject TEXT,
    time    TEXT    NOT NULL,
    data    TEXT    NOT NULL
);

-- Webhook subscribers; `cursor` is the last event seq they acknowledged.
CREATE TABLE webhook_subscriptions (
    id         TEXT    PRIMARY KEY,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    types      TEXT    NOT NULL,
    cursor     INTEGER NOT NULL,
    created_at TEXT    NOT NULL
);
