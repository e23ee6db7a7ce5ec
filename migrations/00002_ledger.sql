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

-- One row per entry: record is the entry's canonical encoding (its line in
-- an export's entries.jsonl); hashes are the tlog stored hashes that
-- appending it produced (tlog.StoredHashes: the leaf hash, then one hash per
-- subtree it completed, 32 bytes each), so stored hash (level L, node n)
-- lives in the row idx = (n+1)<<L - 1 at offset 32*L. incident_id and
-- account_id are copies for filtering.
CREATE TABLE ledger_entries (
    log_id      INTEGER NOT NULL REFERENCES ledger_logs(id),
    idx         INTEGER NOT NULL,
    incident_id INTEGER NOT NULL DEFAULT 0,
    account_id  TEXT NOT NULL DEFAULT '',
    record      BLOB NOT NULL,
    hashes      BLOB NOT NULL,
    PRIMARY KEY (log_id, idx)
) WITHOUT ROWID;
CREATE INDEX ledger_entries_incident ON ledger_entries(log_id, incident_id, idx) WHERE incident_id <> 0;
CREATE INDEX ledger_entries_account ON ledger_entries(log_id, account_id, idx) WHERE account_id <> '';

-- The log is append-only: refuse edits at the database too.
-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
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
DROP TRIGGER ledger_entries_no_delete;
DROP TRIGGER ledger_entries_no_update;
DROP TABLE ledger_entries;
DROP TABLE ledger_logs;
