-- crmigrate control database, version 11: cutover sign-offs. Each records who signed for a role
-- and the digest of the go/no-go evidence they saw; when the evidence changes afterwards, the
-- sign-off is stale and must be given again. Every sign-off is kept; the latest per role counts.

CREATE TABLE crmigrate.cutover_signoffs (
    id          bigserial PRIMARY KEY,
    plan        text NOT NULL,
    role        text NOT NULL,
    signed_by   text NOT NULL,
    note        text NOT NULL DEFAULT '',
    evidence    text NOT NULL,          -- digest of the checklist's evidence (calendar and sign-offs left out)
    os_user     text NOT NULL DEFAULT '',
    host        text NOT NULL DEFAULT '',
    signed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cutover_signoffs_plan_role ON crmigrate.cutover_signoffs (plan, role, id DESC);
