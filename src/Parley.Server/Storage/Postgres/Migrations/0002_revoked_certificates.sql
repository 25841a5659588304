-- Parley server schema v2 (PostgreSQL): every revoked certificate, kept forever.
-- A revoked name may be registered again with a new identity (a lost device); that replaces the
-- users row, so the revocation list is built from this table, never from users. No foreign key:
-- a row outlives the identity it revoked. signing_key is the revoked identity, which may never
-- register again, under any name.

CREATE TABLE revoked_certificates (
    serial      text        NOT NULL PRIMARY KEY,
    name        text        NOT NULL,
    revoked_at  timestamptz NOT NULL,
    signing_key bytea       NOT NULL
);

CREATE INDEX revoked_certificates_signing_key ON revoked_certificates (signing_key);

-- The certificates revoked before this table existed.
INSERT INTO revoked_certificates (serial, name, revoked_at, signing_key)
SELECT certificate_serial, name, revoked_at, signing_key FROM users WHERE revoked_at IS NOT NULL
ON CONFLICT (serial) DO NOTHING;
