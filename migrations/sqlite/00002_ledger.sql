-- +goose Up
-- One row per controller's delivery ledger (see package notify/ledger).
-- size is the number of entries, so the next entry's index; edge holds the
-- right edge of the Merkle tree of that size (the hashes of the complete
-- subtrees whose sizes are the set bits of size, 32 bytes each, smallest
-- first), which is all an append needs to read. The signing key's private
-- half is stored sealed (AES-256-GCM under a key derived from the ledger
-- secret); public_key is its note verifier key.
CREATE TABLE ledger_logs (
    id             INTEGER PRIMARY KEY,
    controller_id  TEXT NOT NULL UNIQUE REFERENCES controllers(id),
    size           INTEGER NOT NULL DEFAULT 0,
    edge           BLOB NOT NULL DEFAULT x'',
    key_name       TEXT NOT NULL DEFAULT '',
    public_key     TEXT NOT NULL DEFAULT '',
    sealed_key     BLOB NOT NULL DEFAULT x'',
    key_created_at TEXT NOT NULL DEFAULT ''
);

-- The entries, in runs: each row holds up to 64 consecutive entries of one
-- log appended by the same call. id is log_id << 40 | the index of the run's
-- first entry, so a log's runs are one range of the rowid b-tree, in order,
-- and appending writes at its end. records is the run's entries' canonical
-- encodings, each followed by "\n" (exactly their lines in an export's
-- entries.jsonl); hashes is, for each entry in turn, the tlog stored hashes
-- appending it produced (tlog.StoredHashes: the leaf hash, then one hash per
-- subtree it completed, 32 bytes each), so stored hash index x of the log
-- sits at byte 32*(x - tlog.StoredHashIndex(0, first)) of its run's hashes.
-- hashes comes before records so reading it skips the records' overflow
-- pages. One row per run rather than per entry keeps appends cheap (the
-- per-row cost of SQLite dominates); readers filter by incident or account
-- by scanning the runs.
CREATE TABLE ledger_runs (
    id      INTEGER PRIMARY KEY,
    n       INTEGER NOT NULL CHECK (n > 0),
    hashes  BLOB NOT NULL,
    records BLOB NOT NULL
);

-- The log is append-only: refuse edits at the database too.
-- +goose StatementBegin
CREATE TRIGGER ledger_runs_no_update BEFORE UPDATE ON ledger_runs
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_runs_no_delete BEFORE DELETE ON ledger_runs
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
-- +goose StatementEnd

-- Signed checkpoints: note is a signed note over tlog.FormatTree(size, root).
-- Each is consistent with the one before it.
CREATE TABLE ledger_checkpoints (
    log_id     INTEGER NOT NULL REFERENCES ledger_logs(id),
    size       INTEGER NOT NULL,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (log_id, size)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE ledger_checkpoints;
DROP TRIGGER ledger_runs_no_delete;
DROP TRIGGER ledger_runs_no_update;
DROP TABLE ledger_runs;
DROP TABLE ledger_logs;
