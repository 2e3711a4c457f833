-- Attachment bytes by content hash (`sha256:<hex>`). Written in the same
-- transaction as the interaction that names them, so a stored interaction
-- never points at bytes that are missing; the same file sent twice is
-- stored once.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY NOT NULL,
    size INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    created_at TEXT NOT NULL
);
