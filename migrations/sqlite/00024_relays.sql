-- +goose Up
-- Several relays (incident send --smtp URL --smtp URL, --relays FILE):
-- each email notice names the relay its last attempt went through (host
-- and port, never user info; '' before any attempt, or for the outbox).
ALTER TABLE notices ADD COLUMN relay TEXT NOT NULL DEFAULT '';
-- Per incident and relay, the attempts' outcomes: one row per relay,
-- added to in the transaction that records the outcomes (notify/commit.go),
-- so the counts always agree with the ledger's email_sent, email_deferred
-- and email_failed entries.
CREATE TABLE relay_counts (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    relay       TEXT NOT NULL,
    sent        INTEGER NOT NULL DEFAULT 0,
    deferred    INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (incident_id, relay)
);

-- +goose Down
DROP TABLE relay_counts;
ALTER TABLE notices DROP COLUMN relay;
