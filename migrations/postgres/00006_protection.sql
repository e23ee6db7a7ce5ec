-- +goose Up
-- PostgreSQL twin of ../sqlite/00006_protection.sql.
ALTER TABLE incidents ADD COLUMN protection_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN protection_url TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN protection_phone TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN protection_phone;
ALTER TABLE incidents DROP COLUMN protection_url;
ALTER TABLE incidents DROP COLUMN protection_provider;
