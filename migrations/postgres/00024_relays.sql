-- +goose Up
-- PostgreSQL twin of ../sqlite/00024_relays.sql.
ALTER TABLE notices ADD COLUMN relay TEXT NOT NULL DEFAULT '';
CREATE TABLE relay_counts (
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    relay       TEXT NOT NULL,
    sent        BIGINT NOT NULL DEFAULT 0,
    deferred    BIGINT NOT NULL DEFAULT 0,
    failed      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (incident_id, relay)
);

-- +goose Down
DROP TABLE relay_counts;
ALTER TABLE notices DROP COLUMN relay;
