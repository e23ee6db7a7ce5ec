-- +goose Up
-- How a controller's notices go out by email (notify/sender.go): the DKIM
-- key that signs them (the PEM private key sealed like the ledger signing
-- keys, bound to the controller), its selector and the TXT record value to
-- publish, and the domain of the per-notice return path
-- (bounce+<notice>.<tag>@domain; '' = the From domain).
CREATE TABLE controller_email (
    controller_id  TEXT PRIMARY KEY REFERENCES controllers(id),
    dkim_selector  TEXT NOT NULL DEFAULT '',
    dkim_algorithm TEXT NOT NULL DEFAULT '',   -- rsa, ed25519
    dkim_record    TEXT NOT NULL DEFAULT '',   -- v=DKIM1; k=...; p=...
    dkim_sealed    BLOB,
    bounce_domain  TEXT NOT NULL DEFAULT '',
    updated_at     TEXT NOT NULL
);

-- +goose Down
DROP TABLE controller_email;
