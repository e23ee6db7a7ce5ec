-- +goose Up
-- PostgreSQL twin of ../sqlite/00016_letter_batches.sql. The SQLite migration
-- also copies batches kept as audit rows before it; a PostgreSQL store
-- starts at this schema, so it has none to copy.
CREATE TABLE letter_batches (
    id            TEXT PRIMARY KEY,
    controller_id TEXT NOT NULL REFERENCES controllers(id),
    incident_id   BIGINT NOT NULL REFERENCES incidents(id),
    created_at    TEXT NOT NULL,
    file          TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL DEFAULT '',
    letters       BIGINT NOT NULL,
    pages         BIGINT NOT NULL,
    mailed        BIGINT NOT NULL DEFAULT 0,
    returned      BIGINT NOT NULL DEFAULT 0,
    open          BIGINT NOT NULL,
    state         TEXT NOT NULL GENERATED ALWAYS AS
                  (CASE WHEN open = 0 THEN 'settled' WHEN open < letters THEN 'mailing' ELSE 'exported' END) STORED
);
CREATE INDEX letter_batches_incident ON letter_batches(incident_id);

-- +goose Down
DROP TABLE letter_batches;
