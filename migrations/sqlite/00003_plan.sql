-- +goose Up
-- A plan is stored as a few variants (one per distinct decision: the same
-- jurisdiction, channels, deadline, profile and reasons) and a map from
-- what a decision depends on to its variant, so a million people cost no
-- per-person rows at all.
CREATE TABLE plan_variants (
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    variant         INTEGER NOT NULL,
    jurisdiction    TEXT NOT NULL,
    notify          INTEGER NOT NULL,
    channels        TEXT NOT NULL,      -- comma-separated: email, letter
    deadline        TEXT NOT NULL,      -- YYYY-MM-DD or ''
    deadline_kind   TEXT NOT NULL,
    content_profile TEXT NOT NULL,
    review          INTEGER NOT NULL,
    unreachable     INTEGER NOT NULL,
    reasons         TEXT NOT NULL,      -- JSON array of {rule, text}
    PRIMARY KEY (incident_id, variant)
);

-- The decision for a person depends only on the residence and reach flags
-- stored with the affected row, so the plan maps each combination that
-- occurs to its variant; a person's decision is affected ⋈ plan_map.
CREATE TABLE plan_map (
    incident_id INTEGER NOT NULL,
    country     TEXT NOT NULL,
    region      TEXT NOT NULL,
    reach       INTEGER NOT NULL,
    variant     INTEGER NOT NULL,
    people      INTEGER NOT NULL,
    PRIMARY KEY (incident_id, country, region, reach)
) WITHOUT ROWID;

-- One row per jurisdiction: the law.Obligation as JSON, plus the columns
-- the deadline watch queries.
CREATE TABLE plan_jurisdictions (
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    jurisdiction  TEXT NOT NULL,
    people        INTEGER NOT NULL,
    owed          INTEGER NOT NULL,
    deadline      TEXT NOT NULL,
    regulator_due TEXT NOT NULL,
    cra_required  INTEGER NOT NULL,
    review        INTEGER NOT NULL,
    obligation    TEXT NOT NULL,
    PRIMARY KEY (incident_id, jurisdiction)
);

CREATE TABLE plans (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
    made_at     TEXT NOT NULL,
    people      INTEGER NOT NULL,
    owed        INTEGER NOT NULL,
    review      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE plans;
DROP TABLE plan_jurisdictions;
DROP TABLE plan_map;
DROP TABLE plan_variants;
