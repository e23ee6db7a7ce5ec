-- +goose Up
-- PostgreSQL twin of ../sqlite/00007_banners.sql.
CREATE TABLE banners (
    incident_id     BIGINT PRIMARY KEY REFERENCES incidents(id),
    controller_id   TEXT NOT NULL REFERENCES controllers(id),
    revision        BIGINT NOT NULL,
    published_at    TEXT NOT NULL,
    required_days   BIGINT NOT NULL,
    required_by     TEXT NOT NULL,
    until           TEXT NOT NULL,
    withdrawn_at    TEXT NOT NULL DEFAULT '',
    withdraw_reason TEXT NOT NULL DEFAULT '',
    forced          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX banners_controller ON banners(controller_id, published_at);

CREATE TABLE banner_revisions (
    incident_id BIGINT NOT NULL REFERENCES banners(incident_id),
    revision    BIGINT NOT NULL,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    content     TEXT NOT NULL,
    banner_json BYTEA NOT NULL,
    PRIMARY KEY (incident_id, revision)
);

CREATE TABLE banner_pages (
    incident_id BIGINT NOT NULL,
    revision    BIGINT NOT NULL,
    lang        TEXT NOT NULL,
    format      TEXT NOT NULL,
    body        BYTEA NOT NULL,
    sha256      TEXT NOT NULL,
    PRIMARY KEY (incident_id, revision, lang, format),
    FOREIGN KEY (incident_id, revision) REFERENCES banner_revisions(incident_id, revision)
);

CREATE TABLE banner_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO banner_version(id, version) VALUES (1, 0);

-- +goose Down
DROP TABLE banner_version;
DROP TABLE banner_pages;
DROP TABLE banner_revisions;
DROP INDEX banners_controller;
DROP TABLE banners;
