-- crmigrate control database, version 6: the parallel run's snapshots and drift history.
--
-- A snapshot is a run of phase parallel-run (its report, in run_reports, is the snapshot's JSON);
-- pr_snapshots numbers it by parallel-run day. pr_drift holds every drift the snapshots found,
-- one row per (object, class, field, record) from the snapshot that first saw it to the one that
-- no longer did: its age and its closing time come from there. A snapshot and its changes to the
-- history are written in one transaction: there is never half a snapshot.

CREATE TABLE crmigrate.pr_snapshots (
    run_id      bigint PRIMARY KEY REFERENCES crmigrate.runs (id),
    plan        text NOT NULL,
    day         integer NOT NULL,            -- 1 = the date of the plan's first snapshot
    as_of       timestamptz NOT NULL,
    incremental boolean NOT NULL,
    dedup       boolean NOT NULL,            -- it ran the plan's dedup rules against the new CRM
    drift       bigint NOT NULL,             -- open drift after it (not in flight, not ignored)
    body        jsonb NOT NULL,              -- the snapshot (as the run's report, written with it)
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pr_snapshots_plan ON crmigrate.pr_snapshots (plan, as_of);

CREATE TABLE crmigrate.pr_drift (
    id          bigserial PRIMARY KEY,
    plan        text NOT NULL,
    object      text NOT NULL,
    class       text NOT NULL,
    field       text NOT NULL DEFAULT '',
    record      text NOT NULL,               -- the golden id, or new:ID for a record only in new
    state       text NOT NULL,               -- drift, in_flight or ignored, as last seen
    critical    boolean NOT NULL DEFAULT false,
    first_seen  timestamptz NOT NULL,
    first_day   integer NOT NULL,
    first_run   bigint NOT NULL,
    last_seen   timestamptz NOT NULL,
    last_day    integer NOT NULL,
    last_run    bigint NOT NULL,
    closed_at   timestamptz,                 -- the first snapshot that no longer saw it
    closed_day  integer,
    closed_run  bigint,
    detail      jsonb NOT NULL               -- the drift row as last seen
);
CREATE UNIQUE INDEX pr_drift_open ON crmigrate.pr_drift (plan, object, class, field, record) WHERE closed_at IS NULL;
CREATE INDEX pr_drift_closed ON crmigrate.pr_drift (plan, closed_run);
