-- Parley server schema v1 (PostgreSQL). Applied once by DbUp, journaled in public.schema_versions.
-- Names arrive case-folded; prekey ids are the client's uint32 ids; server_ts is Unix milliseconds.
-- A migration is never edited after release: change the schema with a new, higher-numbered script.

CREATE TABLE users (
    name               text        NOT NULL PRIMARY KEY,
    signing_key        bytea       NOT NULL,
    dh_key             bytea       NOT NULL,
    dh_key_signature   bytea       NOT NULL,
    certificate_pem    text        NOT NULL,
    certificate_serial text        NOT NULL,
    registered_at      timestamptz NOT NULL,
    revoked_at         timestamptz
);

-- Only the SHA-256 hash of an invite is kept.
CREATE TABLE invites (
    hash       bytea       NOT NULL PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE TABLE signed_pre_keys (
    owner text   NOT NULL PRIMARY KEY REFERENCES users (name) ON DELETE CASCADE,
    id    bigint NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  bytea  NOT NULL
);

CREATE TABLE last_resort_kem_pre_keys (
    owner text   NOT NULL PRIMARY KEY REFERENCES users (name) ON DELETE CASCADE,
    id    bigint NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  bytea  NOT NULL
);

CREATE TABLE one_time_pre_keys (
    owner text   NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    id    bigint NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  bytea  NOT NULL,
    PRIMARY KEY (owner, id)
);

CREATE TABLE one_time_kem_pre_keys (
    owner text   NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    id    bigint NOT NULL CHECK (id BETWEEN 0 AND 4294967295),
    wire  bytea  NOT NULL,
    PRIMARY KEY (owner, id)
);

-- UNIQUE (message_id, sender) makes a retried send idempotent; message_id leads so that an
-- acknowledgement (recipient, message_id) finds its row through the same index.
CREATE TABLE envelopes (
    sequence   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id bytea  NOT NULL,
    sender     text   NOT NULL,
    recipient  text   NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    body       bytea  NOT NULL,
    server_ts  bigint NOT NULL,
    UNIQUE (message_id, sender)
);

CREATE INDEX envelopes_recipient_sequence ON envelopes (recipient, sequence);
