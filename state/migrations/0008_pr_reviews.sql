-- crmigrate control database, version 8: the parallel run's authority reviews. A difference of a
-- field whose authority is review (or most_recent without change times) waits here for a person
-- to say which side is right; the next reconcile applies the decision. A decision holds for the
-- values it was made on: when either side's value changes, the review is pending again.

CREATE TABLE crmigrate.pr_reviews (
    id          bigserial PRIMARY KEY,
    plan        text NOT NULL,
    object      text NOT NULL,
    record      text NOT NULL,                  -- the golden id
    field       text NOT NULL,
    new_id      text NOT NULL DEFAULT '',
    old_value   text NOT NULL DEFAULT '',
    new_value   text NOT NULL DEFAULT '',
    why         text NOT NULL DEFAULT '',       -- why a person decides (the authority)
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'old', 'new')),
    first_run   bigint NOT NULL REFERENCES crmigrate.runs (id),
    last_run    bigint NOT NULL REFERENCES crmigrate.runs (id),
    decided_by  text NOT NULL DEFAULT '',
    decided_at  timestamptz,
    UNIQUE (plan, object, record, field)
);
