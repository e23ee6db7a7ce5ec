-- +goose Up
-- PostgreSQL twin of ../sqlite/00018_notices_variant.sql.
CREATE INDEX notices_work_variant ON notices(incident_id, channel, state, variant);

-- +goose Down
DROP INDEX notices_work_variant;
