-- +goose Up
-- PostgreSQL twin of ../sqlite/00017_offer_codes.sql.
CREATE TABLE offer_codes (
    code        TEXT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    provider    TEXT NOT NULL DEFAULT '',
    expires     TEXT NOT NULL DEFAULT '',
    account_id  TEXT,
    assigned_at TEXT NOT NULL DEFAULT '',
    imported_at TEXT NOT NULL,
    seq         BIGINT NOT NULL
);
CREATE UNIQUE INDEX offer_codes_person ON offer_codes(incident_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX offer_codes_free ON offer_codes(incident_id, seq) WHERE account_id IS NULL;

-- +goose Down
DROP TABLE offer_codes;
