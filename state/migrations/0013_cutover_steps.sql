-- crmigrate control database, version 13: the journal of the integrations' switches: every step
-- (switch, verify, rollback) of `crmigrate cutover execute` and `rollback`, as it ended.

CREATE TABLE crmigrate.cutover_steps (
    id          bigserial PRIMARY KEY,
    plan        text NOT NULL,
    run_id      bigint NOT NULL REFERENCES crmigrate.runs (id),
    integration text NOT NULL,
    step        text NOT NULL CHECK (step IN ('switch', 'verify', 'rollback')),
    ok          boolean NOT NULL,
    result      jsonb NOT NULL,            -- what the action did (no secrets)
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cutover_steps_plan ON crmigrate.cutover_steps (plan, id);
