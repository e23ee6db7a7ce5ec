-- +goose Up
-- Identity-theft-protection enrolment codes (offers import): one row per
-- code the provider issued for an incident. A code is given to at most one
-- person (account_id, NULL while unassigned) and a person of an incident
-- holds at most one code; the notice of that person prints it.
CREATE TABLE offer_codes (
    code        TEXT PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    provider    TEXT NOT NULL DEFAULT '',
    expires     TEXT NOT NULL DEFAULT '',   -- YYYY-MM-DD or ''
    account_id  TEXT,                       -- NULL: not yet assigned
    assigned_at TEXT NOT NULL DEFAULT '',   -- RFC 3339 UTC
    imported_at TEXT NOT NULL,
    seq         INTEGER NOT NULL            -- import order, for assigning leftovers in order
);
CREATE UNIQUE INDEX offer_codes_person ON offer_codes(incident_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX offer_codes_free ON offer_codes(incident_id, seq) WHERE account_id IS NULL;

-- +goose Down
DROP TABLE offer_codes;
