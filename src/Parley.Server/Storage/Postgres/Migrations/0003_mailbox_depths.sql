-- Parley server schema v3 (PostgreSQL): how many envelopes wait for each recipient, kept by a trigger.
-- Every send checks the recipient's queue against the limit; counting the index entries made that
-- check O(queued). The trigger keeps the count in the same transaction as the row it counts, so it
-- cannot drift. An enqueue already holds the recipient's advisory lock (taken in name order) when
-- it updates the count row, and an acknowledgement locks only one recipient's row, so the row
-- locks add no deadlock.

CREATE TABLE mailbox_depths (
    recipient text   NOT NULL PRIMARY KEY REFERENCES users (name) ON DELETE CASCADE,
    queued    bigint NOT NULL CHECK (queued >= 0)
);

LOCK TABLE envelopes IN SHARE MODE;

INSERT INTO mailbox_depths (recipient, queued)
SELECT recipient, count(*) FROM envelopes GROUP BY recipient;

CREATE FUNCTION mailbox_depths_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO mailbox_depths (recipient, queued) VALUES (NEW.recipient, 1)
        ON CONFLICT (recipient) DO UPDATE SET queued = mailbox_depths.queued + 1;
    ELSE
        UPDATE mailbox_depths SET queued = queued - 1 WHERE recipient = OLD.recipient;
    END IF;
    RETURN NULL;
END
$$;

-- An insert skipped by ON CONFLICT DO NOTHING fires no row trigger: a retried send is not counted twice.
CREATE TRIGGER envelopes_count AFTER INSERT OR DELETE ON envelopes
FOR EACH ROW EXECUTE FUNCTION mailbox_depths_follow();
