-- Parley server schema v1 (SQLite). Applied once by DbUp, journaled in schema_versions.
-- Names arrive case-folded; times are Unix milliseconds (UTC); prekey ids are the client's uint32 ids.
-- A migration is never edited after release: change the schema with a new, higher-numbered script.

CREATE TABLE users (
    name               TEXT    NOT NULL PRIMARY KEY,
    signing_key        BLOB    NOT NULL,
    dh_key             BLOB    NOT NULL,
    dh_key_signature   BLOB    NOT NULL,
    certificate_pem    TEXT    NOT NULL,
    certificate_serial TEXT    NOT NULL,
    registered_at      INTEGER NOT NULL,
    revoked_at         INTEGER
) STRICT;

-- Only the SHA-256 hash of an invite is kept.
CREATE TABLE invites (
    hash       BLOB    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE TABLE signed_pre_keys (
    owner TEXT    NOT NULL PRIMARY KEY REFERENCES users (name) ON DELETE CASCADE,
    id    INTEGER NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  BLOB    NOT NULL
) STRICT;

CREATE TABLE last_resort_kem_pre_keys (
    owner TEXT    NOT NULL PRIMARY KEY REFERENCES users (name) ON DELETE CASCADE,
    id    INTEGER NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  BLOB    NOT NULL
) STRICT;

CREATE TABLE one_time_pre_keys (
    owner TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    id    INTEGER NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  BLOB    NOT NULL,
    PRIMARY KEY (owner, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE one_time_kem_pre_keys (
    owner TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    id    INTEGER NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  BLOB    NOT NULL,
    PRIMARY KEY (owner, id)
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: a sequence is never reused, even after the newest envelope is acknowledged.
-- UNIQUE (message_id, sender) makes a retried send idempotent; message_id leads so that an
-- acknowledgement (recipient, message_id) finds its row through the same index.
CREATE TABLE envelopes (
    sequence   INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BLOB    NOT NULL,
    sender     TEXT    NOT NULL,
    recipient  TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    body       BLOB    NOT NULL,
    server_ts  INTEGER NOT NULL,
    UNIQUE (message_id, sender)
) STRICT;

CREATE INDEX envelopes_recipient_sequence ON envelopes (recipient, sequence);
