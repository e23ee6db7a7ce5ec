-- +goose Up
-- How a breach came about (incident.Cause: malicious, accidental,
-- lost_device, insider, unknown), which Japan's and Korea's rules turn on,
-- and the discovery's time of day with its zone (RFC 3339), which clocks
-- counted in hours run from; '' = a date alone, counted from the start of
-- the discovery date in UTC (incident.DiscoveryInstant).
ALTER TABLE incidents ADD COLUMN cause TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE incidents ADD COLUMN discovered_at TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN discovered_at;
ALTER TABLE incidents DROP COLUMN cause;
