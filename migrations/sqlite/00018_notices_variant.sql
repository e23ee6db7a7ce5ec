-- +goose Up
-- The claims of a run with regulator-held variants search the notices of
-- each variant they may send, instead of walking past the held ones.
CREATE INDEX notices_work_variant ON notices(incident_id, channel, state, variant);

-- +goose Down
DROP INDEX notices_work_variant;
