-- +goose Up
-- People owed notice whom the plan found no direct channel for (a retired
-- account, no usable email and no complete postal address): recorded once
-- when sending starts, each with a notice_unreachable ledger entry, and
-- counted towards substitute notice.
CREATE TABLE unreachable (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    account_id  TEXT NOT NULL,
    variant     INTEGER NOT NULL,  -- the plan variant that found them unreachable
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (incident_id, account_id)
);

-- +goose Down
DROP TABLE unreachable;
