-- +goose Up
-- PostgreSQL twin of ../sqlite/00011_sessions.sql.
CREATE TABLE sessions (
    id_hash    BYTEA PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- +goose Down
DROP TABLE sessions;
