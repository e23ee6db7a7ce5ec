-- +goose Up
-- PostgreSQL twin of ../sqlite/00022_protection_months.sql.
ALTER TABLE incidents ADD COLUMN protection_months BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE incidents DROP COLUMN protection_months;
