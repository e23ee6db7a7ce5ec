-- +goose Up
-- Admin UI sessions (incident/session.go): the cookie holds a random id, the
-- table its SHA-256, so a copy of the database logs no one in. A session
-- ends at its idle or absolute expiry, at logout, or when its user is
-- disabled.
CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- +goose Down
DROP TABLE sessions;
