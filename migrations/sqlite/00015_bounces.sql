-- +goose Up
-- Bounces imported (bounces import, notify/bounces.go): one row per bounce
-- message and notice, so importing the same message twice changes nothing.
-- sha256 is of the bounce message as read (line ends as LF); outcome says
-- what it did: letter_queued, unreachable (no letter possible: counts
-- towards substitute notice), temporary (a 4.x.x failure, recorded only),
-- recorded (a permanent failure on a notice no longer 'sent').
CREATE TABLE bounces (
    sha256      TEXT NOT NULL,
    notice_id   INTEGER NOT NULL REFERENCES notices(id),
    recipient   TEXT NOT NULL,
    status      TEXT NOT NULL,       -- RFC 3463, e.g. 5.1.1
    diagnostic  TEXT NOT NULL,
    matched_by  TEXT NOT NULL,       -- return-path, message-id
    arrived_at  TEXT NOT NULL,       -- '' when the report gives no time
    imported_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    PRIMARY KEY (sha256, notice_id)
);
CREATE INDEX bounces_notice ON bounces(notice_id);

-- +goose Down
DROP TABLE bounces;
