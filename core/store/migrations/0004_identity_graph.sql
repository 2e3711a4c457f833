-- Merges of parties, back-office enrichment and lookups.

-- A merge is a record, never a delete; `reverted` once it was undone.
CREATE TABLE merges (
    id       TEXT    PRIMARY KEY,
    survivor TEXT    NOT NULL REFERENCES parties (id),
    at_ms    INTEGER NOT NULL,
    reverted INTEGER NOT NULL DEFAULT 0,
    data     TEXT    NOT NULL
);
-- Every party a merge touched (the survivor and the merged ones).
CREATE TABLE merge_parties (
    merge_id TEXT NOT NULL REFERENCES merges (id),
    party_id TEXT NOT NULL REFERENCES parties (id),
    PRIMARY KEY (merge_id, party_id)
);
CREATE INDEX merge_parties_by_party ON merge_parties (party_id);

-- Back-office work per interaction and plugin: look the party up (unless
-- a fresh lookup exists) and record the activity. Deleted when done.
CREATE TABLE enrichment_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    interaction_id  TEXT    NOT NULL REFERENCES interactions (id),
    plugin          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'failed')),
    last_error      TEXT,
    UNIQUE (interaction_id, plugin)
);
CREATE INDEX enrichment_due ON enrichment_jobs (plugin, state, next_attempt_ms);

-- When each back office last answered a lookup for a party (found or
-- not), and until when that answer is fresh.
CREATE TABLE party_lookups (
    party_id   TEXT    NOT NULL REFERENCES parties (id),
    plugin     TEXT    NOT NULL,
    fetched_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (party_id, plugin)
);

-- Which plugin a back-office link came from, so a new lookup replaces it.
ALTER TABLE backoffice_links ADD COLUMN plugin TEXT;
