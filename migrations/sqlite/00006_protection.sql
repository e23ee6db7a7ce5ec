-- +goose Up
-- The identity-theft-protection offer an incident's notices print where
-- the law owes one (notify/law ProtectionFor): who provides it and how to
-- enrol. Empty: not yet arranged; the notices then say to contact the
-- controller.
ALTER TABLE incidents ADD COLUMN protection_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN protection_url TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN protection_phone TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN protection_phone;
ALTER TABLE incidents DROP COLUMN protection_url;
ALTER TABLE incidents DROP COLUMN protection_provider;
