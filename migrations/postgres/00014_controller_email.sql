-- +goose Up
-- PostgreSQL twin of ../sqlite/00014_controller_email.sql.
CREATE TABLE controller_email (
    controller_id  TEXT PRIMARY KEY REFERENCES controllers(id),
    dkim_selector  TEXT NOT NULL DEFAULT '',
    dkim_algorithm TEXT NOT NULL DEFAULT '',
    dkim_record    TEXT NOT NULL DEFAULT '',
    dkim_sealed    BYTEA,
    bounce_domain  TEXT NOT NULL DEFAULT '',
    updated_at     TEXT NOT NULL
);

-- +goose Down
DROP TABLE controller_email;
