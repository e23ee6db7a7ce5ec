-- +goose Up
-- The months of identity theft protection an incident's offer runs for
-- (incident update --protection-months). 0: the months the law owes in
-- each jurisdiction (notify/law protection.tsv); a value is never shorter
-- than any jurisdiction of the plan owes (refused when set, and incident
-- send refuses to start while it is).
ALTER TABLE incidents ADD COLUMN protection_months INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE incidents DROP COLUMN protection_months;
