-- +goose Up
-- The homepage banner and public notice page of an incident (notify/banner).
-- One banner per incident, owned by the incident's controller. Its content
-- and the exact bytes served are kept per revision, append-only, so what
-- was posted, and when, can be shown later: each revision's hashes are in
-- the banner_published / banner_updated / banner_withdrawn ledger entry
-- written in the same transaction.
CREATE TABLE banners (
    incident_id     INTEGER PRIMARY KEY REFERENCES incidents(id),
    controller_id   TEXT NOT NULL REFERENCES controllers(id),
    revision        INTEGER NOT NULL,       -- the current banner_revisions row
    published_at    TEXT NOT NULL,          -- RFC 3339, UTC
    required_days   INTEGER NOT NULL,       -- longest posting the plan requires
    required_by     TEXT NOT NULL,          -- the jurisdiction requiring it ('' = none)
    until           TEXT NOT NULL,          -- YYYY-MM-DD, last day shown; '' = no end
    withdrawn_at    TEXT NOT NULL DEFAULT '', -- '' = not withdrawn
    withdraw_reason TEXT NOT NULL DEFAULT '',
    forced          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX banners_controller ON banners(controller_id, published_at);

CREATE TABLE banner_revisions (
    incident_id INTEGER NOT NULL REFERENCES banners(incident_id),
    revision    INTEGER NOT NULL,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,   -- banner_published, banner_updated, banner_withdrawn
    content     TEXT NOT NULL,   -- the banner's content as given (JSON)
    banner_json BLOB NOT NULL,   -- the banner's object exactly as /banner.json serves it
    PRIMARY KEY (incident_id, revision)
);

-- The public notice page of each revision, per language and format, exactly
-- as served.
CREATE TABLE banner_pages (
    incident_id INTEGER NOT NULL,
    revision    INTEGER NOT NULL,
    lang        TEXT NOT NULL,
    format      TEXT NOT NULL,   -- html or txt
    body        BLOB NOT NULL,
    sha256      TEXT NOT NULL,
    PRIMARY KEY (incident_id, revision, lang, format),
    FOREIGN KEY (incident_id, revision) REFERENCES banner_revisions(incident_id, revision)
);

-- One row counting banner changes: every publish, update and withdrawal
-- bumps it in its transaction. A running server polls it (a primary-key
-- read) to notice changes other processes made.
CREATE TABLE banner_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO banner_version(id, version) VALUES (1, 0);

-- +goose Down
DROP TABLE banner_version;
DROP TABLE banner_pages;
DROP TABLE banner_revisions;
DROP INDEX banners_controller;
DROP TABLE banners;
