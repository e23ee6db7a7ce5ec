-- +goose Up
-- The scheduler's runs (notify/jobs). A scheduled run claims its job's
-- window (the schedule's activation time) by inserting (job, run_window) in
-- one transaction: the primary key lets only one process have it, so a
-- restart never runs a window twice and two serve processes never both run
-- it. A run renews lease_until while it lives; a claim whose lease ran out
-- (a process that died) may be taken over. Manual runs (jobs run) get a
-- window of their own, 'manual:' and their start time.
CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    run_window  TEXT NOT NULL,            -- RFC 3339 UTC, or manual:<started_at>
    trigger     TEXT NOT NULL,            -- schedule, catch_up or manual
    owner       TEXT NOT NULL,            -- host/pid/random of the process
    clock       TEXT NOT NULL,            -- the now the job was given
    started_at  TEXT NOT NULL,            -- real time, RFC 3339 UTC
    lease_until TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,            -- running, ok or failed
    result      TEXT NOT NULL DEFAULT '', -- what the run did, or its error
    PRIMARY KEY (job, run_window)
);
CREATE INDEX job_runs_started ON job_runs(job, started_at);

-- +goose Down
DROP INDEX job_runs_started;
DROP TABLE job_runs;
