-- +goose Up
-- The people who use the admin UI and the API (incident/users.go). A member
-- user is scoped to one controller; security and legal users to none.
-- Secrets are never stored: password_hash is an argon2id PHC string ('' =
-- no password, API token only), token_hash the SHA-256 of the one API token
-- (NULL = none), shown once when issued.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('security', 'legal', 'member')),
    controller_id TEXT REFERENCES controllers(id),
    password_hash TEXT NOT NULL DEFAULT '',
    token_hash    BLOB UNIQUE,
    disabled_at   TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    CHECK ((role = 'member') = (controller_id IS NOT NULL))
);

-- +goose Down
DROP TABLE users;
