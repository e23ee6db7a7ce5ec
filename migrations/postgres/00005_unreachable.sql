-- +goose Up
-- PostgreSQL twin of ../sqlite/00005_unreachable.sql.
CREATE TABLE unreachable (
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    account_id  TEXT NOT NULL,
    variant     BIGINT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (incident_id, account_id)
);

-- +goose Down
DROP TABLE unreachable;
