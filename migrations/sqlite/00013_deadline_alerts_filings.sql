-- +goose Up
-- Where the scheduler's deadline alerts go: the controller's security
-- team ('' = the contact email).
ALTER TABLE controllers ADD COLUMN security_email TEXT NOT NULL DEFAULT '';

-- One row per deadline alert raised (notify/watch.go): a deadline (an
-- incident's jurisdiction and duty and its due date) alerts once per
-- threshold crossed; the primary key is what makes it once. Written in the
-- same transaction as its deadline_alert ledger entry.
CREATE TABLE deadline_alerts (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    jurisdiction TEXT NOT NULL,
    duty         TEXT NOT NULL,        -- individuals, regulator, credit_bureaus
    due          TEXT NOT NULL,        -- YYYY-MM-DD
    threshold    TEXT NOT NULL,        -- Nd (due within N days), 1d, missed
    raised_at    TEXT NOT NULL,        -- the watch's clock, RFC 3339 UTC
    days_left    INTEGER NOT NULL,     -- negative once missed
    outstanding  INTEGER NOT NULL,     -- people not yet notified (individuals)
    emailed      INTEGER NOT NULL,     -- 1 when the alert email went out
    message_id   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, jurisdiction, duty, due, threshold)
);

-- Notices to regulators and credit bureaus (notify/regulator.go): the
-- draft the regulator-drafts job writes, and the filing as marked sent
-- (regulators sent), or, for a law that wants the regulator told before
-- the people, the recorded decision to send first anyway.
CREATE TABLE regulator_filings (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    jurisdiction TEXT NOT NULL,
    duty         TEXT NOT NULL,        -- regulator or credit_bureaus
    recipient    TEXT NOT NULL DEFAULT '',
    due          TEXT NOT NULL DEFAULT '',
    drafted_at   TEXT NOT NULL DEFAULT '',
    draft_text   TEXT NOT NULL DEFAULT '',
    draft_pdf    BLOB,
    draft_sha256 TEXT NOT NULL DEFAULT '',
    sent_on      TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD, '' = not sent
    sent_ref     TEXT NOT NULL DEFAULT '',
    waived_at    TEXT NOT NULL DEFAULT '', -- regulator-first waived by incident send
    PRIMARY KEY (incident_id, jurisdiction, duty)
);

-- +goose Down
DROP TABLE regulator_filings;
DROP TABLE deadline_alerts;
ALTER TABLE controllers DROP COLUMN security_email;
