-- +goose Up
CREATE TABLE controllers (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    member          INTEGER NOT NULL DEFAULT 0,
    from_email      TEXT NOT NULL,
    postal_address  TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    web             TEXT NOT NULL DEFAULT '',
    contact_email   TEXT NOT NULL DEFAULT '',
    dpo             TEXT NOT NULL DEFAULT '',
    policy_days     INTEGER NOT NULL DEFAULT 30,
    terms_e_consent INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);

CREATE TABLE courses (
    id        TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES controllers(id),
    title     TEXT NOT NULL DEFAULT '',
    import_run TEXT NOT NULL DEFAULT ''
);
CREATE INDEX courses_member ON courses(member_id);

-- import_run marks the import that last wrote a row, so a second row with
-- the same id in one file is detected by the upsert itself.
CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    locale       TEXT NOT NULL DEFAULT '',
    country      TEXT NOT NULL DEFAULT '',
    region       TEXT NOT NULL DEFAULT '',
    postal_line1 TEXT NOT NULL DEFAULT '',
    postal_line2 TEXT NOT NULL DEFAULT '',
    city         TEXT NOT NULL DEFAULT '',
    postal_code  TEXT NOT NULL DEFAULT '',
    -- reach: the incident.Reach* flags of the account with its own address
    -- (consent, retired, usable email, complete postal address), computed
    -- at import, so scoping the operator's copy copies one integer, and an
    -- import binds one value for the three flags below, which are read
    -- back as generated columns.
    -- The bits: 1 incident.ReachConsent, 2 ReachRetired, 4 ReachEmail,
    -- 8 ReachPostal, 16 ReachSameAddress (always set here: an account's
    -- own address).
    reach        INTEGER NOT NULL DEFAULT 0,
    e_consent    INTEGER GENERATED ALWAYS AS (reach & 1) VIRTUAL,       -- 1 = incident.ReachConsent
    status       TEXT GENERATED ALWAYS AS (CASE WHEN reach & 2 THEN 'retired' ELSE 'active' END) VIRTUAL, -- 2 = incident.ReachRetired
    email_usable INTEGER GENERATED ALWAYS AS ((reach >> 2) & 1) VIRTUAL, -- 4 = 1<<2 = incident.ReachEmail
    import_run   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE enrollments (
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    course_id    TEXT NOT NULL REFERENCES courses(id),
    email        TEXT NOT NULL DEFAULT '',
    email_usable INTEGER NOT NULL DEFAULT 0,
    import_run   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, course_id)
) WITHOUT ROWID;
CREATE INDEX enrollments_course ON enrollments(course_id, account_id);

CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    controller_id TEXT NOT NULL REFERENCES controllers(id),
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    discovered    TEXT NOT NULL,
    occurred_from TEXT NOT NULL DEFAULT '',
    occurred_to   TEXT NOT NULL DEFAULT '',
    elements      TEXT NOT NULL,
    encrypted     INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'open',
    hold_reason   TEXT NOT NULL DEFAULT '',
    hold_since    TEXT NOT NULL DEFAULT '',
    scope         TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX incidents_controller ON incidents(controller_id);

-- The affected set: one row per affected account. notice_email is where its
-- email notice goes when that is not the account's own address (a Member's
-- enrollment address); '' means the account's own. country, region and
-- reach (incident.Reach* flags) are what the law engine decides on, kept with the row when the scope is resolved, so a plan of a million
-- people needs no join. Rows are only ever written by scope's INSERT ...
-- SELECT from accounts after it checked the incident, so they carry no
-- foreign keys: a probe per row would cost as much as the insert.
CREATE TABLE affected (
    incident_id  INTEGER NOT NULL,
    account_id   TEXT NOT NULL,
    notice_email TEXT NOT NULL DEFAULT '',
    country      TEXT NOT NULL DEFAULT '',
    region       TEXT NOT NULL DEFAULT '',
    reach        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (incident_id, account_id)
) WITHOUT ROWID;

-- Every state-changing action, whoever made it.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit;
DROP TABLE affected;
DROP TABLE incidents;
DROP TABLE enrollments;
DROP TABLE accounts;
DROP TABLE courses;
DROP TABLE controllers;
