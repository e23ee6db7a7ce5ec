-- +goose Up
-- PostgreSQL twin of ../sqlite/00013_deadline_alerts_filings.sql.
ALTER TABLE controllers ADD COLUMN security_email TEXT NOT NULL DEFAULT '';

CREATE TABLE deadline_alerts (
    incident_id  BIGINT NOT NULL REFERENCES incidents(id),
    jurisdiction TEXT NOT NULL,
    duty         TEXT NOT NULL,
    due          TEXT NOT NULL,
    threshold    TEXT NOT NULL,
    raised_at    TEXT NOT NULL,
    days_left    BIGINT NOT NULL,
    outstanding  BIGINT NOT NULL,
    emailed      BIGINT NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, jurisdiction, duty, due, threshold)
);

CREATE TABLE regulator_filings (
    incident_id  BIGINT NOT NULL REFERENCES incidents(id),
    jurisdiction TEXT NOT NULL,
    duty         TEXT NOT NULL,
    recipient    TEXT NOT NULL DEFAULT '',
    due          TEXT NOT NULL DEFAULT '',
    drafted_at   TEXT NOT NULL DEFAULT '',
    draft_text   TEXT NOT NULL DEFAULT '',
    draft_pdf    BYTEA,
    draft_sha256 TEXT NOT NULL DEFAULT '',
    sent_on      TEXT NOT NULL DEFAULT '',
    sent_ref     TEXT NOT NULL DEFAULT '',
    waived_at    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, jurisdiction, duty)
);

-- +goose Down
DROP TABLE regulator_filings;
DROP TABLE deadline_alerts;
ALTER TABLE controllers DROP COLUMN security_email;
