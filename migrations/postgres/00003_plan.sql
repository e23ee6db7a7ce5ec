-- +goose Up
-- PostgreSQL twin of ../sqlite/00003_plan.sql.
CREATE TABLE plan_variants (
    incident_id     BIGINT NOT NULL REFERENCES incidents(id),
    variant         BIGINT NOT NULL,
    jurisdiction    TEXT NOT NULL,
    notify          BIGINT NOT NULL,
    channels        TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    deadline_kind   TEXT NOT NULL,
    content_profile TEXT NOT NULL,
    review          BIGINT NOT NULL,
    unreachable     BIGINT NOT NULL,
    reasons         TEXT NOT NULL,
    PRIMARY KEY (incident_id, variant)
);

CREATE TABLE plan_map (
    incident_id BIGINT NOT NULL,
    country     TEXT NOT NULL,
    region      TEXT NOT NULL,
    reach       BIGINT NOT NULL,
    variant     BIGINT NOT NULL,
    people      BIGINT NOT NULL,
    PRIMARY KEY (incident_id, country, region, reach)
);

CREATE TABLE plan_jurisdictions (
    incident_id   BIGINT NOT NULL REFERENCES incidents(id),
    jurisdiction  TEXT NOT NULL,
    people        BIGINT NOT NULL,
    owed          BIGINT NOT NULL,
    deadline      TEXT NOT NULL,
    regulator_due TEXT NOT NULL,
    cra_required  BIGINT NOT NULL,
    review        BIGINT NOT NULL,
    obligation    TEXT NOT NULL,
    PRIMARY KEY (incident_id, jurisdiction)
);

CREATE TABLE plans (
    incident_id BIGINT PRIMARY KEY REFERENCES incidents(id),
    made_at     TEXT NOT NULL,
    people      BIGINT NOT NULL,
    owed        BIGINT NOT NULL,
    review      BIGINT NOT NULL
);

-- +goose Down
DROP TABLE plans;
DROP TABLE plan_jurisdictions;
DROP TABLE plan_map;
DROP TABLE plan_variants;
