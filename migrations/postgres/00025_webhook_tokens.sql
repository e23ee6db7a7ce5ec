-- +goose Up
-- PostgreSQL twin of ../sqlite/00025_webhook_tokens.sql.
CREATE TABLE webhook_tokens (
    provider    TEXT NOT NULL,
    token       TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    signed_at   TEXT NOT NULL,
    PRIMARY KEY (provider, token)
);
CREATE INDEX webhook_tokens_signed ON webhook_tokens(signed_at);

-- +goose Down
DROP TABLE webhook_tokens;
