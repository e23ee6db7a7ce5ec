-- +goose Up
-- PostgreSQL twin of ../sqlite/00021_maybe_delivered.sql.
ALTER TABLE notices ADD COLUMN maybe_delivered INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE notices DROP COLUMN maybe_delivered;
