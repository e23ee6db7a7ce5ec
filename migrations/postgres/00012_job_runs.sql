-- +goose Up
-- PostgreSQL twin of ../sqlite/00012_job_runs.sql.
CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    run_window  TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    owner       TEXT NOT NULL,
    clock       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    result      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job, run_window)
);
CREATE INDEX job_runs_started ON job_runs(job, started_at);

-- +goose Down
DROP INDEX job_runs_started;
DROP TABLE job_runs;
