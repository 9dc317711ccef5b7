-- crmigrate control database, version 1: plans, runs, the audit log.
CREATE SCHEMA IF NOT EXISTS crmigrate;

CREATE TABLE crmigrate.plans (
    name         text PRIMARY KEY,
    content_hash text NOT NULL,
    path         text NOT NULL DEFAULT '',
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crmigrate.runs (
    id         bigserial PRIMARY KEY,
    plan       text NOT NULL REFERENCES crmigrate.plans (name),
    plan_hash  text NOT NULL DEFAULT '',
    phase      text NOT NULL,
    status     text NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'aborted', 'abandoned')),
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz,
    os_user    text NOT NULL DEFAULT '',
    host       text NOT NULL DEFAULT '',
    pid        integer NOT NULL DEFAULT 0,
    args       jsonb NOT NULL DEFAULT '[]',
    forced     boolean NOT NULL DEFAULT false,
    counts     jsonb NOT NULL DEFAULT '{}',
    error      text NOT NULL DEFAULT ''
);
CREATE INDEX runs_plan_phase ON crmigrate.runs (plan, phase, id DESC);

CREATE TABLE crmigrate.audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    plan    text NOT NULL,
    run_id  bigint REFERENCES crmigrate.runs (id),
    actor   text NOT NULL DEFAULT '',
    host    text NOT NULL DEFAULT '',
    action  text NOT NULL,
    detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_plan ON crmigrate.audit_log (plan, id);

-- The audit log is append-only.
CREATE FUNCTION crmigrate.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'crmigrate.audit_log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON crmigrate.audit_log
    FOR EACH ROW EXECUTE FUNCTION crmigrate.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON crmigrate.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION crmigrate.audit_log_append_only();
