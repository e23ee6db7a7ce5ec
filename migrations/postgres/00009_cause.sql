-- +goose Up
-- PostgreSQL twin of ../sqlite/00009_cause.sql.
ALTER TABLE incidents ADD COLUMN cause TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE incidents ADD COLUMN discovered_at TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN discovered_at;
ALTER TABLE incidents DROP COLUMN cause;
