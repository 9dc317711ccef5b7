-- crmigrate control database, version 12: the results of the integrations' verify actions against
-- the new CRM (`crmigrate cutover verify`): the go/no-go needs each one to have succeeded lately.

CREATE TABLE crmigrate.cutover_verifies (
    id          bigserial PRIMARY KEY,
    plan        text NOT NULL,
    run_id      bigint NOT NULL REFERENCES crmigrate.runs (id),
    integration text NOT NULL,
    ok          boolean NOT NULL,
    result      jsonb NOT NULL,            -- what the action did (no secrets)
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cutover_verifies_plan ON crmigrate.cutover_verifies (plan, integration, id DESC);
