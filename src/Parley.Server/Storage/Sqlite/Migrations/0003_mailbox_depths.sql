-- Parley server schema v3 (SQLite): how many envelopes wait for each recipient, kept by triggers.
-- Every send checks the recipient's queue against the limit; counting the index entries made that
-- check O(queued). The triggers keep the count in the same transaction as the row they count, so
-- it cannot drift, whatever writes the envelopes (a send, an acknowledgement, a cascade).

CREATE TABLE mailbox_depths (
    recipient TEXT    NOT NULL PRIMARY KEY REFERENCES users (name) ON DELETE CASCADE,
    queued    INTEGER NOT NULL CHECK (queued >= 0)
) STRICT, WITHOUT ROWID;

INSERT INTO mailbox_depths (recipient, queued)
SELECT recipient, count(*) FROM envelopes GROUP BY recipient;

-- An insert skipped by ON CONFLICT DO NOTHING fires no trigger: a retried send is not counted twice.
CREATE TRIGGER envelopes_count_insert AFTER INSERT ON envelopes
BEGIN
    INSERT INTO mailbox_depths (recipient, queued) VALUES (NEW.recipient, 1)
    ON CONFLICT (recipient) DO UPDATE SET queued = queued + 1;
END;

CREATE TRIGGER envelopes_count_delete AFTER DELETE ON envelopes
BEGIN
    UPDATE mailbox_depths SET queued = queued - 1 WHERE recipient = OLD.recipient;
END;
