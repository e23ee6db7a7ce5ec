-- +goose Up
-- Mail-house letter batches (notify/letter/mailhouse): one row per batch
-- letters export wrote, in the transaction that marks its letters
-- exported. Its created_at is the export's time, whose day is the date
-- printed on the letters (a re-export with --again prints it again);
-- confirm and returned files count their letters here as they apply them.
-- Batches were kept as 'letters.export' audit rows before this table: they
-- are copied in below (their file name and digest were not recorded).
CREATE TABLE letter_batches (
    id            TEXT PRIMARY KEY,      -- B<incident>-<n>
    controller_id TEXT NOT NULL REFERENCES controllers(id),
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    created_at    TEXT NOT NULL,         -- RFC 3339 UTC, the export's clock
    file          TEXT NOT NULL DEFAULT '', -- the zip's base name
    sha256        TEXT NOT NULL DEFAULT '', -- hex digest of the zip
    letters       INTEGER NOT NULL,
    pages         INTEGER NOT NULL,
    mailed        INTEGER NOT NULL DEFAULT 0, -- letters confirmed mailed
    returned      INTEGER NOT NULL DEFAULT 0, -- letters returned to sender
    open          INTEGER NOT NULL,      -- letters still exported (neither mailed nor returned)
    -- exported: no letter settled yet; mailing: some; settled: every letter
    -- mailed or returned.
    state         TEXT NOT NULL GENERATED ALWAYS AS
                  (CASE WHEN open = 0 THEN 'settled' WHEN open < letters THEN 'mailing' ELSE 'exported' END) VIRTUAL
);
CREATE INDEX letter_batches_incident ON letter_batches(incident_id);

INSERT OR IGNORE INTO letter_batches(id, controller_id, incident_id, created_at, letters, pages, mailed, returned, open)
SELECT substr(a.object, 7), i.controller_id, i.id, a.at,
       coalesce(json_extract(a.detail, '$.letters'), 0), coalesce(json_extract(a.detail, '$.pages'), 0),
       (SELECT count(*) FROM notices n WHERE n.incident_id = i.id AND n.channel = 'letter' AND n.batch = substr(a.object, 7)
            AND (n.state = 'mailed' OR n.state = 'returned' AND n.final_at <> '')),
       (SELECT count(*) FROM notices n WHERE n.incident_id = i.id AND n.channel = 'letter' AND n.batch = substr(a.object, 7)
            AND n.state = 'returned'),
       (SELECT count(*) FROM notices n WHERE n.incident_id = i.id AND n.channel = 'letter' AND n.batch = substr(a.object, 7)
            AND n.state = 'exported')
FROM audit a JOIN incidents i ON i.id = json_extract(a.detail, '$.incident')
WHERE a.action = 'letters.export' AND a.object LIKE 'batch:%' AND json_valid(a.detail)
ORDER BY a.id;

-- +goose Down
DROP TABLE letter_batches;
