-- +goose Up
-- Signed webhook tokens seen (Mailgun: its signature covers a timestamp
-- and a token, not the event), with the SHA-256 of the body each came
-- with: a token seen again with another body is a forgery, with the same
-- body a retry. Kept as long as a signature's timestamp is accepted
-- (notify/webhook_tokens.go), so no replay outlives its memory, across
-- restarts.
CREATE TABLE webhook_tokens (
    provider    TEXT NOT NULL,
    token       TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    signed_at   TEXT NOT NULL,   -- the signature's timestamp, RFC 3339 UTC
    PRIMARY KEY (provider, token)
);
CREATE INDEX webhook_tokens_signed ON webhook_tokens(signed_at);

-- +goose Down
DROP TABLE webhook_tokens;
