-- +goose Up
-- PostgreSQL twin of ../sqlite/00015_bounces.sql.
CREATE TABLE bounces (
    sha256      TEXT NOT NULL,
    notice_id   BIGINT NOT NULL REFERENCES notices(id),
    recipient   TEXT NOT NULL,
    status      TEXT NOT NULL,
    diagnostic  TEXT NOT NULL,
    matched_by  TEXT NOT NULL,
    arrived_at  TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    PRIMARY KEY (sha256, notice_id)
);
CREATE INDEX bounces_notice ON bounces(notice_id);

-- +goose Down
DROP TABLE bounces;
