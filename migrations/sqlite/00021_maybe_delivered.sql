-- +goose Up
-- An email notice whose message may have reached the relay although no
-- attempt was recorded as delivered: an attempt broke after the end of
-- the message content was sent, before the relay's reply (notify.Result
-- MaybeDelivered). Sticky: the next attempt of the notice, a retry or an
-- incident send --retry-failed, is flagged possible_duplicate in the
-- ledger, as a re-send after an expired lease is; a notice refused with a
-- reply code is retried without the flag.
ALTER TABLE notices ADD COLUMN maybe_delivered INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE notices DROP COLUMN maybe_delivered;
