-- +goose Up
-- One notice per person per channel of an incident. Every state change of
-- a notice commits in the same transaction as its ledger entry.
--   email:  pending → sending → sent | deferred (retry_at) | failed
--   letter: queued → exported (in a mail-house batch) → mailed | returned;
--           unprintable when the address is incomplete.
CREATE TABLE notices (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id    INTEGER NOT NULL REFERENCES incidents(id),
    controller_id  TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'letter')),
    variant        INTEGER NOT NULL,          -- the plan variant (decision) it carries out
    address        TEXT NOT NULL DEFAULT '',  -- the email address, for email
    state          TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    retry_at       TEXT NOT NULL DEFAULT '',  -- RFC 3339, for deferred
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until    TEXT NOT NULL DEFAULT '',  -- RFC 3339, for sending
    message_id     TEXT NOT NULL DEFAULT '',
    content_sha256 TEXT NOT NULL DEFAULT '',
    last_code      INTEGER NOT NULL DEFAULT 0,
    last_reply     TEXT NOT NULL DEFAULT '',
    final_at       TEXT NOT NULL DEFAULT '',  -- sent, failed or mailed
    batch          TEXT NOT NULL DEFAULT '',  -- letters: the mail-house batch
    tracking       TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (incident_id, account_id, channel)
);
CREATE INDEX notices_work ON notices(incident_id, channel, state, retry_at);

-- +goose Down
DROP TABLE notices;
